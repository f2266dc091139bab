-- Collector accounts for offline collection (ODK Collect, KoboCollect, Enketo): one per
-- device or team of an operation, made by its coordinators. The token travels in the URL
-- (those apps cannot send bearer headers) and only its SHA-256 digest is stored.
CREATE TABLE collectors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_id INTEGER NOT NULL REFERENCES operations(id),
    name TEXT NOT NULL,
    channel TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX collectors_operation ON collectors (operation_id);

-- Each instance submitted by a collector, by its meta/instanceID: a resubmission (the
-- reply was lost) finds its item here instead of making a second one.
CREATE TABLE collector_submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_id INTEGER NOT NULL REFERENCES operations(id),
    instance_id TEXT NOT NULL,
    collector_id INTEGER NOT NULL REFERENCES collectors(id),
    feedback_id INTEGER NOT NULL REFERENCES feedback(id),
    digest TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (operation_id, instance_id)
);
