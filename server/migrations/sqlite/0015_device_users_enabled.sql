-- A device user can be disabled from the console (PUT /inventory/managedObjects/{id}/user
-- {"enabled": false}, as on the platform): a disabled device gets no token. Existing devices
-- stay enabled.
ALTER TABLE device_users ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1));
