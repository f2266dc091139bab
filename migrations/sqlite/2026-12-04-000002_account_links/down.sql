DROP INDEX audit_log_created;
ALTER TABLE users DROP COLUMN password_set_at;
DROP INDEX account_links_user;
DROP TABLE account_links;
