-- Surveys uploaded in the browser or the API (an XLSForm or a TOML file), checked and
-- previewed before they are published. Publishing copies the definition into
-- survey_definitions with origin 'upload'; surveys loaded from files have origin 'file'.
CREATE TABLE survey_uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    survey_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    definition TEXT NOT NULL,
    notes TEXT NOT NULL,
    uploaded_by INTEGER REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    published_at TIMESTAMP
);
CREATE INDEX survey_uploads_survey ON survey_uploads (survey_id);
ALTER TABLE survey_definitions ADD COLUMN origin TEXT NOT NULL DEFAULT 'file';
