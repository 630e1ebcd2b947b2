-- A device token is tied to the certificate it was issued for: its serial (normalized hex, as
-- revocation entries are kept) and its SHA-1 fingerprint. Revoking that serial stops the token
-- at its next use; a device presenting another certificate gets a new token, not the old one.
ALTER TABLE device_tokens ADD COLUMN cert_serial_hex TEXT;
ALTER TABLE device_tokens ADD COLUMN cert_fingerprint TEXT;

-- The last certificates each device used for a successful token (the platform keeps 5).
CREATE TABLE provisioned_certificates (
    tenant_id       TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,   -- lowercase hex SHA-1 of the DER
    serial_number   TEXT NOT NULL,   -- decimal, as trusted certificates show it
    serial_hex      TEXT NOT NULL,   -- normalized hex, as revocation entries are kept
    subject         TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    not_before      TEXT NOT NULL,
    not_after       TEXT NOT NULL,
    first_used_at   TEXT NOT NULL,
    last_used_at    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_name, fingerprint),
    FOREIGN KEY (tenant_id, user_name) REFERENCES device_users (tenant_id, user_name) ON DELETE CASCADE
);

CREATE INDEX provisioned_certificates_by_use ON provisioned_certificates (tenant_id, user_name, last_used_at);
