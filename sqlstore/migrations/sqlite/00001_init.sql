-- +goose Up
CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    email               TEXT    NOT NULL UNIQUE,
    name                TEXT    NOT NULL,
    sort_name           TEXT    NOT NULL,
    search              TEXT    NOT NULL,
    role                TEXT    NOT NULL,
    password_hash       TEXT    NOT NULL DEFAULT '',
    active              INTEGER NOT NULL DEFAULT 1,
    photo_file_id       INTEGER NOT NULL DEFAULT 0,
    last_client         TEXT    NOT NULL DEFAULT '',
    last_client_version TEXT    NOT NULL DEFAULT '',
    settings            TEXT    NOT NULL DEFAULT '',
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX users_sort ON users (sort_name, id);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    kind         TEXT    NOT NULL,
    name         TEXT    NOT NULL DEFAULT '',
    token_hash   TEXT    NOT NULL UNIQUE,
    csrf         TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE user_groups (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    parent_id  INTEGER NOT NULL DEFAULT 0,
    rights     TEXT    NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL
);

CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE friends (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    friend_id  INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, friend_id)
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE conversations (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,
    title           TEXT    NOT NULL DEFAULT '',
    state           TEXT    NOT NULL,
    created_by      INTEGER NOT NULL DEFAULT 0,
    key             TEXT,
    last_seq        INTEGER NOT NULL DEFAULT 0,
    last_message_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX conversations_key ON conversations (key) WHERE key IS NOT NULL;
CREATE INDEX conversations_kind ON conversations (kind);

CREATE TABLE members (
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    user_id         INTEGER NOT NULL REFERENCES users (id),
    role            TEXT    NOT NULL,
    joined_at       INTEGER NOT NULL,
    delivered_seq   INTEGER NOT NULL DEFAULT 0,
    read_seq        INTEGER NOT NULL DEFAULT 0,
    marked_unread   INTEGER NOT NULL DEFAULT 0,
    draft           TEXT    NOT NULL DEFAULT '',
    draft_at        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX members_user ON members (user_id, conversation_id);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    seq             INTEGER NOT NULL,
    sender_id       INTEGER NOT NULL DEFAULT 0,
    kind            TEXT    NOT NULL,
    text            TEXT    NOT NULL DEFAULT '',
    quote           TEXT    NOT NULL DEFAULT '',
    client_id       TEXT,
    files           TEXT    NOT NULL DEFAULT '',
    event           TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    edited_at       INTEGER NOT NULL DEFAULT 0,
    deleted_at      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client ON messages (sender_id, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX messages_time ON messages (conversation_id, created_at);

-- Full-text search over message text (FTS5, external content). New
-- messages are indexed in batches, outside the transactions that send them
-- (see dialect.go); search_index holds the last message id indexed, and
-- edits of messages already indexed update the index at once.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE search_index (
    position INTEGER NOT NULL
);
INSERT INTO search_index (position) VALUES (0);
-- +goose StatementBegin
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages
WHEN old.id <= (SELECT position FROM search_index) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) SELECT 'delete', old.id, old.text WHERE old.text <> '';
    INSERT INTO messages_fts (rowid, text) SELECT new.id, new.text WHERE new.text <> '';
END;
-- +goose StatementEnd

CREATE TABLE files (
    id              INTEGER PRIMARY KEY,
    owner_id        INTEGER NOT NULL REFERENCES users (id),
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

CREATE TABLE reminders (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    message_id      INTEGER NOT NULL REFERENCES messages (id),
    conversation_id INTEGER NOT NULL,
    remind_at       INTEGER NOT NULL,
    fired_at        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    UNIQUE (user_id, message_id)
);
CREATE INDEX reminders_due ON reminders (fired_at, remind_at);

-- The real-time stream: every durable event, in commit order.
CREATE TABLE events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    type            TEXT    NOT NULL,
    conversation_id INTEGER NOT NULL DEFAULT 0,
    user_id         INTEGER NOT NULL DEFAULT 0,
    seq             INTEGER NOT NULL DEFAULT 0,
    data            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX events_conversation ON events (conversation_id, id);
CREATE INDEX events_user ON events (user_id, id);

-- +goose Down
DROP TABLE events;
DROP TABLE reminders;
DROP TABLE files;
DROP TRIGGER messages_fts_update;
DROP TABLE search_index;
DROP TABLE messages_fts;
DROP TABLE messages;
DROP TABLE members;
DROP TABLE conversations;
DROP TABLE settings;
DROP TABLE friends;
DROP TABLE group_members;
DROP TABLE user_groups;
DROP TABLE sessions;
DROP TABLE users;
