-- +goose Up
-- Staff SMS (issue 14): a user's phone number, and the texts staff send
-- to colleagues' phones through the organisation's SMS channel, with the
-- provider's id and the status its reports advance.
CREATE TABLE user_phones (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    phone   TEXT NOT NULL
);

CREATE TABLE staff_sms (
    id           INTEGER PRIMARY KEY,
    sender_id    INTEGER NOT NULL,
    recipient_id INTEGER NOT NULL,
    to_number    TEXT NOT NULL,
    body         TEXT NOT NULL,
    segments     INTEGER NOT NULL DEFAULT 1,
    channel_id   INTEGER NOT NULL,
    external_id  TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    error        TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX staff_sms_recipient ON staff_sms (recipient_id, id);
CREATE INDEX staff_sms_sender ON staff_sms (sender_id, created_at);
CREATE INDEX staff_sms_external ON staff_sms (channel_id, external_id);

-- +goose Down
DROP TABLE staff_sms;
DROP TABLE user_phones;
