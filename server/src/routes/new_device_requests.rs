//! `/devicecontrol/newDeviceRequests` (§4.1): create, list, get, delete. What anchorage uses
//! them for is EST enrollment: a request with an `enrollmentToken` (one-time password) lets
//! the device with that external id get its first certificate from the tenant's CA
//! (`routes::est`), once, before the password expires. The password is kept only as a keyed
//! hash ([`otp_hash`]) and never returned; enrolling deletes the request.
//!
//! Requests without a password are stored and listed as the platform does; anchorage has no
//! password bootstrap (`deviceCredentials`), so nothing else consumes them.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json};

use anchorage_common::api::{
    CreateNewDeviceRequest, NEW_DEVICE_REQUEST_COLLECTION_MEDIA_TYPE, NEW_DEVICE_REQUEST_MEDIA_TYPE, NewDeviceRequest,
    NewDeviceRequestCollection,
};
use anchorage_common::device::check_device_id;
use anchorage_common::est;

use crate::audit;
use crate::auth::AuthUser;
use crate::db;
use crate::db::ca::RequestRow;
use crate::error::{AppError, is_unique_violation};
use crate::extract::{ApiJson, BaseUrl, ClientAddress, Paging};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

const RESOURCE: &str = "devicecontrol";
const ALL: &str = "/devicecontrol/newDeviceRequests";

/// A request's status until its device enrolls (the platform's first status).
pub const WAITING: &str = "WAITING_FOR_CONNECTION";
/// The status of requests made by bulk registration with `ENROLLMENT_OTP` (the platform's).
pub const ACCEPTED: &str = "ACCEPTED";
/// Longest `type` and `name` accepted.
const MAX_TEXT_CHARS: usize = 256;

pub fn endpoints() -> Vec<Endpoint> {
    const ONE: &str = "/devicecontrol/newDeviceRequests/{id}";
    vec![
        Endpoint::new(Method::POST, ALL, Access::Admin, post(create)),
        Endpoint::new(Method::GET, ALL, Access::Read, get(list)),
        Endpoint::new(Method::GET, ONE, Access::Read, get(get_one)),
        Endpoint::new(Method::DELETE, ONE, Access::Admin, delete(delete_one)),
    ]
}

/// What is stored of device `id`'s one-time password in `tenant`: an HMAC under the server's
/// secret key, bound to tenant and id.
pub fn otp_hash(state: &AppState, tenant: &str, id: &str, otp: &str) -> String {
    state.secrets.mac(&format!("enrollment_otp/{tenant}/{id}"), otp.as_bytes())
}

/// A new request row for `id`, with the password's hash and expiry when one is given.
pub fn request_row(
    state: &AppState,
    tenant: &str,
    id: &str,
    otp: Option<&str>,
    status: &str,
    owner: &str,
) -> RequestRow {
    let now = state.clock.now();
    let lifespan = time::Duration::days(i64::from(state.config.enrollment_otp_days));
    RequestRow {
        device_id: id.to_string(),
        status: status.to_string(),
        device_type: None,
        name: None,
        group_id: None,
        otp_hash: otp.map(|p| otp_hash(state, tenant, id, p)),
        otp_expires_at: otp.map(|_| (now + lifespan).unix_timestamp()),
        owner: owner.to_string(),
        created_at: state.now_text(),
    }
}

fn to_wire(r: RequestRow, base: &str, tenant: &str) -> NewDeviceRequest {
    let valid_until = r
        .otp_expires_at
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .map(anchorage_common::timefmt::platform);
    NewDeviceRequest {
        self_url: format!("{base}{ALL}/{}", crate::extract::url_encode(&r.device_id)),
        id: r.device_id,
        status: r.status,
        tenant_id: tenant.to_string(),
        owner: r.owner,
        creation_time: r.created_at,
        device_type: r.device_type,
        group_id: r.group_id,
        enrollment_token_set: r.otp_hash.is_some(),
        enrollment_token_valid_until: valid_until,
    }
}

fn not_found(id: &str) -> AppError {
    AppError::not_found(RESOURCE, format!("Could not find NewDeviceRequest with id {}.", audit::clip(id, 200)))
}

fn with_media_type(mut res: Response, media_type: &'static str) -> Response {
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    res
}

/// A `type` or `name`: trimmed text of at most 256 characters, no control characters.
fn optional_text(field: &str, v: Option<String>) -> Result<Option<String>, AppError> {
    let Some(v) = v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) else { return Ok(None) };
    if v.chars().count() > MAX_TEXT_CHARS || v.chars().any(anchorage_common::names::is_unsafe) {
        return Err(AppError::validation(format!("{field} must be at most {MAX_TEXT_CHARS} characters of text.")));
    }
    Ok(Some(v))
}

async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    BaseUrl(base): BaseUrl,
    ApiJson(body): ApiJson<CreateNewDeviceRequest>,
) -> Result<Response, AppError> {
    let tenant = user.tenant.as_str();
    // The platform's validation error for ids (`undefined/validationError`).
    check_device_id(&body.id).map_err(|e| AppError::validation(format!("{e}.")))?;
    if let Some(otp) = &body.enrollment_token {
        est::check_otp(otp).map_err(|e| AppError::validation(format!("enrollmentToken: {e}.")))?;
    }
    let mut row = request_row(&state, tenant, &body.id, body.enrollment_token.as_deref(), WAITING, &user.user_name);
    row.device_type = optional_text("type", body.device_type)?;
    row.name = optional_text("name", body.name)?;
    row.group_id = optional_text("groupId", body.group_id)?;
    match db::ca::insert_request(&state.db, tenant, &row, false).await {
        Ok(()) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::Named {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                error: "devicecontrol/Non Unique Result",
                message: format!("NewDeviceRequest for id = {} already exists.", body.id),
            });
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(tenant, user = %user.user_name, device = %body.id, otp = row.otp_hash.is_some(), "new device request");
    let event = audit::Event::info(
        audit::types::DEVICE_REGISTRATION,
        "New device request created",
        format!("New device request created for '{}'.", body.id),
        Some(&user.user_name),
    )
    .from_address(address.as_deref())
    .with_details(serde_json::json!({"deviceId": body.id, "enrollmentToken": row.otp_hash.is_some()}));
    audit::record(&state, tenant, event).await?;
    let wire = to_wire(row, &base, tenant);
    let location = wire.self_url.clone();
    let res = (StatusCode::CREATED, [(header::LOCATION, location)], Json(wire)).into_response();
    Ok(with_media_type(res, NEW_DEVICE_REQUEST_MEDIA_TYPE))
}

async fn list(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    BaseUrl(base): BaseUrl,
    paging: Paging,
) -> Result<Response, AppError> {
    let tenant = user.tenant.as_str();
    let rows = db::ca::requests(&state.db, tenant, paging.page_size, paging.offset()).await?;
    let total = if paging.needs_total() { Some(db::ca::count_requests(&state.db, tenant).await?) } else { None };
    let links = paging.links(&format!("{base}{ALL}"), &[], rows.len(), total);
    let body = NewDeviceRequestCollection {
        new_device_requests: rows.into_iter().map(|r| to_wire(r, &base, tenant)).collect(),
        statistics: Some(paging.statistics(total)),
        self_url: Some(links.self_url),
        next: links.next,
        prev: links.prev,
    };
    Ok(with_media_type(Json(body).into_response(), NEW_DEVICE_REQUEST_COLLECTION_MEDIA_TYPE))
}

async fn get_one(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let row = db::ca::request(&state.db, &user.tenant, &id).await?.ok_or_else(|| not_found(&id))?;
    Ok(with_media_type(Json(to_wire(row, &base, &user.tenant)).into_response(), NEW_DEVICE_REQUEST_MEDIA_TYPE))
}

async fn delete_one(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let tenant = user.tenant.as_str();
    if !db::ca::delete_request(&state.db, tenant, &id, None).await? {
        return Err(not_found(&id));
    }
    let event = audit::Event::info(
        audit::types::DEVICE_REGISTRATION,
        "New device request deleted",
        format!("New device request deleted for '{id}'."),
        Some(&user.user_name),
    )
    .from_address(address.as_deref());
    audit::record(&state, tenant, event).await?;
    Ok(StatusCode::NO_CONTENT)
}
