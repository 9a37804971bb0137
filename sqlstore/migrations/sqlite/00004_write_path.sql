-- +goose Up
-- The stream's indexes serve a resume (EventsSince) branch by branch, so
-- that it costs what the user missed, not what the stream holds; and a
-- message's event updates two B-trees (its row and its conversation's
-- index), no more.
DROP INDEX events_user;
DROP INDEX events_conversation;
CREATE INDEX events_user ON events (user_id, id) WHERE user_id <> 0;
CREATE INDEX events_conversation ON events (conversation_id, id) WHERE conversation_id <> 0 AND user_id = 0;
CREATE INDEX events_broadcast ON events (id) WHERE conversation_id = 0 AND user_id = 0 AND contact_id = 0;

-- +goose Down
DROP INDEX events_broadcast;
DROP INDEX events_conversation;
DROP INDEX events_user;
CREATE INDEX events_conversation ON events (conversation_id, id);
CREATE INDEX events_user ON events (user_id, id);
