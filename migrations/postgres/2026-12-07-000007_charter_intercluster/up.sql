-- A round belongs to an operation (a CCPM round) or to a global cluster (a service-charter
-- round, answered by the coordinators of the cluster's operations): exactly one of
-- operation_id and cluster_id is set.
ALTER TABLE rounds ALTER COLUMN operation_id DROP NOT NULL;
ALTER TABLE rounds ADD COLUMN cluster_id INTEGER REFERENCES clusters(id);
ALTER TABLE rounds ADD CONSTRAINT rounds_one_owner
    CHECK ((operation_id IS NULL) <> (cluster_id IS NULL));
CREATE INDEX rounds_cluster ON rounds(cluster_id, framework, closes_at);
-- The countries (ISO codes) an inter-cluster coordinator covers.
CREATE TABLE user_countries (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    country TEXT NOT NULL,
    PRIMARY KEY (user_id, country)
);
