//! Reusable pieces of the console's pages.

pub mod confirm_dialog;
pub mod data_table;
pub mod expiry;
pub mod modal;
pub mod read_only;
pub mod refusals;
pub mod rule_checks;
pub mod switch;
pub mod toast;
