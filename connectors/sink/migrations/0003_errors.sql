-- Every error event of the errors topic, one row per error event id.
CREATE TABLE IF NOT EXISTS {db}.errors
(
    tenant_id         String,
    error_id          String,
    customer_id       String,
    created_at        DateTime('UTC'),
    created_at_ms     UInt16,
    name_space        String,
    source            String,
    code              Nullable(String),
    message           String,
    description       Nullable(String),
    caused_by         Nullable(String),
    failed_event_id   Nullable(String),
    failed_event_type String,
    failed_name_space Nullable(String),
    failed_event      String,
    failed_raw        String,
    version           UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (tenant_id, error_id);
