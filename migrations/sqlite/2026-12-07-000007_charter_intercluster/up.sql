-- A round belongs to an operation (a CCPM round) or to a global cluster (a service-charter
-- round, answered by the coordinators of the cluster's operations): exactly one of
-- operation_id and cluster_id is set.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE rounds_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_id INTEGER REFERENCES operations(id),
    framework TEXT NOT NULL,
    surveys TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    opens_at TIMESTAMP NOT NULL,
    closes_at TIMESTAMP NOT NULL,
    state TEXT NOT NULL,
    remind_days_before INTEGER,
    created_by INTEGER REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    cluster_id INTEGER REFERENCES clusters(id),
    CHECK ((operation_id IS NULL) <> (cluster_id IS NULL))
);
INSERT INTO rounds_rebuilt (id, operation_id, framework, surveys, title, opens_at, closes_at,
        state, remind_days_before, created_by, created_at, closed_at, cluster_id)
    SELECT id, operation_id, framework, surveys, title, opens_at, closes_at,
        state, remind_days_before, created_by, created_at, closed_at, NULL
    FROM rounds;
DROP TABLE rounds;
ALTER TABLE rounds_rebuilt RENAME TO rounds;
CREATE INDEX rounds_operation ON rounds(operation_id, framework, closes_at);
CREATE INDEX rounds_cluster ON rounds(cluster_id, framework, closes_at);
-- The countries (ISO codes) an inter-cluster coordinator covers.
CREATE TABLE user_countries (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    country TEXT NOT NULL,
    PRIMARY KEY (user_id, country)
);
COMMIT;
PRAGMA foreign_keys = ON;
