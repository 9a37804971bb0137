-- +goose Up
-- Channels (issue 10): the messengers, e-mail boxes, SMS numbers and API
-- integrations through which customers reach a project. A customer who
-- writes through one is a contact with that channel's address; their
-- dialogs carry the channel.
CREATE TABLE channels (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    paused      INTEGER NOT NULL DEFAULT 0,
    auto_case   INTEGER NOT NULL DEFAULT 0,
    settings    TEXT    NOT NULL DEFAULT '{}',
    secrets     TEXT    NOT NULL DEFAULT '{}',
    last_error  TEXT    NOT NULL DEFAULT '',
    error_at    INTEGER NOT NULL DEFAULT 0,
    -- The node that polls the channel and sends its queue, until when.
    lease_owner TEXT    NOT NULL DEFAULT '',
    lease_until INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX channels_project ON channels (project_id);

ALTER TABLE contacts ADD COLUMN channel_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN address TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX contacts_address ON contacts (channel_id, address) WHERE channel_id <> 0;

ALTER TABLE conversations ADD COLUMN channel_id INTEGER NOT NULL DEFAULT 0;

-- A message's delivery status as its channel reports it ('' for team chat
-- and the widget, whose receipts are their members' pointers).
ALTER TABLE messages ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN status_error TEXT NOT NULL DEFAULT '';

-- Every message that crossed a channel, either way: the channel's own id
-- of it (inbound: deduplicates redelivered webhooks; both: quotes, e-mail
-- threading, status reports), and for outbound ones the durable queue.
CREATE TABLE channel_messages (
    message_id      INTEGER PRIMARY KEY,
    channel_id      INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL,
    outbound        INTEGER NOT NULL,
    external_id     TEXT,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         INTEGER NOT NULL DEFAULT 0,
    error           TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX channel_messages_external ON channel_messages (channel_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX channel_messages_queue ON channel_messages (channel_id, conversation_id, message_id) WHERE state = 'queued';
CREATE INDEX channel_messages_conversation ON channel_messages (conversation_id, message_id);

-- +goose Down
DROP TABLE channel_messages;
ALTER TABLE messages DROP COLUMN status_error;
ALTER TABLE messages DROP COLUMN status;
ALTER TABLE conversations DROP COLUMN channel_id;
DROP INDEX contacts_address;
ALTER TABLE contacts DROP COLUMN address;
ALTER TABLE contacts DROP COLUMN channel_id;
DROP TABLE channels;
