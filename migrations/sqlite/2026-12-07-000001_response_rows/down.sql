-- Back to one `answers` row per answer, keyed by the client's UUID.
CREATE TABLE responses_text (
    id TEXT PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    survey_id TEXT NOT NULL,
    survey_version INTEGER NOT NULL,
    org_type TEXT NOT NULL,
    language TEXT NOT NULL,
    answers_digest TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    snapshot INTEGER
);
INSERT INTO responses_text
SELECT uuid, round_id, survey_id, survey_version, org_type, language, answers_digest,
       submitted_at, snapshot
FROM responses;

CREATE TABLE answer_rows (response_id TEXT, question TEXT, value TEXT, score DOUBLE PRECISION);
INSERT INTO answer_rows (response_id, question, value, score)
SELECT r.uuid, j.key, r.answers -> j.fullkey,
       (SELECT CAST(NULLIF(s.value, '') AS REAL)
        FROM json_each('["' || replace(r.scores, ',', '","') || '"]') s
        JOIN response_score_columns c
          ON c.survey_id = r.survey_id AND c.survey_version = r.survey_version
         AND c.position = s.key AND c.question = j.key)
FROM responses r, json_each(r.answers) j
ORDER BY r.id, j.id;

DROP TABLE responses;
ALTER TABLE responses_text RENAME TO responses;
CREATE INDEX responses_round ON responses(round_id);
CREATE INDEX responses_round_snapshot ON responses(round_id, snapshot);

CREATE TABLE answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    response_id TEXT NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    value TEXT NOT NULL,
    score DOUBLE PRECISION
);
INSERT INTO answers (response_id, question, value, score)
SELECT response_id, question, value, score FROM answer_rows ORDER BY rowid;
CREATE INDEX answers_response ON answers(response_id);
DROP TABLE answer_rows;
DROP TABLE response_score_columns;
