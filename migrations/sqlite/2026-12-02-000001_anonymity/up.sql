-- Anonymity by construction (src/snapshots.rs, src/rounds.rs):
-- an open round's numbers come from published snapshots of its responses;
ALTER TABLE responses ADD COLUMN snapshot INTEGER;
CREATE INDEX responses_round_snapshot ON responses(round_id, snapshot);
-- the submission marker of an invitation is keyed with the invitation token, which the
-- server stores only hashed; markers written before (a plain digest of the response id,
-- which joins invitation to response) are replaced by random values;
UPDATE invitations SET submission_key = 'migrated:' || lower(hex(randomblob(16)))
    WHERE submission_key IS NOT NULL;
-- the invitation keeps the day it was answered, not the moment;
UPDATE invitations SET responded_at = date(responded_at) || ' 00:00:00'
    WHERE responded_at IS NOT NULL;
-- delivered messages (invitation links among them) keep their metadata, not their body.
UPDATE outbox SET message = '' WHERE status = 'sent';
-- Sealed complaints (src/aap.rs): for everyone but the PSEA focal points the metrics count
-- visible items only (`NOT sensitive`); the indexes carry the flag so they stay covering.
DROP INDEX feedback_profile;
CREATE INDEX feedback_profile ON feedback(operation_id, channel, sex, age_group, admin1, created_at, sensitive);
DROP INDEX feedback_unacknowledged;
CREATE INDEX feedback_unacknowledged ON feedback(operation_id, created_at, ack_due_at, closed_at, category, acknowledged_at, sensitive)
    WHERE acknowledged_at IS NULL;
DROP INDEX feedback_closures;
CREATE INDEX feedback_closures ON feedback(
    operation_id,
    created_at,
    closed_at,
    (CAST(substr(closed_at, 1, 4) AS INTEGER) * 12 + CAST(substr(closed_at, 6, 2) AS INTEGER) - 1),
    CAST(round((julianday(closed_at) - julianday(created_at)) * 86400000.0) AS INTEGER),
    sensitive
) WHERE closed_at IS NOT NULL;
-- Each operation's administrative areas (P-codes, from a common operational dataset CSV):
-- feedback stores the chosen P-code, and aggregates are keyed by it, never by free text.
CREATE TABLE admin_areas (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_id INTEGER NOT NULL REFERENCES operations(id),
    level INTEGER NOT NULL,
    pcode TEXT NOT NULL,
    name TEXT NOT NULL,
    parent_pcode TEXT,
    UNIQUE (operation_id, pcode)
);
