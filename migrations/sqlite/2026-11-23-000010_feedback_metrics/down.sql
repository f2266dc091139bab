DROP INDEX IF EXISTS feedback_closures;
DROP INDEX IF EXISTS feedback_unacknowledged;
DROP INDEX IF EXISTS feedback_volume;
DROP INDEX IF EXISTS feedback_profile;
