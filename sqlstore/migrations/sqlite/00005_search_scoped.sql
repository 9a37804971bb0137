-- +goose Up
-- Full-text search scoped to conversations (docs/decisions.md, "Search at
-- ten million messages"). The index holds each text or file message's
-- distinct words, folded in Go (decomposed, marks removed, lower case) and
-- prefixed with the message's conversation ("<id>x<word>"), so a search
-- reads only the terms of the searcher's conversations. It is contentless
-- (the terms are computed, not a column) and keeps no positions. The
-- index is rebuilt from the first message, in the background (indexLoop).
DROP TRIGGER messages_fts_update;
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE messages_search USING fts5 (
    terms, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);
-- Idle merging (indexLoop) merges any two segments of a level.
INSERT INTO messages_search (messages_search, rank) VALUES ('usermerge', 2);
UPDATE search_index SET position = 0;
-- The window of a search: a user's newest messages, conversation by
-- conversation in ID order.
CREATE INDEX messages_conversation ON messages (conversation_id, id);

-- +goose Down
DROP INDEX messages_conversation;
DROP TABLE messages_search;
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
UPDATE search_index SET position = 0;
-- +goose StatementBegin
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages
WHEN old.id <= (SELECT position FROM search_index) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) SELECT 'delete', old.id, old.text WHERE old.text <> '';
    INSERT INTO messages_fts (rowid, text) SELECT new.id, new.text WHERE new.text <> '';
END;
-- +goose StatementEnd
