//! Console users under `/user/{tenant}/users`: list and read (admins and readers), create and
//! change role, password or enabled (admins). Passwords are argon2 hashes, never returned, never
//! logged. Nobody changes their own role or disables themselves (one click must not lock an
//! admin out; another admin can), and the last enabled admin cannot be demoted or disabled.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json};

use anchorage_common::api::{DeviceUser, ProvisionedCertificate};
use anchorage_common::users::{
    NewUser, User, UserChanges, UserRole, check_own_changes, check_password, check_user_name,
};

use crate::audit;
use crate::auth::AuthUser;
use crate::db::{self, users::UserRow};
use crate::error::{AppError, is_unique_violation};
use crate::extract::{ApiJson, ApiQuery, BaseUrl, ClientAddress, Paging};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

const RESOURCE: &str = "user";

pub fn endpoints() -> Vec<Endpoint> {
    const ALL: &str = "/user/{tenant_id}/users";
    const ONE: &str = "/user/{tenant_id}/users/{user_name}";
    vec![
        Endpoint::new(Method::GET, ALL, Access::Read, get(list_users)),
        Endpoint::new(Method::POST, ALL, Access::Admin, post(create_user)),
        Endpoint::new(Method::GET, ONE, Access::Read, get(get_user)),
        Endpoint::new(Method::PUT, ONE, Access::Admin, put(update_user)),
    ]
}

fn own_tenant(user: &AuthUser, tenant_id: &str) -> Result<(), AppError> {
    if user.tenant == tenant_id {
        Ok(())
    } else {
        Err(AppError::not_found(RESOURCE, format!("Tenant with id {tenant_id} not found.")))
    }
}

fn not_found(name: &str) -> AppError {
    AppError::not_found(RESOURCE, format!("User with username '{name}' not found."))
}

fn to_wire(row: UserRow, base: &str) -> User {
    User {
        id: row.user_name.clone(),
        self_url: format!("{base}/user/{}/users/{}", row.tenant_id, row.user_name),
        user_name: row.user_name,
        enabled: row.enabled,
        role: UserRole::parse(&row.role).unwrap_or(UserRole::Reader),
        last_password_change: row.password_changed_at,
    }
}

async fn hash(password: String) -> Result<String, AppError> {
    crate::hashing::hash(password).await
}

async fn list_users(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    Path(tenant_id): Path<String>,
    BaseUrl(base): BaseUrl,
    paging: Paging,
) -> Result<Json<serde_json::Value>, AppError> {
    own_tenant(&user, &tenant_id)?;
    let rows = db::users::page(&state.db, &tenant_id, paging.page_size, paging.offset()).await?;
    let total = if paging.needs_total() {
        Some(u64::try_from(db::users::count(&state.db, &tenant_id).await?).unwrap_or(0))
    } else {
        None
    };
    let url = format!("{base}/user/{tenant_id}/users");
    let items = rows.into_iter().map(|r| serde_json::to_value(to_wire(r, &base)).unwrap_or_default()).collect();
    let body = paging.envelope("users", items, &url, &[], total);
    Ok(Json(body))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetUserQuery {
    #[serde(default)]
    with_certificates: Option<String>,
}

/// A console user, or a device's user (`device_<id>`), the latter with its provisioned
/// certificates when asked `withCertificates=true`.
async fn get_user(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    Path((tenant_id, name)): Path<(String, String)>,
    BaseUrl(base): BaseUrl,
    ApiQuery(query): ApiQuery<GetUserQuery>,
) -> Result<Response, AppError> {
    own_tenant(&user, &tenant_id)?;
    if let Some(row) = db::users::find(&state.db, &tenant_id, &name).await? {
        return Ok(Json(to_wire(row, &base)).into_response());
    }
    let device = db::devices::device_user(&state.db, &tenant_id, &name).await?.ok_or_else(|| not_found(&name))?;
    let with_certificates = query.with_certificates.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let provisioned_certificates = if with_certificates {
        let rows = db::devices::provisioned(&state.db, &tenant_id, &name).await?;
        Some(
            rows.into_iter()
                .map(|r| ProvisionedCertificate {
                    // Hex: the platform UI revokes with `{"serialNumberInHex": serialNumber}`.
                    serial_number: r.serial_hex.clone(),
                    serial_number_decimal: r.serial_number,
                    serial_number_in_hex: r.serial_hex,
                    not_before: r.not_before,
                    not_after: r.not_after,
                    subject: r.subject,
                    issuer: r.issuer,
                    fingerprint: r.fingerprint,
                    first_used: r.first_used_at,
                    last_used: r.last_used_at,
                })
                .collect(),
        )
    } else {
        None
    };
    let issued_certificates = if with_certificates {
        let rows = db::ca::issued(&state.db, &tenant_id, &device.device_id).await?;
        Some(rows.into_iter().map(issued_to_wire).collect())
    } else {
        None
    };
    Ok(Json(DeviceUser {
        id: device.user_name.clone(),
        self_url: format!("{base}/user/{tenant_id}/users/{}", device.user_name),
        user_name: device.user_name,
        enabled: true,
        device_id: device.device_id,
        auth_type: device.auth_type,
        provisioned_certificates,
        issued_certificates,
    })
    .into_response())
}

async fn create_user(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    Path(tenant_id): Path<String>,
    BaseUrl(base): BaseUrl,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<Response, AppError> {
    own_tenant(&user, &tenant_id)?;
    check_user_name(&new.user_name).map_err(|m| AppError::unprocessable(RESOURCE, m))?;
    check_password(&new.password).map_err(|m| AppError::unprocessable(RESOURCE, m))?;
    let role = new.role.unwrap_or(UserRole::Reader);
    let row = UserRow {
        tenant_id: tenant_id.clone(),
        user_name: new.user_name.clone(),
        password_hash: hash(new.password).await?,
        role: role.as_str().into(),
        enabled: new.enabled.unwrap_or(true),
        password_changed_at: None,
    };
    // The user and its audit record: one transaction.
    let now = state.now_text();
    let mut tx = state.db.begin().await?;
    match db::users::insert(&mut tx, &row, &now).await {
        Ok(()) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::conflict(
                RESOURCE,
                format!("User with username '{}' already exists.", new.user_name),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let text = format!("User '{}' created with role {}.", new.user_name, role.as_str());
    audit::record_in(
        &mut tx,
        &tenant_id,
        &now,
        audit::Event::info(audit::types::USER, "User created", text, Some(&user.user_name))
            .from_address(address.as_deref()),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(tenant = %tenant_id, user = %user.user_name, created = %new.user_name, role = role.as_str(), "user created");
    let created =
        db::users::find(&state.db, &tenant_id, &new.user_name).await?.ok_or_else(|| not_found(&new.user_name))?;
    Ok((StatusCode::CREATED, Json(to_wire(created, &base))).into_response())
}

fn last_admin() -> AppError {
    AppError::unprocessable(RESOURCE, "The last enabled admin cannot be demoted or disabled.")
}

async fn update_user(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    Path((tenant_id, name)): Path<(String, String)>,
    BaseUrl(base): BaseUrl,
    ApiJson(changes): ApiJson<UserChanges>,
) -> Result<Json<User>, AppError> {
    own_tenant(&user, &tenant_id)?;
    let current = db::users::find(&state.db, &tenant_id, &name).await?.ok_or_else(|| not_found(&name))?;
    if let Some(p) = &changes.password {
        check_password(p).map_err(|m| AppError::unprocessable(RESOURCE, m))?;
    }
    if name == user.user_name {
        let role = UserRole::parse(&current.role).unwrap_or(UserRole::Reader);
        check_own_changes(&changes, role, current.enabled).map_err(|m| AppError::unprocessable(RESOURCE, m))?;
    }
    let loses_admin = current.role == "admin"
        && current.enabled
        && (changes.role == Some(UserRole::Reader) || changes.enabled == Some(false));
    // A quick answer before hashing a password; the write transaction checks again.
    if loses_admin && db::users::other_enabled_admins(&state.db, &tenant_id, &name).await? == 0 {
        return Err(last_admin());
    }
    let password_hash = match changes.password.clone() {
        Some(p) => Some(hash(p).await?),
        None => None,
    };
    // The change and its audit record: one transaction (dropped, i.e. rolled back, on refusal).
    let now = state.now_text();
    let mut tx = db::users::begin(&state.db, &tenant_id).await?;
    match db::users::update_in(
        &mut tx,
        &tenant_id,
        &name,
        password_hash.as_deref(),
        changes.role.map(UserRole::as_str),
        changes.enabled,
        &now,
    )
    .await?
    {
        db::users::Updated::Done => {}
        db::users::Updated::NotFound => return Err(not_found(&name)),
        db::users::Updated::LastAdmin => return Err(last_admin()),
    }
    let mut what = Vec::new();
    if changes.password.is_some() {
        what.push("password changed".to_string());
    }
    if let Some(r) = changes.role.filter(|r| r.as_str() != current.role) {
        what.push(format!("role set to {}", r.as_str()));
    }
    if let Some(e) = changes.enabled.filter(|e| *e != current.enabled) {
        what.push(if e { "enabled".into() } else { "disabled".into() });
    }
    if !what.is_empty() {
        let activity = match what.as_slice() {
            [one] if one == "disabled" => "User disabled",
            [one] if one == "enabled" => "User enabled",
            [one] if one == "password changed" => "User password changed",
            [one] if one.starts_with("role") => "User role changed",
            _ => "User updated",
        };
        let text = format!("User '{name}': {}.", what.join(", "));
        audit::record_in(
            &mut tx,
            &tenant_id,
            &now,
            audit::Event::info(audit::types::USER, activity, text, Some(&user.user_name))
                .from_address(address.as_deref()),
        )
        .await?;
    }
    tx.commit().await?;
    if !what.is_empty() {
        tracing::info!(tenant = %tenant_id, user = %user.user_name, changed = %name, what = %what.join(", "), "user updated");
    }
    let updated = db::users::find(&state.db, &tenant_id, &name).await?.ok_or_else(|| not_found(&name))?;
    Ok(Json(to_wire(updated, &base)))
}

/// A certificate the tenant CA issued, as the API shows it.
fn issued_to_wire(r: db::ca::IssuedRow) -> anchorage_common::api::IssuedCertificate {
    let issued = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(r.issued_at) * 1_000_000)
        .map(anchorage_common::timefmt::platform)
        .unwrap_or_default();
    anchorage_common::api::IssuedCertificate {
        serial_number_in_hex: r.serial_hex,
        not_before: r.not_before,
        not_after: r.not_after,
        fingerprint: r.fingerprint,
        issued,
        how: r.how,
        first_used: r.first_used_at,
        ca_fingerprint: r.ca_fingerprint,
    }
}
