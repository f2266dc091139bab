-- API tokens may expire; NULL means never (the tokens made before this, and the CLI's).
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMP;
