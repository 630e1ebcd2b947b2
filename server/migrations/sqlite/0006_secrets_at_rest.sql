-- Device tokens are no longer kept in clear: a SHA-256 of the token (checked on every Bearer
-- call) and the token sealed with the secret key (for re-delivery before half-life). Rows from
-- before are converted by the server at start (it holds the key).
ALTER TABLE device_tokens RENAME COLUMN token TO token_sealed;
ALTER TABLE device_tokens ADD COLUMN token_hash TEXT;
