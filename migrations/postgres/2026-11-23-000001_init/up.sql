CREATE TABLE clusters (
    id SERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    lead_emails TEXT NOT NULL DEFAULT '[]',
    language TEXT NOT NULL DEFAULT 'en',
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE operations (
    id SERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    cluster_id INTEGER NOT NULL REFERENCES clusters(id),
    country TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX operations_cluster ON operations(cluster_id);

CREATE TABLE organizations (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    org_type TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    cluster_id INTEGER REFERENCES clusters(id),
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE user_operations (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    operation_id INTEGER NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, operation_id)
);

CREATE TABLE api_tokens (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

CREATE TABLE survey_definitions (
    id SERIAL PRIMARY KEY,
    survey_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    definition TEXT NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    UNIQUE (survey_id, version)
);

CREATE TABLE rounds (
    id SERIAL PRIMARY KEY,
    operation_id INTEGER NOT NULL REFERENCES operations(id),
    framework TEXT NOT NULL,
    surveys TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    opens_at TIMESTAMP NOT NULL,
    closes_at TIMESTAMP NOT NULL,
    state TEXT NOT NULL,
    remind_days_before INTEGER,
    created_by INTEGER REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP
);
CREATE INDEX rounds_operation ON rounds(operation_id, framework, closes_at);

CREATE TABLE invitations (
    id SERIAL PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    survey_id TEXT NOT NULL,
    email TEXT NOT NULL,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    org_type TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    reminder_token_hash TEXT UNIQUE,
    language TEXT,
    submission_key TEXT UNIQUE,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    reminded_at TIMESTAMP,
    responded_at TIMESTAMP
);
CREATE INDEX invitations_round ON invitations(round_id);

CREATE TABLE response_drafts (
    invitation_id INTEGER PRIMARY KEY REFERENCES invitations(id) ON DELETE CASCADE,
    language TEXT NOT NULL,
    answers TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE responses (
    id TEXT PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    survey_id TEXT NOT NULL,
    survey_version INTEGER NOT NULL,
    org_type TEXT NOT NULL,
    language TEXT NOT NULL,
    answers_digest TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL
);
CREATE INDEX responses_round ON responses(round_id);

CREATE TABLE answers (
    id SERIAL PRIMARY KEY,
    response_id TEXT NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    value TEXT NOT NULL,
    score DOUBLE PRECISION
);
CREATE INDEX answers_response ON answers(response_id);

CREATE TABLE feedback (
    id SERIAL PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    operation_id INTEGER NOT NULL REFERENCES operations(id),
    channel TEXT NOT NULL,
    language TEXT NOT NULL,
    category TEXT NOT NULL,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    sensitive BOOLEAN NOT NULL DEFAULT FALSE,
    message TEXT NOT NULL,
    answers TEXT NOT NULL,
    consent_to_contact BOOLEAN NOT NULL DEFAULT FALSE,
    contact_encrypted TEXT,
    sex TEXT,
    age_group TEXT,
    disability TEXT,
    admin1 TEXT,
    admin2 TEXT,
    created_by INTEGER REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    ack_due_at TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP,
    responded_at TIMESTAMP,
    closed_at TIMESTAMP,
    satisfied BOOLEAN,
    contact_purged_at TIMESTAMP
);
CREATE INDEX feedback_operation ON feedback(operation_id, created_at);

CREATE TABLE feedback_events (
    id SERIAL PRIMARY KEY,
    feedback_id INTEGER NOT NULL REFERENCES feedback(id),
    action TEXT NOT NULL,
    note TEXT,
    referred_to TEXT,
    satisfied BOOLEAN,
    actor_user_id INTEGER REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX feedback_events_item ON feedback_events(feedback_id);

CREATE TABLE action_items (
    id SERIAL PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    indicator TEXT NOT NULL,
    action TEXT NOT NULL,
    owner TEXT NOT NULL,
    due_date DATE,
    support_needed TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX action_items_round ON action_items(round_id);

CREATE TABLE outbox (
    id SERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_by TEXT,
    claimed_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);

CREATE TABLE scorecard_sends (
    id SERIAL PRIMARY KEY,
    cluster_id INTEGER NOT NULL REFERENCES clusters(id),
    period TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (cluster_id, period)
);

CREATE TABLE audit_log (
    id SERIAL PRIMARY KEY,
    actor_user_id INTEGER REFERENCES users(id),
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL
);
