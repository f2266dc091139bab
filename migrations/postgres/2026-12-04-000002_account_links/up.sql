-- One-time links that set a password: an admin's invitation or a "forgot password" reset.
-- Only the token's hash is kept; a link works once (used_at) and until expires_at.
CREATE TABLE account_links (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX account_links_user ON account_links (user_id);
-- When the account's password was last set; NULL for someone invited who has not set one
-- (their password_hash is empty and matches nothing). Accounts made before had one.
ALTER TABLE users ADD COLUMN password_set_at TIMESTAMP;
UPDATE users SET password_set_at = created_at;
-- The audit page filters by time.
CREATE INDEX audit_log_created ON audit_log (created_at);
