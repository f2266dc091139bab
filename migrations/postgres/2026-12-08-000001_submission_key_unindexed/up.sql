-- The submission marker loses its UNIQUE index (see the SQLite migration of the same name):
-- no query looks an invitation up by it, and while it was indexed every claim was an
-- update of an indexed column, which cannot be a heap-only (HOT) update, so it also wrote
-- a new entry into each of the table's indexes.
ALTER TABLE invitations DROP CONSTRAINT invitations_submission_key_key;
