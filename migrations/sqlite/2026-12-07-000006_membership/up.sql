-- Cluster membership (issue 20, part 2): each operation's register of member and observer
-- organizations, its append-only history, the yearly self-assessment of the minimum
-- commitments (the organization's own statement, not anonymous), the one-time links
-- that let a focal point answer it, and the onboarding checklist.
CREATE TABLE memberships (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_id INTEGER NOT NULL REFERENCES operations(id),
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    status TEXT NOT NULL,
    level TEXT NOT NULL,
    since DATE NOT NULL,
    focal_point_email TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (operation_id, organization_id)
);
-- Every change to a register entry, as it was after the change (never rewritten).
CREATE TABLE membership_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    membership_id INTEGER NOT NULL REFERENCES memberships(id),
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    level TEXT NOT NULL,
    since DATE NOT NULL,
    focal_point_email TEXT,
    actor_user_id INTEGER REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX membership_events_membership ON membership_events (membership_id);
-- A statement per organization and year; a later one for the same year supersedes the
-- earlier (both kept). answers: JSON {commitment: {"rating", "comment"}}.
CREATE TABLE self_assessments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    membership_id INTEGER NOT NULL REFERENCES memberships(id),
    year INTEGER NOT NULL,
    answers TEXT NOT NULL,
    via TEXT NOT NULL,
    entered_by INTEGER REFERENCES users(id),
    submitted_at TIMESTAMP NOT NULL
);
CREATE INDEX self_assessments_membership ON self_assessments (membership_id, year);
CREATE TABLE self_assessment_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    membership_id INTEGER NOT NULL REFERENCES memberships(id),
    year INTEGER NOT NULL,
    email TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE TABLE onboarding_ticks (
    membership_id INTEGER NOT NULL REFERENCES memberships(id),
    item TEXT NOT NULL,
    ticked_by INTEGER REFERENCES users(id),
    ticked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (membership_id, item)
);
-- An invitation's standing in the operation's register when it was made: member,
-- observer, or NULL (not in the register). Counts only: never joined to a response.
ALTER TABLE invitations ADD COLUMN membership TEXT;
