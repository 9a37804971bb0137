-- +goose NO TRANSACTION
-- +goose Up
-- Run while the previous release serves (a rolling upgrade): statement by
-- statement, each can run again, the index is built without blocking writes.
-- Team-chat basics (issue 14, item 11): threads, mentions, reactions and
-- muting a chat. A thread reply is a message of its conversation (it takes
-- the conversation's next seq, so the stream and resume carry it) that
-- names its thread's first message (thread_id); in_channel is 1 when it was
-- also sent to the main timeline. The first message of a thread keeps its
-- summary: how many replies, the newest one's time, who wrote (JSON ids).
-- mentions holds the message's mentions as JSON ({"user_ids":[..],"all":true});
-- the mentions table has one row per notified user, so unread mentions are
-- counted from a member's read pointer.
ALTER TABLE messages ADD COLUMN IF NOT EXISTS thread_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS in_channel BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS mentions TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN IF NOT EXISTS reply_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS last_reply_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS thread_users TEXT NOT NULL DEFAULT '';
CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_thread ON messages (thread_id, seq) WHERE thread_id <> 0;

CREATE TABLE IF NOT EXISTS mentions (
    user_id         BIGINT NOT NULL REFERENCES users (id),
    conversation_id BIGINT NOT NULL,
    seq             BIGINT NOT NULL,
    message_id      BIGINT NOT NULL,
    PRIMARY KEY (user_id, conversation_id, seq)
);

CREATE TABLE IF NOT EXISTS reactions (
    message_id      BIGINT NOT NULL,
    user_id         BIGINT NOT NULL REFERENCES users (id),
    emoji           TEXT NOT NULL,
    conversation_id BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

CREATE TABLE IF NOT EXISTS mutes (
    conversation_id BIGINT NOT NULL,
    user_id         BIGINT NOT NULL REFERENCES users (id),
    until           BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, conversation_id)
);

-- +goose Down
DROP TABLE IF EXISTS mutes;
DROP TABLE IF EXISTS reactions;
DROP TABLE IF EXISTS mentions;
DROP INDEX IF EXISTS messages_thread;
ALTER TABLE messages DROP COLUMN IF EXISTS thread_users;
ALTER TABLE messages DROP COLUMN IF EXISTS last_reply_at;
ALTER TABLE messages DROP COLUMN IF EXISTS reply_count;
ALTER TABLE messages DROP COLUMN IF EXISTS mentions;
ALTER TABLE messages DROP COLUMN IF EXISTS in_channel;
ALTER TABLE messages DROP COLUMN IF EXISTS thread_id;
