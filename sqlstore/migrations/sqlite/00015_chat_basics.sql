-- +goose Up
-- Team-chat basics (issue 14, item 11): threads, mentions, reactions and
-- muting a chat. A thread reply is a message of its conversation (it takes
-- the conversation's next seq, so the stream and resume carry it) that
-- names its thread's first message (thread_id); in_channel is 1 when it was
-- also sent to the main timeline. The first message of a thread keeps its
-- summary: how many replies, the newest one's time, who wrote (JSON ids).
-- mentions holds the message's mentions as JSON ({"user_ids":[..],"all":true});
-- the mentions table has one row per notified user, so unread mentions are
-- counted from a member's read pointer.
ALTER TABLE messages ADD COLUMN thread_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN in_channel INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN reply_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN last_reply_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN thread_users TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_thread ON messages (thread_id, seq) WHERE thread_id <> 0;

CREATE TABLE mentions (
    user_id         INTEGER NOT NULL REFERENCES users (id),
    conversation_id INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    message_id      INTEGER NOT NULL,
    PRIMARY KEY (user_id, conversation_id, seq)
);

CREATE TABLE reactions (
    message_id      INTEGER NOT NULL,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    emoji           TEXT NOT NULL,
    conversation_id INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

-- A member's mute: until a time, or (until 0) until they unmute.
CREATE TABLE mutes (
    conversation_id INTEGER NOT NULL,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    until           INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, conversation_id)
);

-- +goose Down
DROP TABLE mutes;
DROP TABLE reactions;
DROP TABLE mentions;
DROP INDEX messages_thread;
ALTER TABLE messages DROP COLUMN thread_users;
ALTER TABLE messages DROP COLUMN last_reply_at;
ALTER TABLE messages DROP COLUMN reply_count;
ALTER TABLE messages DROP COLUMN mentions;
ALTER TABLE messages DROP COLUMN in_channel;
ALTER TABLE messages DROP COLUMN thread_id;
