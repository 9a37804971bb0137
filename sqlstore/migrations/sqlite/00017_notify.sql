-- +goose Up
-- Notifications that reach people (issue 14): browsers' Web Push
-- subscriptions, each user's notification settings, how far each member's
-- conversation was already notified by push and by e-mail (so nothing is
-- sent twice), reminders already pushed or mailed, notes other services
-- queue (calls, mentions), and the lease of the one node that delivers.
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    endpoint   TEXT    NOT NULL UNIQUE,
    p256dh     TEXT    NOT NULL,
    auth       TEXT    NOT NULL,
    user_agent TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

CREATE TABLE notify_settings (
    user_id  INTEGER PRIMARY KEY REFERENCES users (id),
    settings TEXT    NOT NULL
);

CREATE TABLE notify_marks (
    user_id         INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL,
    push_seq        INTEGER NOT NULL DEFAULT 0,
    email_seq       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, conversation_id)
);

CREATE TABLE notify_reminders (
    reminder_id INTEGER NOT NULL,
    remind_at   INTEGER NOT NULL,
    channel     TEXT    NOT NULL,
    PRIMARY KEY (reminder_id, remind_at, channel)
);

CREATE TABLE notify_outbox (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    note       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE notify_lease (
    id    INTEGER PRIMARY KEY,
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_until INTEGER NOT NULL DEFAULT 0
);
INSERT INTO notify_lease (id) VALUES (1);

-- +goose Down
DROP TABLE notify_lease;
DROP TABLE notify_outbox;
DROP TABLE notify_reminders;
DROP TABLE notify_marks;
DROP TABLE notify_settings;
DROP TABLE push_subscriptions;
