-- A device user can be disabled from the console (see SQLite's 0015).
ALTER TABLE device_users ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT TRUE;
