-- The tenant's last signed CRL, shared by every instance on the database (see SQLite's 0011).
CREATE TABLE crl_builds (
    tenant_id    TEXT COLLATE "C" PRIMARY KEY NOT NULL REFERENCES tenants (id),
    crl_number   BIGINT NOT NULL,
    signer       BYTEA NOT NULL,
    built_at     BIGINT NOT NULL,
    der          BYTEA NOT NULL
);
