-- Mamori store, schema version 2 (SQLite): the multi-customer server. Users, sessions and API
-- tokens; the audit log; finding history and risk acceptance (exceptions); posture scores; the
-- scan job queue; notification channels and their outbox. Same tables, column for column, as
-- migrations/postgres/0002_platform.sql. Booleans are BOOLEAN (0/1 here, boolean there).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    -- The username as given, and its lower-case form, which is unique (login ignores case).
    username      TEXT    NOT NULL,
    username_key  TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('operator_admin', 'analyst', 'investigator',
                                                   'billing', 'customer_admin', 'customer_viewer')),
    -- Set exactly for the customer roles.
    customer_id   INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    lang          TEXT    NOT NULL DEFAULT 'ja' CHECK (lang IN ('ja', 'en')),
    -- Argon2id PHC string; never the password.
    password_hash TEXT    NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    INTEGER NOT NULL,
    CHECK ((role IN ('customer_admin', 'customer_viewer')) = (customer_id IS NOT NULL))
);
CREATE INDEX users_customer ON users (customer_id);

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- SHA-256 (hex) of the cookie token; the token itself is never stored.
    token_hash  TEXT    NOT NULL UNIQUE,
    csrf_token  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    -- SHA-256 (hex) of the secret; the secret itself is never stored.
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked      BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- A log: no foreign keys, so events outlive what they name.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    actor_user_id INTEGER,
    customer_id   INTEGER,
    action        TEXT    NOT NULL,
    target        TEXT    NOT NULL DEFAULT '',
    detail        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_customer ON audit_log (customer_id, id);

CREATE TABLE exceptions (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    control_id     TEXT    NOT NULL,
    -- NULL: every resource of the control.
    resource_key   TEXT,
    reason         TEXT    NOT NULL,
    requested_by   INTEGER NOT NULL REFERENCES users(id),
    requested_at   INTEGER NOT NULL,
    decided_by     INTEGER REFERENCES users(id),
    decided_at     INTEGER,
    decision_note  TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL DEFAULT 'requested'
                   CHECK (status IN ('requested', 'approved', 'rejected', 'expired', 'revoked')),
    expires_at     INTEGER NOT NULL,
    needs_review   BOOLEAN NOT NULL DEFAULT FALSE,
    revoked_by     INTEGER REFERENCES users(id),
    revoked_at     INTEGER
);
CREATE INDEX exceptions_tenant ON exceptions (tenant_id, status);
CREATE INDEX exceptions_expiry ON exceptions (status, expires_at);

-- Findings: the exception that accepts the risk (while it is approved), and the severity's rank
-- (critical 0, high 1, medium 2, low 3, info 4, other 5) for ordering by index.
ALTER TABLE findings ADD COLUMN accepted_exception_id INTEGER REFERENCES exceptions(id) ON DELETE SET NULL;
ALTER TABLE findings ADD COLUMN severity_rank INTEGER NOT NULL DEFAULT 5;
UPDATE findings SET severity_rank = CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1
    WHEN 'medium' THEN 2 WHEN 'low' THEN 3 WHEN 'info' THEN 4 ELSE 5 END;
CREATE INDEX findings_order ON findings (severity_rank, last_seen DESC, id);
CREATE INDEX findings_tenant_order ON findings (tenant_id, severity_rank, last_seen DESC, id);
CREATE INDEX findings_accepted ON findings (accepted_exception_id);
-- Active, unaccepted findings per tenant and severity (the dashboard's counts).
CREATE INDEX findings_active ON findings (tenant_id, severity)
    WHERE status IN ('open', 'reopened') AND accepted_exception_id IS NULL;

CREATE TABLE finding_events (
    id          INTEGER PRIMARY KEY,
    finding_id  INTEGER NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
    scan_id     INTEGER REFERENCES scans(id) ON DELETE SET NULL,
    at          INTEGER NOT NULL,
    from_status TEXT,
    to_status   TEXT    NOT NULL,
    note        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX finding_events_finding ON finding_events (finding_id, at, id);

CREATE TABLE scores (
    id         INTEGER PRIMARY KEY,
    scan_id    INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    at         INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('overall', 'app', 'framework')),
    key        TEXT    NOT NULL DEFAULT '',
    score      REAL    NOT NULL,
    passed     INTEGER NOT NULL DEFAULT 0,
    failed     INTEGER NOT NULL DEFAULT 0,
    accepted   INTEGER NOT NULL DEFAULT 0,
    errors     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (scan_id, kind, key)
);
CREATE INDEX scores_series ON scores (kind, tenant_id, key, scan_id);

ALTER TABLE tenants ADD COLUMN last_scheduled_for INTEGER;

CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    status           TEXT    NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    -- The schedule slot a scheduled job is for; NULL for a manual scan.
    scheduled_for    INTEGER,
    run_after        INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL DEFAULT 3,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    scan_id          INTEGER REFERENCES scans(id) ON DELETE SET NULL,
    error            TEXT,
    created_at       INTEGER NOT NULL,
    finished_at      INTEGER
);
-- One job per schedule slot (NULLs are distinct: manual jobs are never duplicates).
CREATE UNIQUE INDEX jobs_slot ON jobs (tenant_id, scheduled_for);
-- Never two running jobs of one tenant.
CREATE UNIQUE INDEX jobs_one_running ON jobs (tenant_id) WHERE status = 'running';
CREATE INDEX jobs_due ON jobs (status, run_after, id);

CREATE TABLE notification_channels (
    id                INTEGER PRIMARY KEY,
    -- NULL: operator-wide.
    customer_id       INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    name              TEXT    NOT NULL,
    kind              TEXT    NOT NULL CHECK (kind IN ('webhook', 'slack', 'teams', 'email')),
    min_severity      TEXT    NOT NULL,
    enabled           BOOLEAN NOT NULL DEFAULT TRUE,
    -- XChaCha20-Poly1305 like tenant credentials, with the channel id as associated data.
    config_ciphertext BLOB    NOT NULL,
    config_key_id     TEXT    NOT NULL,
    created_at        INTEGER NOT NULL
);
CREATE INDEX notification_channels_customer ON notification_channels (customer_id);

CREATE TABLE notification_outbox (
    id              INTEGER PRIMARY KEY,
    channel_id      INTEGER NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
    payload         TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    last_error      TEXT,
    claimed_by      TEXT,
    sent_at         INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE INDEX notification_outbox_due ON notification_outbox (status, next_attempt_at, id);
CREATE INDEX notification_outbox_channel ON notification_outbox (channel_id, id);
