-- Indexes for the AAP indicators (src/aap.rs): each metrics query reads one narrow index
-- instead of the wide feedback rows. SQLite groups by sorting, so the two GROUP BY queries
-- get indexes ordered by their keys (the grouping then streams). The expressions are those
-- of src/aap.rs, character for character: SQLite reads them from the index only when they
-- match.

-- Items per channel, sex, age group and admin1.
CREATE INDEX feedback_profile ON feedback(operation_id, channel, sex, age_group, admin1, created_at);

-- Items per category, created month and state (flags that do not depend on the time).
CREATE INDEX feedback_volume ON feedback(
    operation_id,
    category,
    (CAST(substr(created_at, 1, 4) AS INTEGER) * 12 + CAST(substr(created_at, 6, 2) AS INTEGER) - 1),
    (sensitive + 2 * (acknowledged_at IS NOT NULL) + 4 * ((acknowledged_at <= ack_due_at) IS TRUE) + 8 * (closed_at IS NOT NULL) + 16 * (responded_at IS NOT NULL) + 32 * (satisfied IS NOT NULL) + 64 * (satisfied IS TRUE)),
    created_at,
    -- The columns of the expressions: SQLite treats the index as covering only with them.
    sensitive, acknowledged_at, ack_due_at, closed_at, responded_at, satisfied
);

-- Not yet acknowledged items (deadline and overdue counts).
CREATE INDEX feedback_unacknowledged ON feedback(operation_id, created_at, ack_due_at, closed_at, category, acknowledged_at)
    WHERE acknowledged_at IS NULL;

-- Closed items: closing month and time to close (for the medians).
CREATE INDEX feedback_closures ON feedback(
    operation_id,
    created_at,
    closed_at,
    (CAST(substr(closed_at, 1, 4) AS INTEGER) * 12 + CAST(substr(closed_at, 6, 2) AS INTEGER) - 1),
    CAST(round((julianday(closed_at) - julianday(created_at)) * 86400000.0) AS INTEGER)
) WHERE closed_at IS NOT NULL;
