-- Every event envelope of the events topic, one row per eventId.
-- Duplicates from redelivery share (tenant_id, event_id) and the version, and
-- disappear when parts merge; query with FINAL or argMax (docs/clickhouse.md).
CREATE TABLE IF NOT EXISTS {db}.events
(
    tenant_id           String,
    event_id            String,
    customer_id         String,
    created_at          DateTime('UTC'),
    created_at_ms       UInt16,
    received_at         DateTime('UTC'),
    received_at_ms      UInt16,
    name_space          String,
    reference           Nullable(String),
    description         Nullable(String),
    campaign            Nullable(String),
    origin              String,
    depth               Int32,
    caused_by           Nullable(String),
    event_type          String,
    attribute_keys      Array(String),
    attribute_values    Array(String),
    total               Nullable(Decimal(18, 4)),
    tax_total           Nullable(Decimal(18, 4)),
    shipping_total      Nullable(Decimal(18, 4)),
    payment_amount      Nullable(Decimal(18, 4)),
    quantity            Nullable(Decimal(18, 4)),
    currency            Nullable(String),
    payment_bin         Nullable(String),
    payment_bank        Nullable(String),
    payment_scheme      Nullable(String),
    action_amount       Nullable(Decimal(18, 4)),
    action_count        Nullable(Int64),
    points_quantity     Nullable(Int64),
    points_reason       Nullable(String),
    redemption_quantity Nullable(Int64),
    redemption_reward   Nullable(String),
    anniversary_years   Nullable(Int32),
    item_skus           Array(String),
    item_categories     Array(String),
    item_quantities     Array(Decimal(18, 4)),
    item_unit_prices    Array(Decimal(18, 4)),
    item_totals         Array(Decimal(18, 4)),
    tags                Array(String),
    body                String,
    version             UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (tenant_id, event_id);
