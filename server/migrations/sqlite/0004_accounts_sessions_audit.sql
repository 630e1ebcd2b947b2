-- Accounts that can be disabled, browser sessions, and the audit log.
ALTER TABLE users ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1));
ALTER TABLE users ADD COLUMN password_changed_at TEXT;

CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY NOT NULL,   -- SHA-256 (hex) of the session token; the token itself is never stored
    tenant_id   TEXT NOT NULL,
    user_name   TEXT NOT NULL,
    xsrf_token  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,            -- unix seconds
    last_seen   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,            -- absolute limit
    FOREIGN KEY (tenant_id, user_name) REFERENCES users (tenant_id, user_name) ON DELETE CASCADE
);
CREATE INDEX sessions_by_user ON sessions (tenant_id, user_name);

CREATE TABLE audit_records (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       TEXT NOT NULL,
    type            TEXT NOT NULL,
    activity        TEXT NOT NULL,
    text            TEXT NOT NULL,
    time            TEXT NOT NULL,
    user            TEXT,
    severity        TEXT NOT NULL,
    client_address  TEXT,
    details         TEXT                     -- JSON object
);
CREATE INDEX audit_records_by_time ON audit_records (tenant_id, time, id);
CREATE INDEX audit_records_by_type ON audit_records (tenant_id, type, time);

-- Audit records cannot be changed or deleted, whatever code runs.
CREATE TRIGGER audit_records_are_final_update BEFORE UPDATE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records cannot be changed'); END;
CREATE TRIGGER audit_records_are_final_delete BEFORE DELETE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records cannot be deleted'); END;
