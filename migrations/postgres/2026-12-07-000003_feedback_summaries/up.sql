-- Summary rows for the AAP indicators (src/domain/feedback/summaries.rs, docs/feedback-metrics.md):
-- per operation, per created day (grain 1) and per created month (grain 2, period = first
-- day of the month). Kept up to date in the transaction of every feedback write; filled here
-- from the existing items with the statements of `clusterpulse feedback rebuild-summaries`.

CREATE TABLE feedback_sum_items (
    operation_id INTEGER NOT NULL REFERENCES operations(id),
    grain INTEGER NOT NULL,
    period DATE NOT NULL,
    sensitive BOOLEAN NOT NULL,
    category TEXT NOT NULL,
    items BIGINT NOT NULL,
    acknowledged BIGINT NOT NULL,
    ack_in_sla BIGINT NOT NULL,
    closed BIGINT NOT NULL,
    closed_responded BIGINT NOT NULL,
    closed_rated BIGINT NOT NULL,
    closed_satisfied BIGINT NOT NULL,
    PRIMARY KEY (operation_id, grain, period, sensitive, category)
);

CREATE TABLE feedback_sum_profile (
    operation_id INTEGER NOT NULL REFERENCES operations(id),
    grain INTEGER NOT NULL,
    period DATE NOT NULL,
    sensitive BOOLEAN NOT NULL,
    dimension TEXT NOT NULL,
    value TEXT NOT NULL,
    items BIGINT NOT NULL,
    PRIMARY KEY (operation_id, grain, period, sensitive, dimension, value)
);

-- Items not yet acknowledged, per date of their deadline.
CREATE TABLE feedback_sum_unacked (
    operation_id INTEGER NOT NULL REFERENCES operations(id),
    grain INTEGER NOT NULL,
    period DATE NOT NULL,
    sensitive BOOLEAN NOT NULL,
    due_day DATE NOT NULL,
    items BIGINT NOT NULL,
    open_items BIGINT NOT NULL,
    PRIMARY KEY (operation_id, grain, period, sensitive, due_day)
);

-- Closed items per month of closing and hour of time to close (bucket = milliseconds / 3600000).
CREATE TABLE feedback_sum_closures (
    operation_id INTEGER NOT NULL REFERENCES operations(id),
    grain INTEGER NOT NULL,
    period DATE NOT NULL,
    sensitive BOOLEAN NOT NULL,
    closed_month DATE NOT NULL,
    bucket INTEGER NOT NULL,
    items BIGINT NOT NULL,
    PRIMARY KEY (operation_id, grain, period, sensitive, closed_month, bucket)
);

-- The two remainders read from the items (expressions as in src/domain/feedback/metrics/summary.rs):
-- the exact times to close inside one bucket, and the not yet acknowledged items whose
-- deadline is today.
CREATE INDEX feedback_close_times ON feedback(
    operation_id,
    date_trunc('month', closed_at),
    (CAST(round(date_part('epoch', closed_at - created_at) * 1000) AS BIGINT))
) INCLUDE (created_at, closed_at, sensitive) WHERE closed_at IS NOT NULL;
CREATE INDEX feedback_unacked_due ON feedback(operation_id, ack_due_at)
    INCLUDE (created_at, closed_at, sensitive) WHERE acknowledged_at IS NULL;

-- Summaries of the existing items (the statements of `clusterpulse feedback rebuild-summaries`).
INSERT INTO feedback_sum_items (operation_id, grain, period, sensitive, category, items, acknowledged, ack_in_sla, closed, closed_responded, closed_rated, closed_satisfied)
SELECT f.operation_id, g.grain,
    CASE g.grain WHEN 1 THEN CAST(f.created_at AS DATE) ELSE CAST(date_trunc('month', f.created_at) AS DATE) END,
    f.sensitive, f.category,
    count(*), count(*) FILTER (WHERE f.acknowledged_at IS NOT NULL), count(*) FILTER (WHERE f.acknowledged_at <= f.ack_due_at), count(*) FILTER (WHERE f.closed_at IS NOT NULL), count(*) FILTER (WHERE f.closed_at IS NOT NULL AND f.responded_at IS NOT NULL), count(*) FILTER (WHERE f.closed_at IS NOT NULL AND f.satisfied IS NOT NULL), count(*) FILTER (WHERE f.closed_at IS NOT NULL AND f.satisfied IS TRUE)
FROM feedback AS f CROSS JOIN (SELECT 1 AS grain UNION ALL SELECT 2) AS g
WHERE TRUE
GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (operation_id, grain, period, sensitive, category) DO UPDATE SET items = feedback_sum_items.items + excluded.items, acknowledged = feedback_sum_items.acknowledged + excluded.acknowledged, ack_in_sla = feedback_sum_items.ack_in_sla + excluded.ack_in_sla, closed = feedback_sum_items.closed + excluded.closed, closed_responded = feedback_sum_items.closed_responded + excluded.closed_responded, closed_rated = feedback_sum_items.closed_rated + excluded.closed_rated, closed_satisfied = feedback_sum_items.closed_satisfied + excluded.closed_satisfied;

INSERT INTO feedback_sum_profile (operation_id, grain, period, sensitive, dimension, value, items)
SELECT f.operation_id, g.grain,
    CASE g.grain WHEN 1 THEN CAST(f.created_at AS DATE) ELSE CAST(date_trunc('month', f.created_at) AS DATE) END,
    f.sensitive, d.dimension, CASE d.dimension WHEN 'channel' THEN f.channel WHEN 'sex' THEN COALESCE(f.sex, 'unknown') WHEN 'age_group' THEN COALESCE(f.age_group, 'unknown') ELSE COALESCE(f.admin1, 'unknown') END,
    count(*)
FROM feedback AS f CROSS JOIN (SELECT 1 AS grain UNION ALL SELECT 2) AS g CROSS JOIN (SELECT 'channel' AS dimension UNION ALL SELECT 'sex' UNION ALL SELECT 'age_group' UNION ALL SELECT 'admin1') AS d
WHERE TRUE
GROUP BY 1, 2, 3, 4, 5, 6
ON CONFLICT (operation_id, grain, period, sensitive, dimension, value) DO UPDATE SET items = feedback_sum_profile.items + excluded.items;

INSERT INTO feedback_sum_unacked (operation_id, grain, period, sensitive, due_day, items, open_items)
SELECT f.operation_id, g.grain,
    CASE g.grain WHEN 1 THEN CAST(f.created_at AS DATE) ELSE CAST(date_trunc('month', f.created_at) AS DATE) END,
    f.sensitive, CAST(f.ack_due_at AS DATE),
    count(*), count(*) FILTER (WHERE f.closed_at IS NULL)
FROM feedback AS f CROSS JOIN (SELECT 1 AS grain UNION ALL SELECT 2) AS g
WHERE TRUE AND f.acknowledged_at IS NULL
GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (operation_id, grain, period, sensitive, due_day) DO UPDATE SET items = feedback_sum_unacked.items + excluded.items, open_items = feedback_sum_unacked.open_items + excluded.open_items;

INSERT INTO feedback_sum_closures (operation_id, grain, period, sensitive, closed_month, bucket, items)
SELECT f.operation_id, g.grain,
    CASE g.grain WHEN 1 THEN CAST(f.created_at AS DATE) ELSE CAST(date_trunc('month', f.created_at) AS DATE) END,
    f.sensitive, CAST(date_trunc('month', f.closed_at) AS DATE), CAST(round(date_part('epoch', f.closed_at - f.created_at) * 1000) AS BIGINT) / 3600000,
    count(*)
FROM feedback AS f CROSS JOIN (SELECT 1 AS grain UNION ALL SELECT 2) AS g
WHERE TRUE AND f.closed_at IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6
ON CONFLICT (operation_id, grain, period, sensitive, closed_month, bucket) DO UPDATE SET items = feedback_sum_closures.items + excluded.items;
