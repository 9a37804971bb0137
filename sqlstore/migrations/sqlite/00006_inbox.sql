-- +goose Up
-- The support inbox (seed 003) on the support conversations live chat
-- already has: the manager in charge, the channel, what the dialog list
-- sorts and filters by (last communication, who wrote it, since when the
-- customer waits for an answer), blocked customers, tags, quick replies and
-- the projects' reply time limits.
ALTER TABLE conversations ADD COLUMN assignee_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN channel TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN activity_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN last_from TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN waiting_since INTEGER NOT NULL DEFAULT 0;

UPDATE conversations SET channel = 'widget', activity_at = last_message_at WHERE project_id <> 0;
UPDATE conversations SET last_from = COALESCE((
    SELECT CASE WHEN m.contact_id <> 0 THEN 'customer' ELSE 'manager' END FROM messages m
    WHERE m.conversation_id = conversations.id AND m.kind IN ('text', 'file') ORDER BY m.seq DESC LIMIT 1), '')
WHERE project_id <> 0;
UPDATE conversations SET waiting_since = COALESCE((
    SELECT MIN(m.created_at) FROM messages m
    WHERE m.conversation_id = conversations.id AND m.contact_id <> 0 AND m.kind IN ('text', 'file')
      AND m.seq > COALESCE((SELECT MAX(a.seq) FROM messages a WHERE a.conversation_id = conversations.id
                            AND a.contact_id = 0 AND a.kind IN ('text', 'file')), 0)), 0)
WHERE project_id <> 0 AND status = 'open';
-- Every user who has been in charge of a dialog and is not any more, other
-- than by closing: who the seed's "previous manager" rule applies to.
CREATE TABLE dialog_revoked (
    conversation_id INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;

DROP INDEX conversations_project;
CREATE INDEX conversations_activity ON conversations (project_id, activity_at, id) WHERE project_id <> 0;
CREATE INDEX conversations_waiting ON conversations (project_id, waiting_since, id) WHERE project_id <> 0 AND waiting_since <> 0;
CREATE INDEX conversations_assignee ON conversations (assignee_id, activity_at, id) WHERE project_id <> 0;

ALTER TABLE contacts ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN reply_limits TEXT NOT NULL DEFAULT '{}';

CREATE TABLE tags (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    color      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX tags_name ON tags (lower(name));

CREATE TABLE contact_tags (
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    tag_id     INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    pinned     INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (contact_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX contact_tags_tag ON contact_tags (tag_id, pinned, contact_id);

-- A manager's own quick replies; a project's are its shortcuts (projects.messages).
CREATE TABLE quick_replies (
    id         INTEGER PRIMARY KEY,
    owner_id   INTEGER NOT NULL,
    shortcut   TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX quick_replies_owner ON quick_replies (owner_id, shortcut);

-- +goose Down
DROP TABLE quick_replies;
DROP TABLE contact_tags;
DROP TABLE tags;
ALTER TABLE projects DROP COLUMN reply_limits;
ALTER TABLE contacts DROP COLUMN blocked;
DROP INDEX conversations_assignee;
DROP INDEX conversations_waiting;
DROP INDEX conversations_activity;
CREATE INDEX conversations_project ON conversations (project_id, last_message_at) WHERE project_id <> 0;
DROP TABLE dialog_revoked;
ALTER TABLE conversations DROP COLUMN waiting_since;
ALTER TABLE conversations DROP COLUMN last_from;
ALTER TABLE conversations DROP COLUMN activity_at;
ALTER TABLE conversations DROP COLUMN channel;
ALTER TABLE conversations DROP COLUMN assignee_id;
