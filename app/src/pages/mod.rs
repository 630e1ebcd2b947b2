//! The console's pages, one module each; [`crate::router`] maps paths to them.

pub mod login;
pub mod not_found;
pub mod trusted_certificates;
