-- Back to rounds of operations only: the global clusters' rounds and everything answered in
-- them are removed.
PRAGMA foreign_keys = OFF;
BEGIN;
DROP TABLE user_countries;
DELETE FROM answers WHERE response_id IN
    (SELECT id FROM responses WHERE round_id IN (SELECT id FROM rounds WHERE cluster_id IS NOT NULL));
DELETE FROM responses WHERE round_id IN (SELECT id FROM rounds WHERE cluster_id IS NOT NULL);
DELETE FROM response_drafts WHERE invitation_id IN
    (SELECT id FROM invitations WHERE round_id IN (SELECT id FROM rounds WHERE cluster_id IS NOT NULL));
DELETE FROM invitations WHERE round_id IN (SELECT id FROM rounds WHERE cluster_id IS NOT NULL);
DELETE FROM action_items WHERE round_id IN (SELECT id FROM rounds WHERE cluster_id IS NOT NULL);
DELETE FROM rounds WHERE cluster_id IS NOT NULL;
CREATE TABLE rounds_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_id INTEGER NOT NULL REFERENCES operations(id),
    framework TEXT NOT NULL,
    surveys TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    opens_at TIMESTAMP NOT NULL,
    closes_at TIMESTAMP NOT NULL,
    state TEXT NOT NULL,
    remind_days_before INTEGER,
    created_by INTEGER REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP
);
INSERT INTO rounds_rebuilt SELECT id, operation_id, framework, surveys, title, opens_at,
    closes_at, state, remind_days_before, created_by, created_at, closed_at FROM rounds;
DROP TABLE rounds;
ALTER TABLE rounds_rebuilt RENAME TO rounds;
CREATE INDEX rounds_operation ON rounds(operation_id, framework, closes_at);
COMMIT;
PRAGMA foreign_keys = ON;
