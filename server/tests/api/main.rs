//! API integration tests: the real server on a loopback port, a real SQLite file in a temp
//! directory, real HTTP through reqwest, certificates generated at test time.

mod accounts;
mod auth;
mod binary;
mod bulk_registration;
mod console;
mod crl;
mod device_tokens;
mod hardening;
mod pop;
mod proxy;
mod revocation;
mod revocation_online;
mod support;
mod tenant_options;
mod trusted_certificates;
