-- +goose Up
-- Formatting, link previews and cards (issue 14): a message keeps the
-- preview of its first link (JSON, '' for none), fetched by the server
-- after the message was stored, and the cards of records it refers to
-- (JSON [{kind, id}]); fetched previews are cached by URL.
ALTER TABLE messages ADD COLUMN link_preview TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN cards TEXT NOT NULL DEFAULT '';

CREATE TABLE link_previews (
    url        TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    fetched_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE link_previews;
ALTER TABLE messages DROP COLUMN cards;
ALTER TABLE messages DROP COLUMN link_preview;
