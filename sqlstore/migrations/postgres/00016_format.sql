-- +goose NO TRANSACTION
-- +goose Up
-- Formatting, link previews and cards (issue 14): a message keeps the
-- preview of its first link (JSON, '' for none), fetched by the server
-- after the message was stored, and the cards of records it refers to
-- (JSON [{kind, id}]); fetched previews are cached by URL. Columns with
-- defaults: the previous release's inserts stay valid.
ALTER TABLE messages ADD COLUMN IF NOT EXISTS link_preview TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN IF NOT EXISTS cards TEXT NOT NULL DEFAULT '';

CREATE TABLE IF NOT EXISTS link_previews (
    url        TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    fetched_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE IF EXISTS link_previews;
ALTER TABLE messages DROP COLUMN IF EXISTS cards;
ALTER TABLE messages DROP COLUMN IF EXISTS link_preview;
