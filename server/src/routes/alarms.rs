//! The platform's alarm API for certificate expiry alarms: `GET /alarm/alarms` (filters
//! `status`, `severity`, `type` (comma lists), `source`, `resolved`, `dateFrom`/`dateTo` on the
//! alarm's time, paging; newest first), `GET /alarm/alarms/{id}`, and `PUT
//! /alarm/alarms/{id}` to acknowledge, clear or reactivate one (admins). The alarms themselves
//! are raised by the server (`crate::alarms`): there is no `POST`. Reads evaluate the tenant's
//! certificates first, so what they show is current at the server clock's time.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use anchorage_common::alarms::{
    ALARM_COLLECTION_MEDIA_TYPE, ALARM_MEDIA_TYPE, Alarm, AlarmCertificate, AlarmCollection, AlarmSource, AlarmStatus,
    CertificateKind, Severity, parse_list,
};

use crate::audit;
use crate::auth::AuthUser;
use crate::db::{self, alarms::AlarmRow, alarms::Filter};
use crate::error::AppError;
use crate::extract::{ApiJson, ApiQuery, BaseUrl, ClientAddress, Paging};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

const RESOURCE: &str = "alarm";
/// The audit type of a user's change to an alarm.
const AUDIT_TYPE: &str = "Alarm";
/// Most alarm types one `type` filter may list.
const MAX_TYPES: usize = 20;
/// Longest `type` or `source` value, in characters.
const MAX_VALUE_CHARS: usize = 256;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/alarm/alarms", Access::Read, get(list_alarms)),
        Endpoint::new(Method::GET, "/alarm/alarms/{id}", Access::Read, get(get_alarm)),
        Endpoint::new(Method::PUT, "/alarm/alarms/{id}", Access::Admin, axum::routing::put(update_alarm)),
    ]
}

/// A JSON answer with the platform's media type.
fn with_type<T: Serialize>(media_type: &'static str, body: &T) -> Response {
    let mut res = (StatusCode::OK, Json(body)).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    res
}

fn to_wire(r: AlarmRow, base: &str, tenant: &str) -> Alarm {
    let kind = CertificateKind::of_type(&r.r#type);
    let source_self = match kind {
        Some(CertificateKind::Ca) => format!("{base}/tenant/tenants/{tenant}/trusted-certificates/{}", r.source_id),
        _ if r.source_id.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{base}/inventory/managedObjects/{}", r.source_id)
        }
        _ => String::new(),
    };
    Alarm {
        self_url: format!("{base}/alarm/alarms/{}", r.id),
        id: r.id.to_string(),
        creation_time: r.creation_time,
        time: r.time,
        last_updated: r.last_updated,
        first_occurrence_time: r.first_occurrence_time,
        alarm_type: r.r#type,
        text: r.text,
        status: AlarmStatus::parse(&r.status).unwrap_or(AlarmStatus::Active),
        severity: Severity::parse(&r.severity).unwrap_or(Severity::Major),
        source: AlarmSource { id: r.source_id, self_url: source_self, name: r.source_name },
        count: u64::try_from(r.count).unwrap_or(0),
        certificate: Some(AlarmCertificate {
            fingerprint: r.fingerprint,
            serial_number_hex: r.serial_hex,
            not_after: r.not_after,
            device_id: r.device_id,
        }),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AlarmQuery {
    status: Option<String>,
    severity: Option<String>,
    r#type: Option<String>,
    source: Option<String>,
    resolved: Option<String>,
    date_from: Option<String>,
    date_to: Option<String>,
}

fn invalid(message: String) -> AppError {
    AppError::unprocessable(RESOURCE, message)
}

/// Dates in filters: any RFC 3339 time, compared in the platform's format.
fn date(name: &str, v: Option<&str>) -> Result<Option<String>, AppError> {
    match v.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => anchorage_common::timefmt::parse(s)
            .map(|t| Some(anchorage_common::timefmt::platform(t)))
            .ok_or_else(|| invalid(format!("{name} must be a date-time such as 2026-01-31T00:00:00.000Z, not '{s}'"))),
    }
}

fn bounded<'a>(name: &str, v: Option<&'a str>) -> Result<Option<&'a str>, AppError> {
    match v.filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > MAX_VALUE_CHARS => {
            Err(invalid(format!("{name} must be at most {MAX_VALUE_CHARS} characters")))
        }
        v => Ok(v),
    }
}

impl AlarmQuery {
    fn filter(&self) -> Result<Filter, AppError> {
        let statuses: Vec<&str> = AlarmStatus::ALL.iter().map(|s| s.as_str()).collect();
        let severities: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
        let status = parse_list("status", self.status.as_deref().unwrap_or(""), AlarmStatus::parse, &statuses)
            .map_err(invalid)?;
        let severity = parse_list("severity", self.severity.as_deref().unwrap_or(""), Severity::parse, &severities)
            .map_err(invalid)?;
        let types: Vec<String> = bounded("type", self.r#type.as_deref())?
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        if types.len() > MAX_TYPES {
            return Err(invalid(format!("type may list at most {MAX_TYPES} alarm types")));
        }
        let resolved = match self.resolved.as_deref() {
            None | Some("") => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(s) => return Err(invalid(format!("resolved must be true or false, not '{s}'"))),
        };
        Ok(Filter {
            statuses: status.iter().map(|s| s.as_str().to_string()).collect(),
            severities: severity.iter().map(|s| s.as_str().to_string()).collect(),
            types,
            source: bounded("source", self.source.as_deref())?.map(str::to_string),
            resolved,
            date_from: date("dateFrom", self.date_from.as_deref())?,
            date_to: date("dateTo", self.date_to.as_deref())?,
        })
    }
}

/// Brings the caller's tenant's alarms up to date before a read.
async fn evaluate(state: &AppState, tenant: &str) -> Result<(), AppError> {
    crate::alarms::evaluate(&state.db, tenant, state.clock.now()).await?;
    Ok(())
}

async fn list_alarms(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    BaseUrl(base): BaseUrl,
    paging: Paging,
    ApiQuery(q): ApiQuery<AlarmQuery>,
) -> Result<Response, AppError> {
    let filter = q.filter()?;
    evaluate(&state, &user.tenant).await?;
    let rows = db::alarms::page(&state.db, &user.tenant, &filter, paging.page_size, paging.offset()).await?;
    let total =
        if paging.needs_total() { Some(db::alarms::count(&state.db, &user.tenant, &filter).await?) } else { None };
    let extra = [
        ("status", q.status.as_deref()),
        ("severity", q.severity.as_deref()),
        ("type", q.r#type.as_deref()),
        ("source", q.source.as_deref()),
        ("resolved", q.resolved.as_deref()),
        ("dateFrom", q.date_from.as_deref()),
        ("dateTo", q.date_to.as_deref()),
    ];
    let links = paging.links(&format!("{base}/alarm/alarms"), &extra, rows.len(), total);
    let body = AlarmCollection {
        alarms: rows.into_iter().map(|r| to_wire(r, &base, &user.tenant)).collect(),
        statistics: paging.statistics(total),
        self_url: links.self_url,
        next: links.next,
        prev: links.prev,
    };
    Ok(with_type(ALARM_COLLECTION_MEDIA_TYPE, &body))
}

fn alarm_id(id: &str) -> Result<i64, AppError> {
    id.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> AppError {
    AppError::not_found(RESOURCE, format!("Finding alarm from database failed : No alarm for gid '{id}'!"))
}

async fn get_alarm(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let n = alarm_id(&id)?;
    evaluate(&state, &user.tenant).await?;
    let row = db::alarms::find(&state.db, &user.tenant, n).await?.ok_or_else(|| not_found(&id))?;
    Ok(with_type(ALARM_MEDIA_TYPE, &to_wire(row, &base, &user.tenant)))
}

/// Body of `PUT /alarm/alarms/{id}`: clients send whole or partial alarms; only `status` may
/// change (severity and text are the server's, and may be sent back as they are).
#[derive(Deserialize)]
struct AlarmUpdate {
    #[serde(default)]
    status: Option<Value>,
    #[serde(default)]
    severity: Option<Value>,
    #[serde(default)]
    text: Option<Value>,
}

async fn update_alarm(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AlarmUpdate>,
) -> Result<Response, AppError> {
    let n = alarm_id(&id)?;
    let status = match &input.status {
        Some(Value::String(s)) => AlarmStatus::parse(s)
            .ok_or_else(|| invalid(format!("status must be ACTIVE, ACKNOWLEDGED or CLEARED, not '{s}'")))?,
        Some(_) => return Err(invalid("status must be ACTIVE, ACKNOWLEDGED or CLEARED".into())),
        None => return Err(invalid("status is required: only the status of an expiry alarm can be changed".into())),
    };
    let before = db::alarms::find(&state.db, &user.tenant, n).await?.ok_or_else(|| not_found(&id))?;
    if input.severity.as_ref().is_some_and(|s| s.as_str() != Some(before.severity.as_str()))
        || input.text.as_ref().is_some_and(|t| t.as_str() != Some(before.text.as_str()))
    {
        return Err(invalid(
            "The severity and text of an expiry alarm are set by anchorage; only its status can be changed".into(),
        ));
    }
    let cleared_by = (status == AlarmStatus::Cleared).then_some(crate::alarms::CLEARED_BY_USER);
    let row = db::alarms::set_status(&state.db, &user.tenant, n, status.as_str(), cleared_by, &state.now_text())
        .await?
        .ok_or_else(|| not_found(&id))?;
    if before.status != row.status {
        let activity = match status {
            AlarmStatus::Active => "Alarm reactivated",
            AlarmStatus::Acknowledged => "Alarm acknowledged",
            AlarmStatus::Cleared => "Alarm cleared",
        };
        let text = format!(
            "Alarm {} ({}) of '{}' set to {}",
            row.id,
            row.r#type,
            row.source_name.as_deref().unwrap_or(&row.source_id),
            row.status
        );
        let event = audit::Event::info(AUDIT_TYPE, activity, text, Some(&user.user_name))
            .from_address(address.as_deref())
            .with_details(
                serde_json::json!({"alarmId": row.id.to_string(), "certificateFingerprint": row.fingerprint}),
            );
        audit::record(&state, &user.tenant, event).await?;
    }
    Ok(with_type(ALARM_MEDIA_TYPE, &to_wire(row, &base, &user.tenant)))
}
