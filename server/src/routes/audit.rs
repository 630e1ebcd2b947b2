//! `GET /audit/auditRecords` (filters `type`, `user`, `dateFrom`, `dateTo`, `revert` for newest
//! first, paging; anchorage adds `hideLoginsOf=<user>`, which leaves out that user's login
//! records) and `GET /audit/auditRecords/{id}`, in the platform's audit record shape.
//! There is no route that changes or deletes a record (and the table refuses it).

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::routing::get;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::AuthUser;
use crate::db::audit::{self, AuditRow, Filter};
use crate::error::AppError;
use crate::extract::{BaseUrl, Paging};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/audit/auditRecords", Access::Read, get(list_records)),
        Endpoint::new(Method::GET, "/audit/auditRecords/{id}", Access::Read, get(get_record)),
    ]
}

fn to_wire(r: AuditRow, base: &str) -> Value {
    let mut details: serde_json::Map<String, Value> =
        r.details.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default();
    if let Some(a) = r.client_address {
        details.insert("clientAddress".into(), json!(a));
    }
    json!({
        "id": r.id.to_string(),
        "self": format!("{base}/audit/auditRecords/{}", r.id),
        "type": r.r#type,
        "activity": r.activity,
        "text": r.text,
        "time": r.time,
        "creationTime": r.time,
        "user": r.user,
        "severity": r.severity,
        "application": "anchorage",
        "anchorage_Details": details,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuditQuery {
    r#type: Option<String>,
    user: Option<String>,
    date_from: Option<String>,
    date_to: Option<String>,
    revert: Option<String>,
    hide_logins_of: Option<String>,
}

/// Dates in filters: any RFC 3339 time, compared in the platform's format.
fn date(name: &str, v: Option<String>) -> Result<Option<String>, AppError> {
    match v.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => anchorage_common::timefmt::parse(&s)
            .map(|t| Some(anchorage_common::timefmt::platform(t)))
            .ok_or_else(|| {
                AppError::unprocessable(
                    "audit",
                    format!("{name} must be a date-time such as 2026-01-31T00:00:00.000Z, not '{s}'"),
                )
            }),
    }
}

async fn list_records(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    BaseUrl(base): BaseUrl,
    paging: Paging,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Value>, AppError> {
    let filter = Filter {
        r#type: q.r#type.clone().filter(|s| !s.is_empty()),
        user: q.user.clone().filter(|s| !s.is_empty()),
        date_from: date("dateFrom", q.date_from.clone())?,
        date_to: date("dateTo", q.date_to.clone())?,
        newest_first: q.revert.as_deref() == Some("true"),
        hide_logins_of: q.hide_logins_of.clone().filter(|s| !s.is_empty()),
    };
    let rows = audit::page(&state.db, &user.tenant, &filter, paging.page_size, paging.offset()).await?;
    let total = if paging.needs_total() { Some(audit::count(&state.db, &user.tenant, &filter).await?) } else { None };
    let extra = [
        ("type", q.r#type.as_deref()),
        ("user", q.user.as_deref()),
        ("dateFrom", q.date_from.as_deref()),
        ("dateTo", q.date_to.as_deref()),
        ("revert", q.revert.as_deref()),
        ("hideLoginsOf", q.hide_logins_of.as_deref()),
    ];
    let items = rows.into_iter().map(|r| to_wire(r, &base)).collect();
    let body = paging.envelope("auditRecords", items, &format!("{base}/audit/auditRecords"), &extra, total);
    Ok(Json(body))
}

async fn get_record(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let missing = || AppError::not_found("audit", format!("Audit record with id '{id}' not found."));
    let n: i64 = id.parse().map_err(|_| missing())?;
    let row = audit::find(&state.db, &user.tenant, n).await?.ok_or_else(missing)?;
    Ok(Json(to_wire(row, &base)))
}
