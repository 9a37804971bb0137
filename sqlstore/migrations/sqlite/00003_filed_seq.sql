-- +goose Up
-- The newest visitor message of a dialog that was filed into an offline
-- case (nobody could answer, or outside working hours): such a message
-- does not make the dialog wait for a consultant.
ALTER TABLE conversations ADD COLUMN filed_seq INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE conversations DROP COLUMN filed_seq;
