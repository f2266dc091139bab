ALTER TABLE organizations DROP COLUMN archived_at;
ALTER TABLE operations DROP COLUMN archived_at;
