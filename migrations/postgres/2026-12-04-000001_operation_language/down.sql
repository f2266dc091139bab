ALTER TABLE operations DROP COLUMN default_language;
