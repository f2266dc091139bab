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
    submission_key TEXT UNIQUE,
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
DELETE FROM sqlite_sequence WHERE name = 'invitations_rebuilt';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'invitations_rebuilt', seq FROM sqlite_sequence WHERE name = 'invitations';
DROP TABLE invitations;
ALTER TABLE invitations_rebuilt RENAME TO invitations;
CREATE INDEX invitations_round ON invitations(round_id);
COMMIT;
PRAGMA foreign_keys = ON;
