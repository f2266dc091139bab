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

CREATE TABLE answers (
    id SERIAL PRIMARY KEY,
    response_id TEXT NOT NULL REFERENCES responses_text(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    value TEXT NOT NULL,
    score DOUBLE PRECISION
);
INSERT INTO answers (response_id, question, value, score)
SELECT r.uuid, j.key, j.value::text,
       (SELECT NULLIF(s.v, '')::float8
        FROM unnest(string_to_array(r.scores, ',')) WITH ORDINALITY AS s(v, pos)
        JOIN response_score_columns c
          ON c.survey_id = r.survey_id AND c.survey_version = r.survey_version
         AND c.position = s.pos - 1 AND c.question = j.key)
FROM responses r, json_each(r.answers::json) WITH ORDINALITY AS j(key, value, n)
ORDER BY r.id, j.n;

DROP TABLE responses;
ALTER TABLE responses_text RENAME TO responses;
ALTER TABLE responses RENAME CONSTRAINT responses_text_pkey TO responses_pkey;
CREATE INDEX responses_round ON responses(round_id);
CREATE INDEX responses_round_snapshot ON responses(round_id, snapshot);
CREATE INDEX answers_response ON answers(response_id);
DROP TABLE response_score_columns;
