//! API integration tests: the real server on a loopback port, a real database (an SQLite file
//! in a temp directory; on the PostgreSQL run, `ANCHORAGE_TEST_POSTGRES_URL` set, a fresh
//! PostgreSQL database per server), real HTTP through reqwest, certificates generated at test
//! time.

mod accounts;
mod alarms;
mod auth;
mod binary;
mod bulk_registration;
mod console;
mod crl;
mod device_tokens;
mod devices_console;
mod disk_full;
mod est;
mod faults;
mod hardening;
mod hostile;
mod instances;
mod migrate_db;
mod openapi;
mod pop;
mod proxy;
mod revocation;
mod revocation_online;
mod support;
mod tenant_options;
mod trusted_certificates;
