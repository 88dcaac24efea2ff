-- Mamori store, schema version 1 (SQLite). Timestamps are microseconds since the Unix epoch (UTC),
-- the same representation as on PostgreSQL, so one set of queries serves both backends.
CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    name_ja     TEXT,
    time_zone   TEXT    NOT NULL DEFAULT 'Asia/Tokyo',
    created_at  INTEGER NOT NULL
);

CREATE TABLE tenants (
    id                     INTEGER PRIMARY KEY,
    customer_id            INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    app                    TEXT    NOT NULL CHECK (app IN ('m365', 'gws')),
    display_name           TEXT    NOT NULL,
    -- XChaCha20-Poly1305: 24-byte nonce followed by ciphertext and tag; never plaintext.
    credentials_ciphertext BLOB,
    -- Fingerprint of the master key that encrypted the credentials (not the key).
    credentials_key_id     TEXT,
    schedule_cron          TEXT,
    schedule_time_zone     TEXT    NOT NULL DEFAULT 'Asia/Tokyo',
    last_results_at        INTEGER,
    created_at             INTEGER NOT NULL
);
CREATE INDEX tenants_customer ON tenants (customer_id);

CREATE TABLE scans (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    status        TEXT    NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    created_at    INTEGER NOT NULL,
    started_at    INTEGER,
    finished_at   INTEGER,
    request_count INTEGER NOT NULL DEFAULT 0,
    error         TEXT
);
CREATE INDEX scans_tenant ON scans (tenant_id, id);

CREATE TABLE snapshots (
    id               INTEGER PRIMARY KEY,
    scan_id          INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
    data_gzip        BLOB    NOT NULL,
    size_bytes       INTEGER NOT NULL,
    compressed_bytes INTEGER NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX snapshots_scan ON snapshots (scan_id);

CREATE TABLE control_results (
    id          INTEGER PRIMARY KEY,
    scan_id     INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
    control_id  TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN
                ('pass', 'fail', 'warning', 'manual', 'not_applicable', 'error', 'omitted')),
    severity    TEXT    NOT NULL,
    details_en  TEXT    NOT NULL DEFAULT '',
    details_ja  TEXT    NOT NULL DEFAULT '',
    resources   TEXT    NOT NULL DEFAULT '[]',
    UNIQUE (scan_id, control_id)
);

CREATE TABLE findings (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    control_id     TEXT    NOT NULL,
    resource_key   TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL CHECK (status IN ('open', 'resolved', 'reopened')),
    severity       TEXT    NOT NULL,
    first_seen     INTEGER NOT NULL,
    last_seen      INTEGER NOT NULL,
    resolved_at    INTEGER,
    first_scan_id  INTEGER NOT NULL,
    last_scan_id   INTEGER NOT NULL,
    reopen_count   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, control_id, resource_key)
);
CREATE INDEX findings_tenant_status ON findings (tenant_id, status);
