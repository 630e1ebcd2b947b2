-- Tenant options, the JWT signing key, device users and the device tokens issued to them.
CREATE TABLE tenant_options (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    category    TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, category, key)
);

-- Made at first start; shared by every instance using this database.
CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY NOT NULL,
    algorithm    TEXT NOT NULL,
    private_key  BLOB NOT NULL,   -- PKCS#8 DER
    public_x     TEXT NOT NULL,   -- base64url, as in a JWK
    public_y     TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE TABLE device_users (
    tenant_id              TEXT NOT NULL REFERENCES tenants (id),
    user_name              TEXT NOT NULL,   -- device_<external id>
    device_id              TEXT NOT NULL,   -- the external id (certificate CN)
    auth_type              TEXT NOT NULL CHECK (auth_type IN ('CERTIFICATES', 'BASIC')),
    password_hash          TEXT,            -- BASIC devices only, argon2
    registered_by          TEXT NOT NULL CHECK (registered_by IN ('AUTO_REGISTRATION', 'BULK')),
    created_at             TEXT NOT NULL,
    last_token_at          TEXT,
    last_cert_serial       TEXT,
    last_cert_fingerprint  TEXT,
    last_ca_fingerprint    TEXT,
    PRIMARY KEY (tenant_id, user_name)
);

CREATE TABLE device_tokens (
    jti         TEXT PRIMARY KEY NOT NULL,
    tenant_id   TEXT NOT NULL,
    user_name   TEXT NOT NULL,
    token       TEXT NOT NULL,
    issued_at   INTEGER NOT NULL,   -- unix seconds
    expires_at  INTEGER NOT NULL,
    revoked     INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
    FOREIGN KEY (tenant_id, user_name) REFERENCES device_users (tenant_id, user_name) ON DELETE CASCADE
);

CREATE INDEX device_tokens_by_user ON device_tokens (tenant_id, user_name, issued_at);
