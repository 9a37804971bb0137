-- +goose Up
-- Tasks (issue 14, seed 001): a task is a case of kind 'task' (one model,
-- docs/decisions.md "Tasks and cases") with an assignee, a due date and a
-- once-only due notification; it may belong to no project, so project_id
-- becomes nullable. SQLite cannot drop NOT NULL in place: cases and its
-- comments are rebuilt (children copied into a table that references the
-- new parent, then the old ones dropped, child first, and the new ones
-- renamed, which rewrites the reference).
CREATE TABLE cases_new (
    id              INTEGER PRIMARY KEY,
    project_id      INTEGER REFERENCES projects (id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL DEFAULT 0,
    contact_id      INTEGER NOT NULL DEFAULT 0,
    source          TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    fields          TEXT    NOT NULL DEFAULT '{}',
    created_by      INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    closed_at       INTEGER NOT NULL DEFAULT 0,
    closed_by       INTEGER NOT NULL DEFAULT 0,
    kind            TEXT    NOT NULL DEFAULT 'case',
    assignee_id     INTEGER NOT NULL DEFAULT 0,
    due_at          INTEGER NOT NULL DEFAULT 0,
    due_fired_at    INTEGER NOT NULL DEFAULT 0,
    parent_id       INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO cases_new (id, project_id, conversation_id, contact_id, source, status, title, description, fields,
    created_by, created_at, closed_at, closed_by)
    SELECT id, project_id, conversation_id, contact_id, source, status, title, description, fields,
    created_by, created_at, closed_at, closed_by FROM cases;

CREATE TABLE case_comments_new (
    id              INTEGER PRIMARY KEY,
    case_id         INTEGER NOT NULL REFERENCES cases_new (id) ON DELETE CASCADE,
    author_id       INTEGER NOT NULL DEFAULT 0,
    contact_id      INTEGER NOT NULL DEFAULT 0,
    text            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    message_id      INTEGER NOT NULL DEFAULT 0,
    conversation_id INTEGER NOT NULL DEFAULT 0
);
INSERT INTO case_comments_new (id, case_id, author_id, contact_id, text, created_at)
    SELECT id, case_id, author_id, contact_id, text, created_at FROM case_comments;

DROP TABLE case_comments;
DROP TABLE cases;
ALTER TABLE cases_new RENAME TO cases;
ALTER TABLE case_comments_new RENAME TO case_comments;
CREATE INDEX cases_project ON cases (project_id, status, id);
CREATE INDEX cases_conversation ON cases (conversation_id);
CREATE INDEX case_comments_case ON case_comments (case_id, id);
CREATE INDEX cases_assignee ON cases (assignee_id, id) WHERE kind = 'task';
CREATE INDEX cases_creator ON cases (created_by, id) WHERE kind = 'task';
CREATE INDEX cases_due ON cases (due_at) WHERE kind = 'task' AND due_at <> 0 AND due_fired_at = 0;

-- A customer card's history: notes, such as a message moved "to table".
CREATE TABLE contact_notes (
    id              INTEGER PRIMARY KEY,
    contact_id      INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    author_id       INTEGER NOT NULL DEFAULT 0,
    text            TEXT    NOT NULL,
    message_id      INTEGER NOT NULL DEFAULT 0,
    conversation_id INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE INDEX contact_notes_contact ON contact_notes (contact_id, id);

-- Where a message was moved to: the message stays, marked.
CREATE TABLE message_links (
    id              INTEGER PRIMARY KEY,
    message_id      INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL,
    target          TEXT    NOT NULL,
    target_id       INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX message_links_conversation ON message_links (conversation_id, message_id);

-- +goose Down
DROP TABLE message_links;
DROP TABLE contact_notes;
DROP INDEX cases_due;
DROP INDEX cases_creator;
DROP INDEX cases_assignee;
ALTER TABLE case_comments DROP COLUMN conversation_id;
ALTER TABLE case_comments DROP COLUMN message_id;
DELETE FROM cases WHERE kind = 'task';
ALTER TABLE cases DROP COLUMN updated_at;
ALTER TABLE cases DROP COLUMN parent_id;
ALTER TABLE cases DROP COLUMN due_fired_at;
ALTER TABLE cases DROP COLUMN due_at;
ALTER TABLE cases DROP COLUMN assignee_id;
ALTER TABLE cases DROP COLUMN kind;
