-- +goose Up
-- Auto-distribution (issue 11): each project's distribution settings and
-- the lease of its dispatcher; each manager's availability and what the
-- distribution last gave them; on each dialog, when it got its manager,
-- when it entered the queue and its place there (the reply deadline, or
-- the arrival without limits), the reply limit's state during the
-- customer's wait and who missed it.
ALTER TABLE projects ADD COLUMN distribution TEXT NOT NULL DEFAULT '{}';
ALTER TABLE projects ADD COLUMN routing_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN routing_until BIGINT NOT NULL DEFAULT 0;

ALTER TABLE conversations ADD COLUMN assigned_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN queued_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN queue_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN reply_state BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN missed_by TEXT NOT NULL DEFAULT '';

UPDATE conversations SET queued_at = created_at, queue_due = created_at
WHERE project_id <> 0 AND status = 'open' AND assignee_id = 0;

-- The queue, oldest (or most overdue) first; the managers' and projects'
-- loads; the reply limits' timers.
CREATE INDEX conversations_queue ON conversations (project_id, level, queue_due, id)
    WHERE project_id <> 0 AND status = 'open' AND assignee_id = 0;
CREATE INDEX conversations_load ON conversations (assignee_id)
    WHERE project_id <> 0 AND status = 'open' AND assignee_id <> 0;
CREATE INDEX conversations_project_load ON conversations (project_id)
    WHERE project_id <> 0 AND status = 'open' AND assignee_id <> 0;
CREATE INDEX conversations_reply ON conversations (project_id, reply_state, waiting_since, id)
    WHERE waiting_since <> 0;

CREATE TABLE agents (
    user_id          BIGINT PRIMARY KEY,
    availability     TEXT    NOT NULL DEFAULT 'available',
    updated_at       BIGINT NOT NULL DEFAULT 0,
    last_assigned_at BIGINT NOT NULL DEFAULT 0,
    burst_at         BIGINT NOT NULL DEFAULT 0,
    burst_count      BIGINT NOT NULL DEFAULT 0
);

-- Why a project's queue waits ("all 4 managers at capacity"), per level.
CREATE TABLE routing_queues (
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    level      BIGINT NOT NULL,
    note       TEXT    NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, level)
);

-- Each decision of the distribution, with the snapshot it was made on
-- (every candidate): its system line carries only the outcome, and clients
-- read the whole when someone asks why.
CREATE TABLE routing_decisions (
    message_id      BIGINT PRIMARY KEY,
    conversation_id BIGINT NOT NULL,
    decision        TEXT    NOT NULL
);
CREATE INDEX routing_decisions_conversation ON routing_decisions (conversation_id);

-- +goose Down
DROP TABLE routing_decisions;
DROP TABLE routing_queues;
DROP TABLE agents;
DROP INDEX conversations_reply;
DROP INDEX conversations_project_load;
DROP INDEX conversations_load;
DROP INDEX conversations_queue;
ALTER TABLE conversations DROP COLUMN missed_by;
ALTER TABLE conversations DROP COLUMN reply_state;
ALTER TABLE conversations DROP COLUMN queue_due;
ALTER TABLE conversations DROP COLUMN queued_at;
ALTER TABLE conversations DROP COLUMN assigned_at;
ALTER TABLE projects DROP COLUMN routing_until;
ALTER TABLE projects DROP COLUMN routing_owner;
ALTER TABLE projects DROP COLUMN distribution;
