-- The offline certificate revocation list (`PUT/GET /tenant/trusted-certificates/settings/crl`).
--
-- One row per revoked serial of a tenant. The serial is in normal form (lowercase hex without
-- colons or leading zeros, `anchorage_common::crl`), the revocation date in the platform's
-- format (`2023-01-11T16:12:36.288Z`, UTC). The primary key is the table's own B-tree
-- (WITHOUT ROWID): the token endpoint's look-up by tenant and serial is one index seek.
CREATE TABLE crl_entries (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    serial_hex       TEXT NOT NULL,
    revocation_date  TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, serial_hex)
) WITHOUT ROWID;

-- Each tenant's CRL signer: a self-signed certificate (DER) and its PKCS#8 private key sealed
-- with the secret key (`secrets.rs`, bound to `crl_signers/<tenant>`), made at first use.
-- `crl_number` grows with every change of the tenant's list and with every CRL built (a
-- downloaded CRL is kept and served again while the number it was built with is current).
CREATE TABLE crl_signers (
    tenant_id    TEXT PRIMARY KEY NOT NULL REFERENCES tenants (id),
    certificate  BLOB NOT NULL,
    private_key  TEXT NOT NULL,
    crl_number   INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL
);
