//! One error type for every handler, rendered in the platform's error envelope.
//!
//! 4xx messages are written for the user; a 5xx body is generic and its cause is logged
//! once, here.

use anchorage_common::api::{ERROR_INFO, ERROR_MEDIA_TYPE, ErrorBody};
use anchorage_common::refusal::Reason;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Everything a handler can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    BadRequest { resource: &'static str, message: String },
    #[error("{message}")]
    Unauthorized { message: String, xbasic: bool },
    #[error("{message}")]
    Forbidden { message: String },
    #[error("{message}")]
    NotFound { resource: &'static str, message: String },
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{message}")]
    Conflict { resource: &'static str, message: String },
    #[error("request body too large")]
    PayloadTooLarge { limit: usize },
    #[error("{message}")]
    UnsupportedMediaType { message: String },
    #[error("{message}")]
    Unprocessable { resource: &'static str, message: String },
    /// A refusal with another status, in the envelope (e.g. 413 for a file with too many rows).
    #[error("{message}")]
    Refused { status: StatusCode, resource: &'static str, message: String },
    /// A device chain refused (400, 401 or 422), with the reason code in the body.
    #[error("{message}")]
    Device { status: StatusCode, resource: &'static str, message: String, reason: Reason },
    /// A refusal whose `error` the platform words in its own way (`devicecontrol/Non Unique
    /// Result`, `undefined/validationError`), given whole.
    #[error("{message}")]
    Named { status: StatusCode, error: &'static str, message: String },
    /// 429, with `Retry-After`.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_seconds: u64 },
    /// 507: the database has no space left (a full disk); the transaction that met it was
    /// rolled back.
    #[error("no space left to store the change")]
    InsufficientStorage,
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn bad_request(resource: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest { resource, message: message.into() }
    }
    pub fn not_found(resource: &'static str, message: impl Into<String>) -> Self {
        Self::NotFound { resource, message: message.into() }
    }
    pub fn conflict(resource: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict { resource, message: message.into() }
    }
    pub fn unprocessable(resource: &'static str, message: impl Into<String>) -> Self {
        Self::Unprocessable { resource, message: message.into() }
    }
    pub fn refused(status: StatusCode, resource: &'static str, message: impl Into<String>) -> Self {
        Self::Refused { status, resource, message: message.into() }
    }
    /// 422 `undefined/validationError`: the platform's answer to invalid input of some resources.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::Named {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            error: "undefined/validationError",
            message: message.into(),
        }
    }
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Refused { status, .. } | Self::Device { status, .. } | Self::Named { status, .. } => *status,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn body(&self) -> ErrorBody {
        let status = self.status();
        let reason = status.canonical_reason().unwrap_or("Error");
        let (resource, message) = match self {
            Self::BadRequest { resource, message }
            | Self::NotFound { resource, message }
            | Self::Conflict { resource, message }
            | Self::Unprocessable { resource, message }
            | Self::Refused { resource, message, .. }
            | Self::Device { resource, message, .. } => (*resource, message.clone()),
            Self::Unauthorized { message, .. } => ("security", message.clone()),
            Self::Forbidden { message } | Self::TooManyRequests { message, .. } => ("security", message.clone()),
            Self::MethodNotAllowed => ("general", "This method is not allowed on this resource.".into()),
            Self::PayloadTooLarge { limit } => {
                ("general", format!("The request body is larger than the limit of {} bytes.", limit))
            }
            Self::UnsupportedMediaType { message } => ("general", message.clone()),
            Self::Named { message, .. } => ("general", message.clone()),
            Self::InsufficientStorage => (
                "general",
                "The server has no space left on its disk: what this request had not stored yet was \
                 not saved. Its operator must free space; then try again."
                    .into(),
            ),
            Self::Internal(_) => ("general", "Internal error; the cause is in the server log.".into()),
        };
        if let Self::Named { error, message, .. } = self {
            return ErrorBody {
                error: (*error).to_string(),
                message: message.clone(),
                info: ERROR_INFO.to_string(),
                reason: None,
            };
        }
        let code = if let Self::Device { reason, .. } = self { Some(*reason) } else { None };
        ErrorBody { error: format!("{resource}/{reason}"), message, info: ERROR_INFO.to_string(), reason: code }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        // A full disk met on a path that wrapped the database error is still a full disk.
        let this = match self {
            Self::Internal(e) if e.chain().any(|c| c.downcast_ref::<sqlx::Error>().is_some_and(is_storage_full)) => {
                Self::InsufficientStorage
            }
            other => other,
        };
        match &this {
            Self::Internal(e) => tracing::error!(error = format!("{e:#}"), "request failed"),
            Self::InsufficientStorage => {
                tracing::error!("the database has no space left (disk full); a change was refused with 507")
            }
            _ => {}
        }
        let status = this.status();
        let body = serde_json::to_vec(&this.body()).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ERROR_MEDIA_TYPE));
        if let Self::TooManyRequests { retry_after_seconds, .. } = &this {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
        }
        if let Self::Unauthorized { xbasic, .. } = this {
            let scheme = if xbasic { "XBasic realm=\"anchorage\"" } else { "Basic realm=\"anchorage\"" };
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(scheme));
        }
        res
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        // PostgreSQL refuses text with a NUL character (SQLite stores it): the client's input.
        if let sqlx::Error::Database(d) = &e
            && matches!(d.code().as_deref(), Some("22021" | "22P05"))
        {
            return Self::unprocessable("general", "Text must not contain a NUL character.");
        }
        if is_storage_full(&e) {
            return Self::InsufficientStorage;
        }
        Self::Internal(e.into())
    }
}

/// Whether a database error says the disk is full: SQLite's `SQLITE_FULL` (13; its Unix VFS
/// reports a write that failed with ENOSPC so) or PostgreSQL's `disk_full` (53100).
pub fn is_storage_full(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("13" | "53100")))
}

/// Whether a database error is a unique-constraint violation (the one place that knows).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
