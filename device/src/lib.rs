//! anchorage-device: the device side of anchorage, as a library the `anchorage-device` binary
//! and the tests share.
//!
//! - [`token`] fetches a device access token over mutual TLS (the Rust counterpart of the
//!   platform's Java x509 REST client), [`watch`] keeps a file holding a valid one.
//! - [`enroll`] gets a device's first certificate from the tenant CA with a one-time password
//!   (EST `simpleenroll`), [`reenroll`] renews it over mutual TLS (`simplereenroll`) and keeps
//!   the previous key and certificate until the new pair has got a token; [`est`] is the
//!   protocol, [`pair`] the key and certificate files and their recovery rule.
//! - [`pki`] makes test PKIs (root, optional intermediate, device certificates as PEM and
//!   PKCS#12, and the bulk-registration CSV).
//! - [`bench`] measures token requests per second over fresh TLS connections, and
//!   [`baseline`] is the bare rustls server it compares anchorage with.

#![forbid(unsafe_code)]

pub mod admin;
pub mod baseline;
pub mod bench;
pub mod clock;
pub mod enroll;
pub mod est;
pub mod files;
pub mod http;
pub mod identity;
pub mod jwt;
pub mod pair;
pub mod pki;
pub mod reenroll;
pub mod token;
pub mod watch;
