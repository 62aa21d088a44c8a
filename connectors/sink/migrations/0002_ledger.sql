-- Every ledger entry of the ledger topic, one row per entryId. customer_id is
-- part of the key so that one customer's history is read from a narrow range;
-- an entry never changes customer, so the key still identifies the entry.
CREATE TABLE IF NOT EXISTS {db}.ledger
(
    tenant_id         String,
    customer_id       String,
    entry_id          String,
    type              String,
    points            Int64,
    balance_after     Int64,
    event_id          String,
    source            String,
    economy_id        Nullable(String),
    rule_id           Nullable(String),
    rule_version      Nullable(Int32),
    action_index      Nullable(Int32),
    lot_ids           Array(String),
    lot_points        Array(Int64),
    reverses_entry_id Nullable(String),
    occurred_at       DateTime('UTC'),
    occurred_at_ms    UInt16,
    recorded_at       DateTime('UTC'),
    recorded_at_ms    UInt16,
    reason            Nullable(String),
    shortfall         Int64,
    actor             Nullable(String),
    version           UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant_id, customer_id, entry_id);
