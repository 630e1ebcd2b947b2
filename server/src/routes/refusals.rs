//! `GET /anchorage/refusals[?device=<userName>][&trustedCertificate=<fingerprint>]`: why devices
//! were refused tokens, for the console (per device and per trusted certificate): the last
//! refusals (at most `pageSize`, default 20, at most 100) and the counts per reason code over
//! the last 24 hours. Read from the audit log, where every refusal is recorded with its reason
//! (aggregated and budgeted as the hardening rules make it, so this stays bounded).

use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::Value;

use anchorage_common::refusal::{Reason, ReasonCount, RefusalRecord, RefusalSummary, RefusedCertificate};

use crate::audit;
use crate::auth::AuthUser;
use crate::db;
use crate::error::AppError;
use crate::extract::ApiQuery;
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(Method::GET, "/anchorage/refusals", Access::Read, get(refusals))]
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Query {
    device: Option<String>,
    trusted_certificate: Option<String>,
    page_size: Option<u32>,
}

fn text(details: &Value, key: &str) -> Option<String> {
    details.get(key).and_then(Value::as_str).map(str::to_string)
}

async fn refusals(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<RefusalSummary>, AppError> {
    let filter = db::audit::RefusalFilter {
        tenant: &user.tenant,
        device: q.device.as_deref().filter(|d| !d.is_empty()),
        trusted_certificate: q.trusted_certificate.as_deref().filter(|f| !f.is_empty()),
    };
    let limit = q.page_size.unwrap_or(20).clamp(1, 100);
    let rows = db::audit::refusals(&state.db, &filter, audit::types::DEVICE_ACCESS_TOKEN, limit).await?;
    let since = anchorage_common::timefmt::platform(state.clock.now() - time::Duration::hours(24));
    let counts = db::audit::refusal_counts(&state.db, &filter, audit::types::DEVICE_ACCESS_TOKEN, &since).await?;
    let refusals = rows
        .into_iter()
        .map(|r| {
            let details: Value = r.details.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default();
            let count = match details.get("firstTime") {
                Some(_) => details.get("count").and_then(Value::as_u64).unwrap_or(0),
                None => 1,
            };
            RefusalRecord {
                id: r.id.to_string(),
                time: r.time,
                reason: details.get("reason").and_then(Value::as_str).and_then(Reason::from_code),
                text: r.text,
                count,
                device: text(&details, "device"),
                client_address: r.client_address,
                certificate: RefusedCertificate {
                    subject: text(&details, "certificateSubject"),
                    issuer: text(&details, "certificateIssuer"),
                    serial_number: text(&details, "certificateSerialNumber"),
                    serial_number_in_hex: text(&details, "certificateSerialNumberInHex"),
                    fingerprint: text(&details, "certificateFingerprint"),
                    sha256_fingerprint: text(&details, anchorage_common::refusal::SHA256_FINGERPRINT_KEY),
                },
                trusted_certificate_fingerprint: text(&details, "trustedCertificateFingerprint"),
            }
        })
        .collect();
    let counts = counts
        .into_iter()
        .map(|(reason, n)| ReasonCount {
            reason: reason.as_deref().and_then(Reason::from_code),
            count: u64::try_from(n).unwrap_or(0),
        })
        .collect();
    Ok(Json(RefusalSummary { refusals, counts_since: since, counts }))
}
