-- +goose Up
-- Full-text search scoped to conversations (docs/decisions.md, "Search at
-- ten million messages"): the GIN index holds every lexeme of tsv prefixed
-- with the message's conversation ("<id>x<lexeme>"), so a search reads only
-- the entries of the searcher's conversations, whatever the rest of the
-- history holds. Only text and file messages are indexed.
CREATE FUNCTION parley_search_vector(conversation_id bigint, tsv tsvector) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN array_to_tsvector(string_to_array(
        conversation_id::text || 'x' || array_to_string(tsvector_to_array(tsv), ' ' || conversation_id::text || 'x'), ' '));
SET LOCAL maintenance_work_mem = '256MB';
CREATE INDEX messages_search ON messages USING GIN (parley_search_vector(conversation_id, tsv)) WHERE kind IN ('text', 'file');
DROP INDEX messages_tsv;
-- The window of a search: a user's newest messages, conversation by
-- conversation in ID order.
CREATE INDEX messages_conversation ON messages (conversation_id, id);

-- +goose Down
DROP INDEX messages_conversation;
CREATE INDEX messages_tsv ON messages USING GIN (tsv);
DROP INDEX messages_search;
DROP FUNCTION parley_search_vector(bigint, tsvector);
