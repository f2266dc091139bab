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
