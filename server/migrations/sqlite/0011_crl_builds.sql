-- The tenant's last signed CRL, shared by every instance on the database: an instance serves
-- it while it is current (same CRL number and signer, younger than the reuse time) instead of
-- building its own, whose new number would make every other instance's out of date.
CREATE TABLE crl_builds (
    tenant_id    TEXT PRIMARY KEY NOT NULL REFERENCES tenants (id),
    crl_number   INTEGER NOT NULL,
    signer       BLOB NOT NULL,      -- the signer's certificate (DER) it was signed with
    built_at     INTEGER NOT NULL,   -- unix seconds
    der          BLOB NOT NULL
);
