//! Tenant options (`/tenant/options`), as the platform serves them: list, create, by category
//! (a flat map), update a category, get one (with `evaluate`), update one, delete. Values are
//! stored as text; the rules of the options anchorage acts on live in
//! `anchorage_common::options`.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use anchorage_common::api::PageStatistics;
use anchorage_common::options::{
    ENCRYPTED_PLACEHOLDER, OptionInput, TenantOption, check_option, is_secret_key, value_text,
};

use crate::audit;
use crate::auth::AuthUser;
use crate::db::{self, options::OptionRow};
use crate::error::AppError;
use crate::extract::{ApiJson, BaseUrl, ClientAddress, Paging};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

const RESOURCE: &str = "options";
const OPTION_MEDIA_TYPE: &str = "application/vnd.com.nsn.cumulocity.option+json";
const COLLECTION_MEDIA_TYPE: &str = "application/vnd.com.nsn.cumulocity.optioncollection+json";

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/tenant/options", Access::Read, get(list_options)),
        Endpoint::new(Method::POST, "/tenant/options", Access::Admin, post(create_option)),
        Endpoint::new(Method::GET, "/tenant/options/{category}", Access::Read, get(get_category)),
        Endpoint::new(Method::PUT, "/tenant/options/{category}", Access::Admin, put(update_category)),
        Endpoint::new(Method::GET, "/tenant/options/{category}/{key}", Access::Read, get(get_option)),
        Endpoint::new(Method::PUT, "/tenant/options/{category}/{key}", Access::Admin, put(update_option)),
        Endpoint::new(Method::DELETE, "/tenant/options/{category}/{key}", Access::Admin, delete(delete_option)),
    ]
}

/// A JSON answer with the platform's media type.
fn with_type<T: Serialize>(media_type: &'static str, status: StatusCode, body: &T) -> Response {
    let mut res = (status, Json(body)).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    res
}

fn to_wire(row: OptionRow, base: &str) -> TenantOption {
    TenantOption {
        self_url: format!("{base}/tenant/options/{}/{}", row.category, row.key),
        value: wire_value(&row.key, row.value),
        category: row.category,
        key: row.key,
    }
}

/// What the API shows of a value: `credentials.*` options only as the platform's placeholder,
/// to every caller (only the server ever reads them in clear).
fn wire_value(key: &str, value: String) -> String {
    if is_secret_key(key) { ENCRYPTED_PLACEHOLDER.to_string() } else { value }
}

/// A category's options as the flat map the platform answers.
async fn category_map(state: &AppState, tenant: &str, category: &str) -> Result<BTreeMap<String, String>, AppError> {
    Ok(db::options::category(&state.db, tenant, category)
        .await?
        .into_iter()
        .map(|r| {
            let value = wire_value(&r.key, r.value);
            (r.key, value)
        })
        .collect())
}

/// What the database keeps of a checked value: `credentials.*` values sealed with the secret key.
fn stored(state: &AppState, tenant: &str, category: &str, key: &str, value: &str) -> Result<String, AppError> {
    if !is_secret_key(key) {
        return Ok(value.to_string());
    }
    Ok(state.secrets.seal(value.as_bytes(), &crate::secrets::option_context(tenant, category, key))?)
}

fn not_found(category: &str, key: &str) -> AppError {
    AppError::not_found(RESOURCE, format!("Unable to find option by given key: {category}/{key}"))
}

/// What the audit log shows of a value: `credentials.*` options are secrets.
fn shown(key: &str, value: &str) -> String {
    if is_secret_key(key) { "<hidden>".into() } else { format!("'{value}'") }
}

/// Records an option change in `tx`: committed with the change or not at all.
async fn audit_set(
    tx: &mut db::Tx,
    now: &str,
    user: &AuthUser,
    address: Option<&str>,
    activity: &str,
    text: String,
) -> Result<(), AppError> {
    let event = audit::Event::info(audit::types::OPTION, activity, text, Some(&user.user_name)).from_address(address);
    audit::record_in(tx, &user.tenant, now, event).await
}

/// Sets one checked option and records it, in one transaction (`POST /tenant/options` and
/// `PUT /tenant/options/{category}/{key}`).
async fn set_one(
    state: &AppState,
    user: &AuthUser,
    address: Option<&str>,
    category: &str,
    key: &str,
    value: &str,
) -> Result<(), AppError> {
    let kept = stored(state, &user.tenant, category, key, value)?;
    let now = state.now_text();
    // It reads before it writes: on SQLite a deferred transaction could not then take the write
    // lock after another write (SQLITE_BUSY), so it takes it first; on PostgreSQL the tenant's
    // single option writes take turns, so "created" or "updated" is told right.
    let mut tx = state.db.begin_serialized(&format!("options/{}", user.tenant)).await?;
    let existed = db::options::get(&mut tx, &user.tenant, category, key).await?.is_some();
    db::options::upsert(&mut tx, &user.tenant, category, key, &kept, &now).await?;
    let activity = if existed { "Option updated" } else { "Option created" };
    let text = format!("Option '{category}/{key}' set to {}.", shown(key, value));
    audit_set(&mut tx, &now, user, address, activity, text).await?;
    tx.commit().await?;
    tracing::info!(tenant = %user.tenant, user = %user.user_name, %category, %key, "tenant option set");
    Ok(())
}

fn invalid(message: String) -> AppError {
    AppError::unprocessable(RESOURCE, message)
}

#[derive(Serialize)]
struct OptionCollection {
    options: Vec<TenantOption>,
    statistics: PageStatistics,
    #[serde(rename = "self")]
    self_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev: Option<String>,
}

async fn list_options(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    BaseUrl(base): BaseUrl,
    paging: Paging,
) -> Result<Response, AppError> {
    let rows = db::options::page(&state.db, &user.tenant, paging.page_size, paging.offset()).await?;
    let total = if paging.needs_total() { Some(db::options::count(&state.db, &user.tenant).await?) } else { None };
    let links = paging.links(&format!("{base}/tenant/options"), &[], rows.len(), total);
    let body = OptionCollection {
        statistics: paging.statistics(total),
        self_url: links.self_url,
        next: links.next,
        prev: links.prev,
        options: rows.into_iter().map(|r| to_wire(r, &base)).collect(),
    };
    Ok(with_type(COLLECTION_MEDIA_TYPE, StatusCode::OK, &body))
}

async fn create_option(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    BaseUrl(base): BaseUrl,
    ApiJson(input): ApiJson<OptionInput>,
) -> Result<Response, AppError> {
    let category = input.category.ok_or_else(|| invalid("category is required".into()))?;
    let key = input.key.ok_or_else(|| invalid("key is required".into()))?;
    let value = value_text(input.value.as_ref().unwrap_or(&Value::Null)).map_err(invalid)?;
    let value = check_option(&category, &key, &value).map_err(invalid)?;
    set_one(&state, &user, address.as_deref(), &category, &key, &value).await?;
    // The platform answers 200 here, not 201 (OAS).
    Ok(with_type(OPTION_MEDIA_TYPE, StatusCode::OK, &to_wire(OptionRow { category, key, value }, &base)))
}

async fn get_category(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    Path(category): Path<String>,
) -> Result<Response, AppError> {
    let map = category_map(&state, &user.tenant, &category).await?;
    Ok(with_type(OPTION_MEDIA_TYPE, StatusCode::OK, &map))
}

async fn update_category(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    Path(category): Path<String>,
    ApiJson(map): ApiJson<BTreeMap<String, Value>>,
) -> Result<Response, AppError> {
    // Every value is checked before anything is written: all or nothing.
    let checked = map
        .iter()
        .map(|(key, v)| {
            let text = value_text(v).map_err(|e| invalid(format!("{key}: {e}")))?;
            check_option(&category, key, &text).map(|value| (key.clone(), value)).map_err(invalid)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let now = state.now_text();
    let mut tx = state.db.begin().await?;
    for (key, value) in &checked {
        let kept = stored(&state, &user.tenant, &category, key, value)?;
        db::options::upsert(&mut tx, &user.tenant, &category, key, &kept, &now).await?;
    }
    if !checked.is_empty() {
        let set: Vec<String> = checked.iter().map(|(k, v)| format!("'{category}/{k}' = {}", shown(k, v))).collect();
        let text = format!("Options set: {}.", set.join(", "));
        audit_set(&mut tx, &now, &user, address.as_deref(), "Options updated", text).await?;
    }
    tx.commit().await?;
    tracing::info!(tenant = %user.tenant, user = %user.user_name, %category, count = checked.len(), "tenant options set");
    let map = category_map(&state, &user.tenant, &category).await?;
    Ok(with_type(OPTION_MEDIA_TYPE, StatusCode::OK, &map))
}

#[derive(Deserialize)]
struct Evaluate {
    evaluate: Option<String>,
}

async fn get_option(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    Path((category, key)): Path<(String, String)>,
    Query(q): Query<Evaluate>,
    BaseUrl(base): BaseUrl,
) -> Result<Response, AppError> {
    match q.evaluate.as_deref() {
        // anchorage tenants have no parent, so nothing is inherited.
        Some("inherited") => return Err(not_found(&category, &key)),
        None | Some("current") | Some("") => {}
        Some(other) => return Err(invalid(format!("evaluate must be 'current' or 'inherited', not '{other}'"))),
    }
    let value =
        db::options::get(&state.db, &user.tenant, &category, &key).await?.ok_or_else(|| not_found(&category, &key))?;
    Ok(with_type(OPTION_MEDIA_TYPE, StatusCode::OK, &to_wire(OptionRow { category, key, value }, &base)))
}

/// Creates the option when it does not exist yet (the platform's UI sets switches this way).
async fn update_option(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    Path((category, key)): Path<(String, String)>,
    BaseUrl(base): BaseUrl,
    ApiJson(input): ApiJson<OptionInput>,
) -> Result<Response, AppError> {
    let value = value_text(input.value.as_ref().unwrap_or(&Value::Null)).map_err(invalid)?;
    let value = check_option(&category, &key, &value).map_err(invalid)?;
    set_one(&state, &user, address.as_deref(), &category, &key, &value).await?;
    Ok(with_type(OPTION_MEDIA_TYPE, StatusCode::OK, &to_wire(OptionRow { category, key, value }, &base)))
}

async fn delete_option(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    Path((category, key)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let now = state.now_text();
    let mut tx = state.db.begin().await?;
    if !db::options::delete(&mut tx, &user.tenant, &category, &key).await? {
        return Err(not_found(&category, &key));
    }
    let text = format!("Option '{category}/{key}' deleted.");
    audit_set(&mut tx, &now, &user, address.as_deref(), "Option deleted", text).await?;
    tx.commit().await?;
    tracing::info!(tenant = %user.tenant, user = %user.user_name, %category, %key, "tenant option deleted");
    Ok(StatusCode::NO_CONTENT)
}
