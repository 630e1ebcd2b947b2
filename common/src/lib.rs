//! `anchorage-common`: what the browser and the server must agree on.
//!
//! This crate is compiled twice: natively for the server and to wasm for the console. It owns
//! the platform's wire types ([`api`]), the decoding of certificate input ([`pem`]), the
//! inspection of certificates and the rules that make a CA certificate acceptable ([`cert`]),
//! and Java's rendering of distinguished names ([`dn`]). A rule exists here once; the console
//! calls it to explain a problem before anything is sent, the server calls it as the authority.
//!
//! It never depends on axum, leptos, sqlx or tokio.

#![forbid(unsafe_code)]

pub mod alarms;
pub mod api;
pub mod bulk;
pub mod cert;
pub mod chain;
pub mod crl;
pub mod device;
pub mod dn;
pub mod est;
// For the fuzz targets and their replay, on the host only (never in the console's wasm).
#[cfg(not(target_arch = "wasm32"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod names;
pub mod options;
pub mod pem;
pub mod pkcs7;
pub mod pop;
pub mod refusal;
pub mod timefmt;
pub mod token;
pub mod users;

pub use cert::{CertificateInfo, CheckOutcome, Inspection, Rule};
