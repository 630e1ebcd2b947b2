//! Integration tests of anchorage-device against a real anchorage started in-process (real
//! mutual TLS on loopback, real SQLite, the server's manual clock), and of the CLI binary.

mod bench;
mod bulk;
mod est;
mod pki;
mod support;
mod token;
mod watch;
