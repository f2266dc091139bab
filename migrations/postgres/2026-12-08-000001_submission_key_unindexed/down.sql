ALTER TABLE invitations ADD CONSTRAINT invitations_submission_key_key UNIQUE (submission_key);
