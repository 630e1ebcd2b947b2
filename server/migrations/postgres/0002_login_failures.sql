-- Failed logins, counted per key (server/src/limiter.rs) in the database, so that instances
-- sharing it share the counts. `key` is the lowercase hex SHA-256 of what is counted (an
-- account, an address, an account from an address); times are unix milliseconds.
-- `previous_failure` is the last failure before the latest one, kept so that a count taken
-- back (an attempt refused after all) restores the row as it was.
CREATE TABLE login_failures (
    key               TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    failures          BIGINT NOT NULL,
    last_failure      BIGINT NOT NULL,
    previous_failure  BIGINT
);

-- For the maintenance's pruning: idle rows, and the rows idle longest beyond the bound.
CREATE INDEX login_failures_by_last_failure ON login_failures (last_failure);
