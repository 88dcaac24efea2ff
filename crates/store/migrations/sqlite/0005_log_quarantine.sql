-- Mamori store, schema version 5 (SQLite): audit-log records that could not become events (not
-- a JSON object, no time, …), kept with the reason so an operator can see what a source sent;
-- the first 64 KiB of each, at most 100 per batch (the stream counts them all). Pruned with the
-- processed event ids. Same table as migrations/postgres/0005_log_quarantine.sql.
CREATE TABLE log_quarantine (
    id        INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    source    TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    reason    TEXT    NOT NULL,
    raw       TEXT    NOT NULL
);
CREATE INDEX log_quarantine_tenant ON log_quarantine (tenant_id, id);
CREATE INDEX log_quarantine_age ON log_quarantine (at);
