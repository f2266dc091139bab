-- Authenticator-app sign-in (TOTP, RFC 6238). The secret is sealed with AES-256-GCM under
-- the server key (never stored readable); confirmed_at is NULL until the owner has typed a
-- first code; last_step is the last time step accepted, so a code cannot be used twice.
CREATE TABLE totp_credentials (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    last_step BIGINT
);
-- One-time recovery codes, stored as SHA-256 digests; used_at once spent.
CREATE TABLE totp_recovery_codes (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX totp_recovery_codes_user ON totp_recovery_codes (user_id);
