-- +goose Up
-- Live chat with website visitors (seeds 002, 004): projects, their
-- specialists, contacts, support conversations, cases and ratings.
CREATE TABLE projects (
    id               INTEGER PRIMARY KEY,
    name             TEXT    NOT NULL,
    key              TEXT    NOT NULL UNIQUE,
    secret           TEXT    NOT NULL,
    origins          TEXT    NOT NULL DEFAULT '[]',
    chat_enabled     INTEGER NOT NULL DEFAULT 1,
    hours            TEXT    NOT NULL DEFAULT '{}',
    messages         TEXT    NOT NULL DEFAULT '{}',
    prechat          TEXT    NOT NULL DEFAULT '[]',
    case_template_id INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

CREATE TABLE specialists (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL DEFAULT 0,
    group_id   INTEGER NOT NULL DEFAULT 0,
    level      INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (project_id, user_id, group_id)
);

-- Every user serving a project, directly or through a group, at each level.
CREATE VIEW project_staff AS
    SELECT project_id, user_id, level FROM specialists WHERE user_id <> 0
    UNION
    SELECT s.project_id, g.user_id, s.level FROM specialists s JOIN group_members g ON g.group_id = s.group_id
    WHERE s.group_id <> 0;

CREATE TABLE contacts (
    id           INTEGER PRIMARY KEY,
    project_id   INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    external_id  TEXT,
    name         TEXT    NOT NULL DEFAULT '',
    email        TEXT    NOT NULL DEFAULT '',
    phone        TEXT    NOT NULL DEFAULT '',
    page_url     TEXT    NOT NULL DEFAULT '',
    referrer     TEXT    NOT NULL DEFAULT '',
    utm_source   TEXT    NOT NULL DEFAULT '',
    attributes   TEXT    NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX contacts_external ON contacts (project_id, external_id) WHERE external_id IS NOT NULL;

ALTER TABLE conversations ADD COLUMN project_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN contact_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN level INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN transfer_to INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN contact_read_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN closed_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX conversations_project ON conversations (project_id, last_message_at) WHERE project_id <> 0;
CREATE INDEX conversations_contact ON conversations (contact_id, id) WHERE contact_id <> 0;

-- A visitor's messages have sender 0 and their contact; client ids are
-- unique per sender, user or contact.
ALTER TABLE messages ADD COLUMN contact_id INTEGER NOT NULL DEFAULT 0;
DROP INDEX messages_client;
CREATE UNIQUE INDEX messages_client ON messages (sender_id, contact_id, client_id) WHERE client_id IS NOT NULL;

-- Files may now be a visitor's: the owner is a user or a contact.
CREATE TABLE files_new (
    id              INTEGER PRIMARY KEY,
    owner_id        INTEGER NOT NULL DEFAULT 0,
    contact_id      INTEGER NOT NULL DEFAULT 0,
    conversation_id INTEGER NOT NULL DEFAULT 0,
    message_id      INTEGER NOT NULL DEFAULT 0,
    name            TEXT    NOT NULL,
    content_type    TEXT    NOT NULL,
    size            INTEGER NOT NULL,
    width           INTEGER NOT NULL DEFAULT 0,
    height          INTEGER NOT NULL DEFAULT 0,
    has_thumb       INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
INSERT INTO files_new (id, owner_id, conversation_id, message_id, name, content_type, size, width, height, has_thumb, created_at)
    SELECT id, owner_id, conversation_id, message_id, name, content_type, size, width, height, has_thumb, created_at FROM files;
DROP TABLE files;
ALTER TABLE files_new RENAME TO files;

-- Stream routing: project events reach the project's staff, contact events
-- (the visitor's own projection) only that visitor.
ALTER TABLE events ADD COLUMN project_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN contact_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX events_project ON events (project_id, id) WHERE project_id <> 0;
CREATE INDEX events_contact ON events (contact_id, id) WHERE contact_id <> 0;

CREATE TABLE case_templates (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    fields     TEXT    NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL
);

CREATE TABLE cases (
    id              INTEGER PRIMARY KEY,
    project_id      INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
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
    closed_by       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX cases_project ON cases (project_id, status, id);
CREATE INDEX cases_conversation ON cases (conversation_id);

CREATE TABLE case_comments (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    author_id  INTEGER NOT NULL DEFAULT 0,
    contact_id INTEGER NOT NULL DEFAULT 0,
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX case_comments_case ON case_comments (case_id, id);

CREATE TABLE ratings (
    conversation_id INTEGER PRIMARY KEY,
    contact_id      INTEGER NOT NULL,
    project_id      INTEGER NOT NULL,
    score           INTEGER NOT NULL,
    comment         TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
);

-- +goose Down
DROP TABLE ratings;
DROP TABLE case_comments;
DROP TABLE cases;
DROP TABLE case_templates;
DROP INDEX events_contact;
DROP INDEX events_project;
ALTER TABLE events DROP COLUMN contact_id;
ALTER TABLE events DROP COLUMN project_id;
DROP INDEX messages_client;
ALTER TABLE messages DROP COLUMN contact_id;
CREATE UNIQUE INDEX messages_client ON messages (sender_id, client_id) WHERE client_id IS NOT NULL;
DROP INDEX conversations_contact;
DROP INDEX conversations_project;
ALTER TABLE conversations DROP COLUMN closed_at;
ALTER TABLE conversations DROP COLUMN contact_read_seq;
ALTER TABLE conversations DROP COLUMN transfer_to;
ALTER TABLE conversations DROP COLUMN level;
ALTER TABLE conversations DROP COLUMN status;
ALTER TABLE conversations DROP COLUMN contact_id;
ALTER TABLE conversations DROP COLUMN project_id;
DROP TABLE contacts;
DROP VIEW project_staff;
DROP TABLE specialists;
DROP TABLE projects;
