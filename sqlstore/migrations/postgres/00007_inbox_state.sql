-- +goose Up
-- The inbox's second part (seed 003): how many customer messages wait for
-- an answer (the unread count of managers not connected to a dialog), the
-- read state of those managers, and the projects' attachment limits per
-- channel.
ALTER TABLE conversations ADD COLUMN unanswered BIGINT NOT NULL DEFAULT 0;
UPDATE conversations SET unanswered = (
    SELECT COUNT(*) FROM messages m WHERE m.conversation_id = conversations.id AND m.contact_id <> 0
      AND m.kind IN ('text', 'file') AND m.created_at >= conversations.waiting_since)
WHERE project_id <> 0 AND waiting_since <> 0;

-- A dialog's read state for a user who sees it without being connected to
-- it (members keep theirs on their member row).
CREATE TABLE dialog_views (
    user_id         BIGINT  NOT NULL,
    conversation_id BIGINT  NOT NULL,
    read_seq        BIGINT  NOT NULL DEFAULT 0,
    marked_unread   BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (user_id, conversation_id)
);

ALTER TABLE projects ADD COLUMN attachment_limits TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE projects DROP COLUMN attachment_limits;
DROP TABLE dialog_views;
ALTER TABLE conversations DROP COLUMN unanswered;
