-- Every record of the assessments topic: one assessed client event and the
-- customer as its rules saw it, as JSON, for backtests (docs/admin-api.md).
-- A copy written again after a processor crash shares the sorting key and
-- the version, and disappears when parts merge; backtests read with FINAL.
CREATE TABLE IF NOT EXISTS {db}.assessments
(
    tenant_id     String,
    customer_id   String,
    event_id      String,
    event_type    String,
    created_at    DateTime('UTC'),
    created_at_ms UInt16,
    event         String,
    snapshot      String,
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (tenant_id, created_at, event_id);
