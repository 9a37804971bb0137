-- +goose Up
-- Sign-in hardening (issue 13): two-factor sign-in with a time-based code
-- (the secret, whether it is on, the last time step used so a code works
-- once) and one-time recovery codes; the browsers that have signed in to
-- an account, which keep their own budget of failed attempts; where each
-- session signed in from; and, on a direct request, how often it was
-- declined and when.
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_step INTEGER NOT NULL DEFAULT 0;

CREATE TABLE recovery_codes (
    user_id   INTEGER NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE known_devices (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX known_devices_user ON known_devices (user_id);

ALTER TABLE sessions ADD COLUMN client TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN addr TEXT NOT NULL DEFAULT '';

ALTER TABLE conversations ADD COLUMN declines INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN declined_at INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE conversations DROP COLUMN declined_at;
ALTER TABLE conversations DROP COLUMN declines;
ALTER TABLE sessions DROP COLUMN addr;
ALTER TABLE sessions DROP COLUMN client;
DROP TABLE known_devices;
DROP TABLE recovery_codes;
ALTER TABLE users DROP COLUMN totp_step;
ALTER TABLE users DROP COLUMN totp_enabled;
ALTER TABLE users DROP COLUMN totp_secret;
