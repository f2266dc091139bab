-- The submission marker (`invitations.submission_key`, an HMAC of the response id keyed
-- with the invitation token) loses its UNIQUE index. No query looks an invitation up by it:
-- it is read from the invitation's own row, and the claim (`... WHERE id = ? AND
-- submission_key IS NULL`) goes by the primary key. The index cost every submission an
-- insert at a random place of a B-tree, a page written to the log and copied back later
-- (issue 17, BENCHMARKS.md). Everything else of the table is kept as it was.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE invitations_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    survey_id TEXT NOT NULL,
    email TEXT NOT NULL,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    org_type TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    reminder_token_hash TEXT UNIQUE,
    language TEXT,
    submission_key TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    reminded_at TIMESTAMP,
    responded_at TIMESTAMP,
    membership TEXT
);
INSERT INTO invitations_rebuilt (id, round_id, survey_id, email, organization_id, org_type,
        token_hash, reminder_token_hash, language, submission_key, created_at, sent_at,
        reminded_at, responded_at, membership)
    SELECT id, round_id, survey_id, email, organization_id, org_type,
        token_hash, reminder_token_hash, language, submission_key, created_at, sent_at,
        reminded_at, responded_at, membership
    FROM invitations;
-- Ids are never given twice (AUTOINCREMENT): the new table goes on from the old one's
-- counter, which is past the largest id left if the last invitations were deleted.
DELETE FROM sqlite_sequence WHERE name = 'invitations_rebuilt';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'invitations_rebuilt', seq FROM sqlite_sequence WHERE name = 'invitations';
DROP TABLE invitations;
ALTER TABLE invitations_rebuilt RENAME TO invitations;
CREATE INDEX invitations_round ON invitations(round_id);
COMMIT;
PRAGMA foreign_keys = ON;
