-- Proof of possession of a trusted certificate's private key: the code handed out to be signed
-- (base64 of 96 random bytes), until when it can be used (the platform's date format, UTC, so
-- the text orders as the time does), and whether possession was proven (or confirmed by an
-- admin). Certificates stored before start unproven, without a code.
ALTER TABLE trusted_certificates ADD COLUMN pop_code TEXT;
ALTER TABLE trusted_certificates ADD COLUMN pop_code_usable_until TEXT;
ALTER TABLE trusted_certificates ADD COLUMN pop_valid INTEGER NOT NULL DEFAULT 0 CHECK (pop_valid IN (0, 1));
