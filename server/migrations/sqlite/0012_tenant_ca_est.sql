-- The tenant's own certificate authority and EST enrollment (docs/decisions.md, "The tenant's
-- CA and EST").

-- The private key of a tenant CA: the CA itself is a trusted certificate (deleting it deletes
-- the key). One CA per tenant is current (signs); after a rollover the earlier ones stay
-- trusted, not current, until deleted.
CREATE TABLE tenant_cas (
    certificate_id  INTEGER PRIMARY KEY NOT NULL REFERENCES trusted_certificates (id) ON DELETE CASCADE,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    private_key     TEXT NOT NULL,      -- PKCS#8, sealed with the server's secret key
    key_algorithm   TEXT NOT NULL,      -- P-256, RSA-2048, RSA-3072
    is_current      INTEGER NOT NULL CHECK (is_current IN (0, 1)),
    created_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX tenant_cas_current ON tenant_cas (tenant_id) WHERE is_current = 1;

-- /devicecontrol/newDeviceRequests. An EST one-time password is kept only as an HMAC under a
-- key derived from the secret key, with its expiry; enrolling deletes the request.
CREATE TABLE new_device_requests (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    device_id       TEXT NOT NULL,
    status          TEXT NOT NULL,
    device_type     TEXT,
    name            TEXT,
    group_id        TEXT,
    otp_hash        TEXT,
    otp_expires_at  INTEGER,            -- unix seconds
    owner           TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, device_id)
);

-- Certificates the tenant CA issued over EST; the newest 100 per device are kept.
CREATE TABLE issued_certificates (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,   -- the order of issue
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    serial_hex      TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    ca_id           INTEGER NOT NULL,   -- trusted_certificates.id of the CA (no reference: kept after the CA)
    ca_fingerprint  TEXT NOT NULL,
    not_before      TEXT NOT NULL,
    not_after       TEXT NOT NULL,
    der             BLOB NOT NULL,      -- the certificate, re-delivered to a retried re-enrollment
    parent          TEXT,              -- fingerprint of the certificate that asked for it (re-enrollment)
    how             TEXT NOT NULL CHECK (how IN ('ENROLL', 'REENROLL')),
    issued_at       INTEGER NOT NULL,   -- unix milliseconds
    first_used_at   TEXT,
    UNIQUE (tenant_id, serial_hex)
);
CREATE INDEX issued_certificates_by_device ON issued_certificates (tenant_id, device_id, id);
CREATE INDEX issued_certificates_by_fingerprint ON issued_certificates (fingerprint);
