-- +goose NO TRANSACTION
-- +goose Up
-- Run while the previous release serves (a rolling upgrade): statement by
-- statement, each taking one table's lock for a moment, never several at
-- once in one transaction, which deadlocked with the old nodes' writes;
-- each statement can run again if the migration stopped half-way, and the
-- index is built without blocking writes.
-- Sign-in hardening (issue 13): two-factor sign-in with a time-based code
-- (the secret, whether it is on, the last time step used so a code works
-- once) and one-time recovery codes; the browsers that have signed in to
-- an account, which keep their own budget of failed attempts; where each
-- session signed in from; and, on a direct request, how often it was
-- declined and when.
ALTER TABLE users ADD COLUMN IF NOT EXISTS totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN IF NOT EXISTS totp_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN IF NOT EXISTS totp_step BIGINT NOT NULL DEFAULT 0;

CREATE TABLE IF NOT EXISTS recovery_codes (
    user_id   BIGINT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE IF NOT EXISTS known_devices (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX CONCURRENTLY IF NOT EXISTS known_devices_user ON known_devices (user_id);

ALTER TABLE sessions ADD COLUMN IF NOT EXISTS client TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS addr TEXT NOT NULL DEFAULT '';

ALTER TABLE conversations ADD COLUMN IF NOT EXISTS declines INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN IF NOT EXISTS declined_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE conversations DROP COLUMN IF EXISTS declined_at;
ALTER TABLE conversations DROP COLUMN IF EXISTS declines;
ALTER TABLE sessions DROP COLUMN IF EXISTS addr;
ALTER TABLE sessions DROP COLUMN IF EXISTS client;
DROP TABLE IF EXISTS known_devices;
DROP TABLE IF EXISTS recovery_codes;
ALTER TABLE users DROP COLUMN IF EXISTS totp_step;
ALTER TABLE users DROP COLUMN IF EXISTS totp_enabled;
ALTER TABLE users DROP COLUMN IF EXISTS totp_secret;
