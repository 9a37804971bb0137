-- +goose Up
-- Bots and outgoing webhooks (issue 10): bots are staff accounts that act
-- through the API; webhooks deliver the event stream to other systems,
-- each from its own cursor, with a log of every attempt.
ALTER TABLE users ADD COLUMN bot INTEGER NOT NULL DEFAULT 0;

CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL DEFAULT 0,
    user_id     INTEGER NOT NULL DEFAULT 0,
    url         TEXT    NOT NULL,
    events      TEXT    NOT NULL DEFAULT '[]',
    secret      TEXT    NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    cursor      INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    error_at    INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT    NOT NULL DEFAULT '',
    lease_until INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY,
    webhook_id  INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id    INTEGER NOT NULL,
    event_type  TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    ok          INTEGER NOT NULL,
    status_code INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
ALTER TABLE users DROP COLUMN bot;
