DROP TABLE admin_areas;
DROP INDEX responses_round_snapshot;
ALTER TABLE responses DROP COLUMN snapshot;
