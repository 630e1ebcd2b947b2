-- Audit records are deleted by the retention only (tenant option configuration /
-- audit.retention.days): a DELETE is refused unless the retention's transaction has put a row
-- into audit_purge first (and it removes that row before it commits). Changes stay refused.
CREATE TABLE audit_purge (
    id INTEGER PRIMARY KEY CHECK (id = 1)
);
DROP TRIGGER audit_records_are_final_delete;
CREATE TRIGGER audit_records_are_final_delete BEFORE DELETE ON audit_records
WHEN NOT EXISTS (SELECT 1 FROM audit_purge)
BEGIN SELECT RAISE(ABORT, 'audit records cannot be deleted'); END;
