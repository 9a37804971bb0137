-- +goose Up
-- Hardening (issue 13): the audit log of sensitive actions; customers'
-- data rights (an erased customer keeps a tombstone row, so that their
-- old widget token is refused and erasing again changes nothing); the
-- retention of closed dialogs per project, with its job's lease and the
-- state of its current run; and the blobs whose rows are gone but whose
-- bytes are still to be deleted (written in the transaction that drops
-- the rows, emptied once the blob store has deleted them).
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor_id    INTEGER NOT NULL DEFAULT 0,
    actor_name  TEXT    NOT NULL DEFAULT '',
    action      TEXT    NOT NULL,
    target_type TEXT    NOT NULL DEFAULT '',
    target_id   INTEGER NOT NULL DEFAULT 0,
    detail      TEXT    NOT NULL DEFAULT '{}',
    client_addr TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, id);

ALTER TABLE contacts ADD COLUMN erased_at INTEGER NOT NULL DEFAULT 0;

ALTER TABLE projects ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN retention_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN retention_until INTEGER NOT NULL DEFAULT 0;

CREATE TABLE retention_runs (
    project_id INTEGER PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    cutoff     INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    dialogs    INTEGER NOT NULL DEFAULT 0,
    files      INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX conversations_closed ON conversations (project_id, closed_at, id)
    WHERE project_id <> 0 AND status = 'closed';

CREATE TABLE blob_trash (
    key        TEXT    PRIMARY KEY,
    created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE blob_trash;
DROP INDEX conversations_closed;
DROP TABLE retention_runs;
ALTER TABLE projects DROP COLUMN retention_until;
ALTER TABLE projects DROP COLUMN retention_owner;
ALTER TABLE projects DROP COLUMN retention_days;
ALTER TABLE contacts DROP COLUMN erased_at;
DROP TABLE audit_log;
