ALTER TABLE survey_definitions DROP COLUMN origin;
DROP TABLE survey_uploads;
