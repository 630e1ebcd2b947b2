-- Certificate expiry alarms (docs/decisions.md, "Expiry alarms (issue 16)"): one row per
-- tenant, type and certificate, updated in place by each evaluation, never added to.
CREATE TABLE alarms (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id              TEXT NOT NULL REFERENCES tenants (id),
    type                   TEXT NOT NULL,
    fingerprint            TEXT NOT NULL,   -- lowercase hex SHA-1 of the certificate
    serial_hex             TEXT NOT NULL,
    not_after              TEXT NOT NULL,   -- platform format, compared as text
    source_id              TEXT NOT NULL,   -- managed object id, or the CA's fingerprint
    source_name            TEXT,
    device_id              TEXT,            -- external id, device certificates only
    severity               TEXT NOT NULL CHECK (severity IN ('CRITICAL', 'MAJOR', 'MINOR', 'WARNING')),
    status                 TEXT NOT NULL CHECK (status IN ('ACTIVE', 'ACKNOWLEDGED', 'CLEARED')),
    cleared_by             TEXT CHECK (cleared_by IN ('SERVER', 'USER')),
    text                   TEXT NOT NULL,
    count                  INTEGER NOT NULL,
    creation_time          TEXT NOT NULL,
    first_occurrence_time  TEXT NOT NULL,
    time                   TEXT NOT NULL,
    last_updated           TEXT NOT NULL,
    UNIQUE (tenant_id, type, fingerprint)
);
CREATE INDEX alarms_by_time ON alarms (tenant_id, time, id);

-- The notAfter of the certificate each device last presented for a token.
ALTER TABLE device_users ADD COLUMN last_cert_not_after TEXT;
CREATE INDEX device_users_by_cert_expiry ON device_users (tenant_id, last_cert_not_after);
CREATE INDEX issued_certificates_by_expiry ON issued_certificates (tenant_id, not_after);
