-- +goose Up
-- Accounts (issue 14): single-use links mailed to people, invitations to
-- join and password resets. Only a hash of each token is kept.
CREATE TABLE account_tokens (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    email      TEXT NOT NULL,
    user_id    INTEGER NOT NULL DEFAULT 0,
    role       TEXT NOT NULL DEFAULT '',
    group_ids  TEXT NOT NULL DEFAULT '[]',
    created_by INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    sent_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX account_tokens_kind ON account_tokens (kind, email);
CREATE INDEX audit_log_at ON audit_log (at);

-- +goose Down
DROP INDEX audit_log_at;
DROP TABLE account_tokens;
