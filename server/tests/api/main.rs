//! API integration tests: the real server on a loopback port, a real SQLite file in a temp
//! directory, real HTTP through reqwest, certificates generated at test time.

mod accounts;
mod auth;
mod binary;
mod bulk_registration;
mod device_tokens;
mod tenant_options;
mod console;
mod support;
mod proxy;
mod trusted_certificates;
