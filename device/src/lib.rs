//! anchorage-device: the device side of anchorage, as a library the `anchorage-device` binary
//! and the tests share.
//!
//! - [`token`] fetches a device access token over mutual TLS (the Rust counterpart of the
//!   platform's Java x509 REST client), [`watch`] keeps a file holding a valid one.
//! - [`pki`] makes test PKIs (root, optional intermediate, device certificates as PEM and
//!   PKCS#12, and the bulk-registration CSV).
//! - [`bench`] measures token requests per second over fresh TLS connections, and
//!   [`baseline`] is the bare rustls server it compares anchorage with.

#![forbid(unsafe_code)]

pub mod admin;
pub mod baseline;
pub mod bench;
pub mod clock;
pub mod files;
pub mod http;
pub mod identity;
pub mod jwt;
pub mod pki;
pub mod token;
pub mod watch;
