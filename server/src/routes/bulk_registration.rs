//! `POST /devicecontrol/bulkNewDeviceRequests`: registers the devices of a CSV file (multipart
//! part `file`), validated by the same `anchorage_common::bulk` rules as the console's preview.
//!
//! Valid rows are registered in batched transactions (each row whole or absent); invalid rows
//! are reported in `failedCreationList` with their reason; a re-uploaded ID is updated
//! (`CREDENTIAL_UPDATED`).
//!
//! `POST /anchorage/bulk-registration/existing` (anchorage's own, for the console's preview):
//! which of a bounded list of device ids are registered in the tenant already.

use std::collections::{HashMap, HashSet};

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::Method;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json};

use anchorage_common::api::{
    BulkFailed, BulkNewDeviceRequestResult, BulkNewDeviceStatus, BulkUpdated, ExistingDevices, ExistingDevicesQuery,
    MAX_EXISTING_QUERY_IDS,
};
use anchorage_common::bulk::{self, AuthType, BulkFile, DeviceEntry, FileError, Severity};
use anchorage_common::device::{MAX_DEVICE_ID_CHARS, check_device_id};

use crate::audit;
use crate::auth::AuthUser;
use crate::db::{
    self,
    inventory::{self, Outcome, Prepared},
};
use crate::error::AppError;
use crate::extract::{ApiJson, ClientAddress};
use crate::routes::new_device_requests::{ACCEPTED, request_row};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

const RESOURCE: &str = "devicecontrol";
const MEDIA_TYPE: &str = "application/vnd.com.nsn.cumulocity.bulknewdevicerequest+json";
/// Rows per transaction.
const BATCH: usize = 1000;

/// Largest body of `POST /anchorage/bulk-registration/existing`: the most ids, each as long
/// as an id can be in UTF-8, quoted, with its comma.
pub const EXISTING_BODY_LIMIT: usize = MAX_EXISTING_QUERY_IDS * (4 * MAX_DEVICE_ID_CHARS + 3) + 1024;

pub fn endpoints() -> Vec<Endpoint> {
    // The file limit plus room for the multipart framing.
    let limit = DefaultBodyLimit::max(bulk::MAX_FILE_BYTES + 64 * 1024);
    vec![
        Endpoint::new(
            Method::POST,
            "/devicecontrol/bulkNewDeviceRequests",
            Access::Admin,
            post(register_devices_in_bulk).layer(limit),
        ),
        Endpoint::new(
            Method::POST,
            "/anchorage/bulk-registration/existing",
            Access::Admin,
            post(find_existing_devices).layer(DefaultBodyLimit::max(EXISTING_BODY_LIMIT)),
        ),
    ]
}

/// Which of the ids asked about are registered devices of the caller's tenant (each id once,
/// in the order asked). At most [`MAX_EXISTING_QUERY_IDS`] ids, each a valid device id.
async fn find_existing_devices(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    body: Result<ApiJson<ExistingDevicesQuery>, AppError>,
) -> Result<Json<ExistingDevices>, AppError> {
    let ApiJson(query) = body.map_err(|e| match e {
        AppError::PayloadTooLarge { .. } => AppError::PayloadTooLarge { limit: EXISTING_BODY_LIMIT },
        e => e,
    })?;
    if query.ids.len() > MAX_EXISTING_QUERY_IDS {
        return Err(AppError::unprocessable(
            "anchorage",
            format!("At most {MAX_EXISTING_QUERY_IDS} ids can be asked about at once; {} were sent.", query.ids.len()),
        ));
    }
    if let Some((i, e)) = query.ids.iter().enumerate().find_map(|(i, id)| check_device_id(id).err().map(|e| (i, e))) {
        return Err(AppError::unprocessable("anchorage", format!("ids[{i}]: {e}.")));
    }
    let found: HashSet<String> =
        db::devices::existing_device_ids(&state.db, &user.tenant, &query.ids).await?.into_iter().collect();
    let mut seen = HashSet::new();
    let existing = query.ids.into_iter().filter(|id| found.contains(id) && seen.insert(id.clone())).collect();
    Ok(Json(ExistingDevices { existing }))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge { limit: bulk::MAX_FILE_BYTES }
    } else {
        AppError::bad_request(RESOURCE, format!("The multipart body cannot be read: {}", e.body_text()))
    }
}

fn device_info(id: &str, line: u32) -> String {
    format!("DeviceInfo{{id='{id}', line={line}}}")
}

async fn register_devices_in_bulk(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, AppError> {
    let mut multipart = multipart.map_err(|_| AppError::UnsupportedMediaType {
        message: "Send the CSV as multipart/form-data with a part named 'file'.".into(),
    })?;
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() == Some("file") {
            file = Some(field.bytes().await.map_err(multipart_error)?);
            break;
        }
    }
    let bytes =
        file.ok_or_else(|| AppError::unprocessable(RESOURCE, "The multipart body has no part named 'file'."))?;
    // One import at a time, from parsing on: a concurrent upload waits here holding only its
    // file (read first, within the listener's body deadline), not its parsed rows too, and does
    // not time out on another's write transactions; a token request waits for at most one batch.
    let _turn = state.bulk_imports.lock().await;
    let parsed = tokio::task::spawn_blocking(move || bulk::parse(&bytes)).await.map_err(AppError::internal)?;
    let parsed = match parsed {
        Ok(p) => p,
        Err(e @ (FileError::TooLarge | FileError::TooManyRows)) => {
            return Err(AppError::refused(StatusCode::PAYLOAD_TOO_LARGE, RESOURCE, format!("Cannot register: {e}.")));
        }
        Err(e) => return Err(AppError::unprocessable(RESOURCE, format!("Cannot read the CSV file: {e}."))),
    };
    let result = register(&state, &user, &parsed, address.as_deref()).await?;
    tracing::info!(
        tenant = %user.tenant, user = %user.user_name, all = result.number_of_all, created = result.number_of_created,
        updated = result.credential_updated_list.len(), failed = result.number_of_failed, "bulk registration"
    );
    let text = format!(
        "Bulk device registration: {} rows, {} created, {} updated, {} failed.",
        result.number_of_all,
        result.number_of_created,
        result.credential_updated_list.len(),
        result.number_of_failed
    );
    let event =
        audit::Event::info(audit::types::BULK_REGISTRATION, "Bulk device registration", text, Some(&user.user_name))
            .from_address(address.as_deref())
            .with_details(serde_json::json!({
                "numberOfAll": result.number_of_all, "numberOfCreated": result.number_of_created,
                "numberOfFailed": result.number_of_failed, "numberOfSuccessful": result.number_of_successful,
            }));
    audit::record(&state, &user.tenant, event).await?;
    let mut res = (StatusCode::CREATED, Json(result)).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    Ok(res)
}

/// Registers every valid row of `file`; reports every row, the failed ones in line order.
async fn register(
    state: &AppState,
    user: &AuthUser,
    file: &BulkFile,
    address: Option<&str>,
) -> Result<BulkNewDeviceRequestResult, AppError> {
    let mut result = BulkNewDeviceRequestResult { number_of_all: file.rows.len() as u64, ..Default::default() };
    // Each failed row with its line: the rules' failures first, then those found registering.
    let mut failed: Vec<(u32, BulkFailed)> = Vec::new();
    for row in file.rows.iter().filter(|r| !r.is_valid()) {
        let reasons: Vec<&str> =
            file.issues_of(row.line).filter(|i| i.severity == Severity::Error).map(|i| i.message.as_str()).collect();
        let id = file
            .columns
            .iter()
            .position(|c| *c == bulk::Column::Id)
            .and_then(|i| file.cell(row, i))
            .unwrap_or_default();
        // An invalid id is echoed clipped: a 1 MB cell is not sent back whole.
        let id = crate::audit::clip(id, 2 * MAX_DEVICE_ID_CHARS);
        failed.push((
            row.line,
            BulkFailed {
                bulk_new_device_status: BulkNewDeviceStatus::Failed,
                device_id: id.to_string(),
                failure_reason: reasons.join("; "),
                line: device_info(&id, row.line),
            },
        ));
    }
    let entries: Vec<DeviceEntry> = file.entries().collect();
    let hashes = hash_passwords(&entries).await?;
    let mut claimed = HashMap::new();
    let now = state.now_text();
    // The upload's first audit record is committed with its first rows: an import cut short
    // (a crash, a kill) still says who started it and how large it was.
    let text =
        format!("Bulk device registration started: {} rows, {} to register.", result.number_of_all, entries.len());
    let started = db::audit::NewRecord {
        tenant: &user.tenant,
        r#type: audit::types::BULK_REGISTRATION,
        activity: "Bulk device registration started",
        text: &text,
        time: &now,
        user: Some(&user.user_name),
        severity: "information",
        client_address: address,
        details: None,
    };
    if entries.is_empty() {
        db::audit::insert(&state.db, &started).await?;
    }
    for (i, (batch, hashes)) in entries.chunks(BATCH).zip(hashes.chunks(BATCH)).enumerate() {
        let prepared: Vec<Prepared<'_>> = batch
            .iter()
            .zip(hashes)
            .map(|(entry, h)| Prepared {
                entry,
                password_hash: h.clone(),
                // `ENROLLMENT_OTP`: an accepted request the device enrolls with (the platform's).
                enrollment: entry
                    .enrollment_otp
                    .as_deref()
                    .map(|otp| request_row(state, &user.tenant, &entry.id, Some(otp), ACCEPTED, &user.user_name)),
            })
            .collect();
        let first = (i == 0).then_some(&started);
        let outcomes = inventory::register_batch(&state.db, &user.tenant, &prepared, &mut claimed, &now, first).await?;
        for (entry, outcome) in batch.iter().zip(outcomes) {
            match outcome {
                Outcome::Created => result.number_of_created += 1,
                Outcome::Updated => result.credential_updated_list.push(BulkUpdated {
                    bulk_new_device_status: BulkNewDeviceStatus::CredentialUpdated,
                    device_id: entry.id.clone(),
                }),
                Outcome::Failed(reason) => failed.push((
                    entry.line,
                    BulkFailed {
                        bulk_new_device_status: BulkNewDeviceStatus::Failed,
                        device_id: entry.id.clone(),
                        failure_reason: reason,
                        line: device_info(&entry.id, entry.line),
                    },
                )),
            }
        }
    }
    // By line number, as numbers (line 9 before line 10), not by the `DeviceInfo{…}` text.
    failed.sort_by_key(|(line, _)| *line);
    result.failed_creation_list = failed.into_iter().map(|(_, f)| f).collect();
    result.number_of_failed = result.failed_creation_list.len() as u64;
    result.number_of_successful = result.number_of_created + result.credential_updated_list.len() as u64;
    Ok(result)
}

/// Argon2 hashes of the BASIC devices' passwords, in entry order, through the process's one
/// bounded hashing pool.
async fn hash_passwords(entries: &[DeviceEntry]) -> Result<Vec<Option<String>>, AppError> {
    let passwords: Vec<Option<String>> =
        entries.iter().map(|e| if e.auth_type == AuthType::Basic { e.credentials.clone() } else { None }).collect();
    crate::hashing::hash_all(passwords).await
}
