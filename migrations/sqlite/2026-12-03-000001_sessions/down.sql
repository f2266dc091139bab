DROP INDEX sessions_user;
DROP TABLE sessions;
