-- Tenants, users and trusted certificates. Every row carries its tenant id.
CREATE TABLE tenants (
    id          TEXT PRIMARY KEY NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE users (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    user_name      TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'reader')),
    created_at     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_name)
);

CREATE TABLE trusted_certificates (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id                  TEXT NOT NULL REFERENCES tenants (id),
    -- Lowercase hex SHA-1 of the DER; unique across the instance, as on the platform.
    fingerprint                TEXT NOT NULL UNIQUE,
    name                       TEXT NOT NULL,
    status                     TEXT NOT NULL CHECK (status IN ('ENABLED', 'DISABLED')),
    auto_registration_enabled  INTEGER NOT NULL CHECK (auto_registration_enabled IN (0, 1)),
    der                        BLOB NOT NULL,
    serial_number              TEXT NOT NULL,
    version                    INTEGER NOT NULL,
    algorithm_name             TEXT NOT NULL,
    subject                    TEXT NOT NULL,
    issuer                     TEXT NOT NULL,
    not_before                 TEXT NOT NULL,
    not_after                  TEXT NOT NULL,
    -- For issuer look-ups when devices authenticate: by subject name and by key id.
    subject_der                BLOB NOT NULL,
    subject_key_id             TEXT,
    created_at                 TEXT NOT NULL,
    updated_at                 TEXT NOT NULL
);

CREATE INDEX trusted_certificates_by_tenant ON trusted_certificates (tenant_id, id);
CREATE INDEX trusted_certificates_by_subject ON trusted_certificates (subject_der);
CREATE INDEX trusted_certificates_by_key_id ON trusted_certificates (subject_key_id);
