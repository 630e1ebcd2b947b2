//! The subset of the inventory and identity APIs anchorage serves, for the devices it
//! registers: `GET /inventory/managedObjects` (devices only; `fragmentType`, `type`, `text`,
//! paging), `GET`/`DELETE /inventory/managedObjects/{id}` (with `withDeviceUser`),
//! `GET`/`PUT /inventory/managedObjects/{id}/user` (enable or disable the device's user),
//! `GET /identity/externalIds/{type}/{externalId}`.
//! Each device carries an `anchorage_Registration` fragment: how it authenticates, who
//! registered it, whether it is enabled, and the certificate and CA it last used.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::get;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use anchorage_common::api::{DeviceRegistration, DeviceUserChange};

use crate::audit;
use crate::auth::AuthUser;
use crate::db::inventory::{self, DeviceObjectRow};
use crate::error::AppError;
use crate::extract::{ApiJson, ApiQuery, BaseUrl, ClientAddress, Paging, url_encode};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/inventory/managedObjects", Access::Read, get(list_devices)),
        Endpoint::new(Method::GET, "/inventory/managedObjects/{id}", Access::Read, get(get_device)),
        Endpoint::new(
            Method::DELETE,
            "/inventory/managedObjects/{id}",
            Access::Admin,
            axum::routing::delete(delete_device),
        ),
        Endpoint::new(Method::GET, "/inventory/managedObjects/{id}/user", Access::Read, get(get_device_user)),
        Endpoint::new(
            Method::PUT,
            "/inventory/managedObjects/{id}/user",
            Access::Admin,
            axum::routing::put(set_device_user),
        ),
        Endpoint::new(Method::GET, "/identity/externalIds/{id_type}/{external_id}", Access::Read, get(get_external_id)),
    ]
}

fn to_wire(row: DeviceObjectRow, base: &str) -> Value {
    let mut o: Map<String, Value> = serde_json::from_str(&row.fragments).unwrap_or_default();
    o.insert("id".into(), json!(row.id.to_string()));
    o.insert("self".into(), json!(format!("{base}/inventory/managedObjects/{}", row.id)));
    o.insert("name".into(), json!(row.name));
    o.insert("type".into(), json!(row.r#type));
    o.insert("owner".into(), json!(row.owner));
    o.insert("creationTime".into(), json!(row.creation_time));
    o.insert("lastUpdated".into(), json!(row.last_updated));
    o.insert("c8y_IsDevice".into(), json!({}));
    if let (Some(device_id), Some(owner)) = (row.device_id, row.owner) {
        let reg = DeviceRegistration {
            device_id,
            user_name: owner,
            auth_type: row.auth_type.unwrap_or_default(),
            registered_by: row.registered_by.unwrap_or_default(),
            last_token_time: row.last_token_at,
            last_certificate_serial: row.last_cert_serial,
            last_certificate_fingerprint: row.last_cert_fingerprint,
            enabled: row.enabled.unwrap_or(true),
            last_ca_fingerprint: row.last_ca_fingerprint,
            last_ca_name: row.last_ca_name,
            last_certificate_serial_hex: row.last_cert_serial_hex,
            last_certificate_not_after: row.last_cert_not_after,
        };
        o.insert("anchorage_Registration".into(), serde_json::to_value(reg).unwrap_or_default());
    }
    Value::Object(o)
}

/// Longest `text` filter (SQLite refuses very long LIKE patterns).
const MAX_TEXT_CHARS: usize = 256;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceQuery {
    fragment_type: Option<String>,
    r#type: Option<String>,
    text: Option<String>,
}

async fn list_devices(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    BaseUrl(base): BaseUrl,
    paging: Paging,
    ApiQuery(q): ApiQuery<DeviceQuery>,
) -> Result<Json<Value>, AppError> {
    // Every managed object anchorage keeps is a device.
    let only_devices = q.fragment_type.as_deref().is_none_or(|f| f == "c8y_IsDevice");
    let text = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if text.is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS) {
        return Err(AppError::unprocessable("inventory", format!("text must be at most {MAX_TEXT_CHARS} characters")));
    }
    let device_type = q.r#type.as_deref().filter(|t| !t.is_empty());
    let rows = if only_devices {
        inventory::devices(&state.db, &user.tenant, text, device_type, paging.page_size, paging.offset()).await?
    } else {
        Vec::new()
    };
    let total = match (paging.needs_total(), only_devices) {
        (false, _) => None,
        (true, false) => Some(0),
        (true, true) => Some(inventory::count_devices(&state.db, &user.tenant, text, device_type).await?),
    };
    let extra =
        [("fragmentType", q.fragment_type.as_deref()), ("type", q.r#type.as_deref()), ("text", q.text.as_deref())];
    let items = rows.into_iter().map(|r| to_wire(r, &base)).collect();
    let body = paging.envelope("managedObjects", items, &format!("{base}/inventory/managedObjects"), &extra, total);
    Ok(Json(body))
}

fn no_object(id: &str) -> AppError {
    AppError::not_found(
        "inventory",
        format!("Finding device data from database failed : No managedObject for id '{id}'!"),
    )
}

async fn get_device(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let n: i64 = id.parse().map_err(|_| no_object(&id))?;
    let row = inventory::device(&state.db, &user.tenant, n).await?.ok_or_else(|| no_object(&id))?;
    Ok(Json(to_wire(row, &base)))
}

/// `GET /inventory/managedObjects/{id}/user`: the device's user name (the platform UI reads it
/// before asking for the user's provisioned certificates).
async fn get_device_user(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let n: i64 = id.parse().map_err(|_| no_object(&id))?;
    let row = inventory::device(&state.db, &user.tenant, n).await?.ok_or_else(|| no_object(&id))?;
    let owner = row.owner.filter(|_| row.device_id.is_some()).ok_or_else(|| no_device_user(&id))?;
    Ok(Json(device_user_wire(&owner, row.enabled.unwrap_or(true), &base, &id)))
}

fn no_device_user(id: &str) -> AppError {
    AppError::not_found("inventory", format!("The managed object '{id}' has no device user."))
}

fn device_user_wire(user_name: &str, enabled: bool, base: &str, id: &str) -> Value {
    json!({
        "userName": user_name,
        "self": format!("{base}/inventory/managedObjects/{id}/user"),
        "enabled": enabled,
    })
}

/// `PUT /inventory/managedObjects/{id}/user` `{"enabled": false}`: the platform's switch of a
/// device's user. A disabled device is refused tokens, and the tokens it holds are revoked.
async fn set_device_user(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<DeviceUserChange>,
) -> Result<Json<Value>, AppError> {
    let n: i64 = id.parse().map_err(|_| no_object(&id))?;
    let row = inventory::device(&state.db, &user.tenant, n).await?.ok_or_else(|| no_object(&id))?;
    let (Some(owner), Some(device_id)) = (row.owner, row.device_id) else { return Err(no_device_user(&id)) };
    // The change and its audit record: one transaction.
    let mut tx = state.db.begin().await?;
    if !crate::db::devices::set_enabled(&mut tx, &user.tenant, &owner, change.enabled).await? {
        return Err(no_device_user(&id));
    }
    let changed = row.enabled.unwrap_or(true) != change.enabled;
    if changed {
        let (activity, text) = if change.enabled {
            ("Device enabled", format!("Device '{device_id}' enabled: it can get tokens again."))
        } else {
            (
                "Device disabled",
                format!("Device '{device_id}' disabled: its tokens are revoked and it gets no new one."),
            )
        };
        let event = audit::Event::info(audit::types::DEVICE_REGISTRATION, activity, text, Some(&user.user_name))
            .from_address(address.as_deref())
            .with_details(json!({ "device": owner, "deviceId": device_id, "managedObjectId": id }));
        audit::record_in(&mut tx, &user.tenant, &state.now_text(), event).await?;
    }
    tx.commit().await?;
    if changed {
        tracing::info!(tenant = %user.tenant, device = %device_id, enabled = change.enabled, by = %user.user_name, "device user changed");
    }
    Ok(Json(device_user_wire(&owner, change.enabled, &base, &id)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteQuery {
    /// The platform's: also delete the device's user (its credentials).
    with_device_user: Option<bool>,
    /// The platform's; a device here has no child devices or assets, so nothing cascades.
    #[expect(dead_code, reason = "accepted as the platform accepts it; nothing to cascade to")]
    cascade: Option<bool>,
    #[expect(dead_code, reason = "accepted as the platform accepts it; nothing to cascade to")]
    force_cascade: Option<bool>,
}

/// `DELETE /inventory/managedObjects/{id}[?withDeviceUser=true]`: the device's managed object
/// and external ids, and with `withDeviceUser=true` its device user (credentials, tokens,
/// provisioned certificates). 204.
async fn delete_device(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DeleteQuery>,
) -> Result<StatusCode, AppError> {
    let n: i64 = id.parse().map_err(|_| no_object(&id))?;
    let row = inventory::device(&state.db, &user.tenant, n).await?.ok_or_else(|| no_object(&id))?;
    let with_user = q.with_device_user.unwrap_or(false);
    // The deletion and its audit record: one transaction.
    let mut tx = inventory::begin_registration(&state.db, &user.tenant).await?;
    let deleted = inventory::delete_device(&mut tx, &user.tenant, n, with_user).await?.ok_or_else(|| no_object(&id))?;
    let device_id = row.device_id.clone().unwrap_or_else(|| id.clone());
    let text = match &deleted.user_name {
        Some(u) => format!("Device '{device_id}' deleted with its device user '{u}' and its credentials."),
        None => format!("Device '{device_id}' deleted (managed object {id})."),
    };
    let event = audit::Event::info(audit::types::DEVICE_REGISTRATION, "Device deleted", text, Some(&user.user_name))
        .from_address(address.as_deref())
        .with_details(json!({ "device": row.owner, "deviceId": device_id, "managedObjectId": id }));
    audit::record_in(&mut tx, &user.tenant, &state.now_text(), event).await?;
    tx.commit().await?;
    tracing::info!(tenant = %user.tenant, device = %device_id, with_user, by = %user.user_name, "device deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn get_external_id(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    BaseUrl(base): BaseUrl,
    Path((id_type, external_id)): Path<(String, String)>,
) -> Result<Json<Value>, AppError> {
    let mo = inventory::by_external_id(&state.db, &user.tenant, &id_type, &external_id).await?.ok_or_else(|| {
        AppError::not_found(
            "identity",
            format!("External id not found; external id = ID [type={id_type}, value={external_id}]"),
        )
    })?;
    Ok(Json(json!({
        "externalId": external_id,
        "type": id_type,
        "self": format!("{base}/identity/externalIds/{}/{}", url_encode(&id_type), url_encode(&external_id)),
        "managedObject": {"id": mo.to_string(), "self": format!("{base}/inventory/managedObjects/{mo}")},
    })))
}
