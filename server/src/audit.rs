//! The audit log: who did what, in the platform's audit record shape. Every change by a console
//! user and every device token issued or refused is recorded; records are never changed.

use serde_json::Value;

use crate::db;
use crate::error::AppError;
use crate::state::AppState;

/// Record types (the platform's where it has one).
pub mod types {
    /// Trusted certificates are tenant settings on the platform.
    pub const TENANT: &str = "Tenant";
    pub const OPTION: &str = "Option";
    pub const USER: &str = "User";
    pub const AUTHENTICATION: &str = "UserAuthentication";
    pub const BULK_REGISTRATION: &str = "BulkRegistration";
    pub const DEVICE_ACCESS_TOKEN: &str = "DeviceAccessToken";
}

/// One audit event.
pub struct Event<'a> {
    pub r#type: &'static str,
    pub activity: &'a str,
    pub text: String,
    pub user: Option<&'a str>,
    /// `information`, `warning` (refusals, failed logins).
    pub severity: &'static str,
    pub client_address: Option<&'a str>,
    pub details: Option<Value>,
}

impl<'a> Event<'a> {
    pub fn info(r#type: &'static str, activity: &'a str, text: String, user: Option<&'a str>) -> Self {
        Self { r#type, activity, text, user, severity: "information", client_address: None, details: None }
    }
    pub fn warning(mut self) -> Self {
        self.severity = "warning";
        self
    }
    pub fn from_address(mut self, address: Option<&'a str>) -> Self {
        self.client_address = address;
        self
    }
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }
}

/// Appends `event` to `tenant`'s audit log.
pub async fn record(state: &AppState, tenant: &str, event: Event<'_>) -> Result<(), AppError> {
    let details = event.details.as_ref().map(Value::to_string);
    db::audit::insert(
        &state.db,
        &db::audit::NewRecord {
            tenant,
            r#type: event.r#type,
            activity: event.activity,
            text: &event.text,
            time: &state.now_text(),
            user: event.user,
            severity: event.severity,
            client_address: event.client_address,
            details: details.as_deref(),
        },
    )
    .await?;
    Ok(())
}
