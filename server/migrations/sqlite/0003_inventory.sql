-- Devices in the inventory (managed objects) and their external ids, as the platform keeps them.
CREATE TABLE managed_objects (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    name           TEXT,
    type           TEXT,
    is_device      INTEGER NOT NULL DEFAULT 0 CHECK (is_device IN (0, 1)),
    owner          TEXT,                       -- the device user
    fragments      TEXT NOT NULL DEFAULT '{}', -- JSON object: custom fragments
    creation_time  TEXT NOT NULL,
    last_updated   TEXT NOT NULL
);
CREATE INDEX managed_objects_by_tenant ON managed_objects (tenant_id, id);
CREATE INDEX managed_objects_by_owner ON managed_objects (tenant_id, owner);

CREATE TABLE external_ids (
    tenant_id          TEXT NOT NULL REFERENCES tenants (id),
    type               TEXT NOT NULL,
    external_id        TEXT NOT NULL,
    managed_object_id  INTEGER NOT NULL REFERENCES managed_objects (id) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, type, external_id)
);
CREATE INDEX external_ids_by_object ON external_ids (managed_object_id);

ALTER TABLE device_users ADD COLUMN managed_object_id INTEGER REFERENCES managed_objects (id);
