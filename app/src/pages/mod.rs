//! The console's pages, one module each; [`crate::router`] maps paths to them.

pub mod alarms;
pub mod audit;
pub mod bulk_registration;
pub mod chain_doctor;
pub mod devices;
pub mod login;
pub mod not_found;
pub mod settings;
pub mod trusted_certificates;
pub mod users;
