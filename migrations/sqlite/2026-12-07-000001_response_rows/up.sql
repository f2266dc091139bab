-- One row per response (issue 17). The answers move from the `answers` table (one row per
-- answer) into the response row, whole, as a JSON object; the item scores are packed by
-- column position (`response_score_columns`, one layout per survey version): the score
-- texts joined by ',' in position order, empty where the response has no score. The client's
-- UUID becomes the unique `uuid` column; `id` is an integer key inside the database.
-- Nothing is lost: every answer value is kept verbatim in `answers`, every score exactly
-- (`quote` writes a REAL with the digits it needs to read back the same double).

CREATE TABLE response_score_columns (
    survey_id TEXT NOT NULL,
    survey_version INTEGER NOT NULL,
    position INTEGER NOT NULL,
    question TEXT NOT NULL,
    PRIMARY KEY (survey_id, survey_version, position),
    UNIQUE (survey_id, survey_version, question)
);

-- A version's scored questions, in the order the app stored them (that of the survey).
INSERT INTO response_score_columns (survey_id, survey_version, position, question)
SELECT survey_id, survey_version,
       ROW_NUMBER() OVER (PARTITION BY survey_id, survey_version ORDER BY first_id) - 1,
       question
FROM (
    SELECT r.survey_id, r.survey_version, a.question, MIN(a.id) AS first_id
    FROM answers a JOIN responses r ON r.id = a.response_id
    WHERE a.score IS NOT NULL
    GROUP BY r.survey_id, r.survey_version, a.question
);

CREATE TABLE responses_packed (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    survey_id TEXT NOT NULL,
    survey_version INTEGER NOT NULL,
    org_type TEXT NOT NULL,
    language TEXT NOT NULL,
    answers_digest TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    snapshot INTEGER,
    answers TEXT NOT NULL,
    scores TEXT NOT NULL
);

INSERT INTO responses_packed (uuid, round_id, survey_id, survey_version, org_type, language,
                              answers_digest, submitted_at, snapshot, answers, scores)
SELECT r.id, r.round_id, r.survey_id, r.survey_version, r.org_type, r.language,
       r.answers_digest, r.submitted_at, r.snapshot,
       COALESCE((SELECT json_group_object(question, json(value))
                 FROM (SELECT a.question, a.value FROM answers a
                       WHERE a.response_id = r.id ORDER BY a.id)), '{}'),
       COALESCE((SELECT group_concat(CASE WHEN a.score IS NULL THEN '' ELSE quote(a.score) END, ',' ORDER BY c.position)
                 FROM response_score_columns c
                 LEFT JOIN answers a ON a.response_id = r.id AND a.question = c.question
                 WHERE c.survey_id = r.survey_id AND c.survey_version = r.survey_version), '')
FROM responses r
ORDER BY r.submitted_at, r.id;

DROP TABLE answers;
DROP TABLE responses;
ALTER TABLE responses_packed RENAME TO responses;
CREATE INDEX responses_round_uuid ON responses(round_id, uuid);
CREATE INDEX responses_round_snapshot ON responses(round_id, snapshot);
