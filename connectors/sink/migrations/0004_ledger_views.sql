-- Analyst views over the ledger. Each first keeps one row per entry, the one
-- with the highest version (argMax), so that duplicates not yet merged away
-- are never counted twice; the aliases differ from the column names because
-- ClickHouse substitutes an alias wherever its name appears.

-- Points per tenant, UTC day and entry type.
CREATE VIEW IF NOT EXISTS {db}.ledger_daily AS
SELECT
    tenant_id,
    toDate(entry_occurred_at) AS day,
    entry_type AS type,
    sum(entry_points) AS points,
    count() AS entries
FROM
(
    SELECT
        tenant_id,
        entry_id,
        argMax(type, version) AS entry_type,
        argMax(points, version) AS entry_points,
        argMax(occurred_at, version) AS entry_occurred_at
    FROM {db}.ledger
    GROUP BY tenant_id, entry_id
)
GROUP BY tenant_id, day, type;

-- Balance and lifetime figures per customer, as finding 18 defines them.
CREATE VIEW IF NOT EXISTS {db}.points_balance AS
SELECT
    tenant_id,
    customer_id,
    sum(entry_points) AS balance,
    sumIf(entry_points, entry_type = 'earn') + sumIf(entry_points, entry_type = 'reverse')
        AS lifetime_earned,
    -sumIf(entry_points, entry_type = 'spend') AS lifetime_spent,
    -sumIf(entry_points, entry_type = 'expire') AS lifetime_expired,
    count() AS entries,
    max(entry_recorded_at) AS last_entry_at
FROM
(
    SELECT
        tenant_id,
        customer_id,
        entry_id,
        argMax(type, version) AS entry_type,
        argMax(points, version) AS entry_points,
        argMax(recorded_at, version) AS entry_recorded_at
    FROM {db}.ledger
    GROUP BY tenant_id, customer_id, entry_id
)
GROUP BY tenant_id, customer_id;

-- Remaining points per lot: the sum of the signed changes every entry made to
-- it, the earn that opened it included.
CREATE VIEW IF NOT EXISTS {db}.lot_balance AS
SELECT
    tenant_id,
    customer_id,
    lot_id,
    sum(lot_change) AS remaining_points,
    min(entry_occurred_at) AS opened_at,
    max(entry_occurred_at) AS last_change_at
FROM
(
    SELECT
        tenant_id,
        customer_id,
        entry_id,
        argMax(lot_ids, version) AS entry_lot_ids,
        argMax(lot_points, version) AS entry_lot_points,
        argMax(occurred_at, version) AS entry_occurred_at
    FROM {db}.ledger
    GROUP BY tenant_id, customer_id, entry_id
)
ARRAY JOIN
    entry_lot_ids AS lot_id,
    entry_lot_points AS lot_change
GROUP BY tenant_id, customer_id, lot_id;
