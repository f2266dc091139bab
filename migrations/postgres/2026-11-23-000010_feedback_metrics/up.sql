-- Indexes for the AAP indicators (src/aap.rs): each metrics query reads a narrow index
-- (index-only scan) instead of the wide feedback rows. PostgreSQL groups by hashing, so
-- unlike SQLite it needs no index ordered by the GROUP BY keys, only the columns.
CREATE INDEX feedback_metrics ON feedback(operation_id, created_at)
    INCLUDE (category, channel, sex, age_group, admin1, sensitive, ack_due_at,
             acknowledged_at, responded_at, closed_at, satisfied);

-- Not yet acknowledged items (deadline and overdue counts).
CREATE INDEX feedback_unacknowledged ON feedback(operation_id, created_at)
    INCLUDE (ack_due_at, closed_at) WHERE acknowledged_at IS NULL;

-- Closed items (for the medians).
CREATE INDEX feedback_closures ON feedback(operation_id, created_at)
    INCLUDE (closed_at) WHERE closed_at IS NOT NULL;
