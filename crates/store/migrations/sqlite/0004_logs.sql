-- Mamori store, schema version 4 (SQLite): threat detection from audit logs. Per tenant and log
-- source, the pull checkpoint and the detector's state (saved in the same transaction as the
-- alerts a batch raised); event ids already processed; alerts with status history; pushed
-- batches waiting for a worker (the spool); per-minute metering and the flood guard. Same
-- tables, column for column, as migrations/postgres/0004_logs.sql.

-- Jobs carry a kind: `scan` (as before) or `logs` (one pull of a tenant's audit logs). At most
-- one running job per tenant and kind, one job per tenant, kind and schedule slot.
ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'scan' CHECK (kind IN ('scan', 'logs'));
DROP INDEX jobs_slot;
DROP INDEX jobs_one_running;
CREATE UNIQUE INDEX jobs_slot ON jobs (tenant_id, kind, scheduled_for);
CREATE UNIQUE INDEX jobs_one_running ON jobs (tenant_id, kind) WHERE status = 'running';
DROP INDEX jobs_due;
CREATE INDEX jobs_due ON jobs (kind, status, run_after, id);

CREATE TABLE log_streams (
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    source      TEXT    NOT NULL CHECK (source IN ('m365', 'entra-signin', 'entra-audit', 'gws')),
    -- The connector's checkpoint (JSON) of the last committed pull; NULL before the first.
    checkpoint  TEXT,
    -- The detector's state after the last committed batch (gzip JSON).
    state       BLOB,
    -- Bumped by every commit: a writer that read an older version lost a race and retries.
    version     INTEGER NOT NULL DEFAULT 0,
    events      INTEGER NOT NULL DEFAULT 0,
    duplicates  INTEGER NOT NULL DEFAULT 0,
    quarantined INTEGER NOT NULL DEFAULT 0,
    last_event_at INTEGER,
    last_error  TEXT,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, source)
);

-- Ids of events already processed (64 bits of the SHA-256 of the vendor's id), so a record
-- delivered twice (a pull retried, a batch pushed again) is counted once. Pruned by age.
CREATE TABLE log_seen (
    tenant_id INTEGER NOT NULL,
    source    TEXT    NOT NULL,
    id_hash   INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, source, id_hash)
) WITHOUT ROWID;
CREATE INDEX log_seen_age ON log_seen (at);

CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    -- The detector's key (rule, entities, first event): later batches update the same alert.
    alert_key     TEXT    NOT NULL,
    rule_id       TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    severity      TEXT    NOT NULL,
    severity_rank INTEGER NOT NULL,
    title_en      TEXT    NOT NULL,
    title_ja      TEXT    NOT NULL,
    response_en   TEXT    NOT NULL DEFAULT '',
    response_ja   TEXT    NOT NULL DEFAULT '',
    attack        TEXT    NOT NULL DEFAULT '[]',
    entities      TEXT    NOT NULL DEFAULT '{}',
    event_ids     TEXT    NOT NULL DEFAULT '[]',
    count         INTEGER NOT NULL DEFAULT 1,
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'open'
                  CHECK (status IN ('open', 'acknowledged', 'resolved', 'false_positive')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (tenant_id, alert_key)
);
CREATE INDEX alerts_order ON alerts (last_seen DESC, id);
CREATE INDEX alerts_tenant_order ON alerts (tenant_id, last_seen DESC, id);
CREATE INDEX alerts_open ON alerts (tenant_id, severity) WHERE status IN ('open', 'acknowledged');

CREATE TABLE alert_events (
    id            INTEGER PRIMARY KEY,
    alert_id      INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    at            INTEGER NOT NULL,
    actor_user_id INTEGER,
    from_status   TEXT,
    to_status     TEXT    NOT NULL,
    note          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, at, id);

-- Pushed NDJSON batches (gzip), consumed in order per tenant and source: only the oldest row of
-- each (tenant, source) can be leased, and it is deleted in the transaction that commits it.
CREATE TABLE log_spool (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    source           TEXT    NOT NULL CHECK (source IN ('m365', 'entra-signin', 'entra-audit', 'gws')),
    body             BLOB    NOT NULL,
    events           INTEGER NOT NULL,
    bytes            INTEGER NOT NULL,
    received_at      INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    last_error       TEXT
);
CREATE INDEX log_spool_queue ON log_spool (tenant_id, source, id);

-- Events and bytes per tenant and minute (Unix minutes), from pulls and pushes; kept for
-- reports and billing.
CREATE TABLE log_meter (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    minute    INTEGER NOT NULL,
    events    INTEGER NOT NULL DEFAULT 0,
    bytes     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, minute)
);

-- The flood guard's decision per tenant: normal (no row), throttled or suspended.
CREATE TABLE log_guard (
    tenant_id  INTEGER PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    state      TEXT    NOT NULL CHECK (state IN ('normal', 'throttled', 'suspended')),
    reason     TEXT    NOT NULL DEFAULT '',
    since      INTEGER NOT NULL,
    -- When a throttle lifts or a suspension ends by itself; NULL: until an operator resumes.
    until      INTEGER,
    -- NULL: the guard decided; else the operator who did.
    set_by     INTEGER,
    updated_at INTEGER NOT NULL
);
