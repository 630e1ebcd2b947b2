//! The audit log: who did what, in the platform's audit record shape. Every change by a console
//! user and every device token issued or refused is recorded; records are never changed, and
//! deleted only by the retention (tenant option `configuration` / `audit.retention.days`).
//!
//! Nothing a stranger sends in a loop may grow the log without bound:
//! - every string that reaches a record is cut to a bounded length ([`clip`]);
//! - refusals ([`Refusals`]: refused device tokens, failed logins) are aggregated: the first of
//!   a kind (same tenant, type, text and client address) within [`REPEAT_WINDOW`] is written at
//!   once, the repeats are counted and written as one record with the count when the window
//!   closes;
//! - each client address has a budget of refusals ([`ADDRESS_BURST`], refilled at one per
//!   [`ADDRESS_REFILL`]); beyond it a request that would be refused is answered 429 with
//!   `Retry-After`, and counted in one aggregated record. Requests that succeed are never
//!   throttled, so a device behind the same address as a broken one still gets its token.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;
use time::{Duration, OffsetDateTime};

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
    /// A device used a certificate new to its provisioned certificates.
    pub const PROVISIONED_CERTIFICATE: &str = "ProvisionedCertificate";
    /// New device requests (EST one-time passwords).
    pub const DEVICE_REGISTRATION: &str = "DeviceRegistration";
    /// The tenant's CA: made, renewed, rolled over, and every certificate it signed.
    pub const TENANT_CERTIFICATE_AUTHORITY: &str = "TenantCertificateAuthority";
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

/// What an audit record names of a device certificate (`anchorage_Details`): serial (decimal
/// and hex), SHA-1 and SHA-256 fingerprints, subject and issuer, so that a refusal names the
/// certificate it refused; `Null` values when it could not be read.
pub fn certificate_details(leaf: Option<&anchorage_common::cert::CertificateInfo>) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    let text =
        |f: fn(&anchorage_common::cert::CertificateInfo) -> String| leaf.map(f).map_or(Value::Null, Value::String);
    map.insert("certificateSerialNumber".into(), text(|l| l.serial_number.clone()));
    map.insert("certificateSerialNumberInHex".into(), text(|l| l.serial_hex.clone()));
    map.insert("certificateFingerprint".into(), text(|l| l.fingerprint.clone()));
    map.insert(
        anchorage_common::refusal::SHA256_FINGERPRINT_KEY.into(),
        text(|l| anchorage_common::cert::sha256_fingerprint(&l.der)),
    );
    map.insert("certificateSubject".into(), text(|l| l.subject.clone()));
    map.insert("certificateIssuer".into(), text(|l| l.issuer.clone()));
    map
}

/// Longest record text, in characters.
pub const MAX_TEXT_CHARS: usize = 1024;
/// Longest user, address or string inside the details, in characters.
pub const MAX_FIELD_CHARS: usize = 256;

/// `s` cut to `max` characters, with `…` where it was cut; control and bidirectional formatting
/// characters (`common::names`) become spaces, so a value can neither forge lines in a log nor
/// reorder the text around it in the console.
pub fn clip(s: &str, max: usize) -> Cow<'_, str> {
    let unsafe_char = anchorage_common::names::is_unsafe;
    if s.chars().count() <= max && !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out: String = s.chars().take(max).map(|c| if unsafe_char(c) { ' ' } else { c }).collect();
    if s.chars().count() > max {
        out.push('…');
    }
    Cow::Owned(out)
}

/// Every string in `v` clipped to [`MAX_FIELD_CHARS`].
fn clip_json(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(clip(s, MAX_FIELD_CHARS).into_owned()),
        Value::Array(a) => Value::Array(a.iter().take(64).map(clip_json).collect()),
        Value::Object(o) => Value::Object(
            o.iter().take(64).map(|(k, v)| (clip(k, MAX_FIELD_CHARS).into_owned(), clip_json(v))).collect(),
        ),
        other => other.clone(),
    }
}

/// Appends `event` to `tenant`'s audit log, every field clipped.
pub async fn record(state: &AppState, tenant: &str, event: Event<'_>) -> Result<(), AppError> {
    write(&state.db, tenant, &state.now_text(), &event).await
}

/// Appends `event` within `tx`: it is recorded if and only if what it records is committed.
pub async fn record_in(tx: &mut db::Tx, tenant: &str, time: &str, event: Event<'_>) -> Result<(), AppError> {
    write(tx, tenant, time, &event).await
}

async fn write(db: impl Into<db::Ex<'_>>, tenant: &str, time: &str, event: &Event<'_>) -> Result<(), AppError> {
    let details = event.details.as_ref().map(|d| clip_json(d).to_string());
    let user = event.user.map(|u| clip(u, MAX_FIELD_CHARS));
    let address = event.client_address.map(|a| clip(a, 64));
    db::audit::insert(
        db,
        &db::audit::NewRecord {
            tenant,
            r#type: event.r#type,
            activity: event.activity,
            text: &clip(&event.text, MAX_TEXT_CHARS),
            time,
            user: user.as_deref(),
            severity: event.severity,
            client_address: address.as_deref(),
            details: details.as_deref(),
        },
    )
    .await?;
    Ok(())
}

/// Identical refusals within this window are one record with a count.
pub const REPEAT_WINDOW: Duration = Duration::minutes(10);
/// Refusals an address may cause before it is answered 429.
pub const ADDRESS_BURST: u32 = 20;
/// One more refusal allowed per this long.
pub const ADDRESS_REFILL: Duration = Duration::seconds(6);
/// Most distinct refusals and addresses remembered at once.
const MAX_KEYS: usize = 10_000;

/// What was refused, for aggregation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    tenant: String,
    r#type: &'static str,
    activity: String,
    text: String,
    user: Option<String>,
    address: Option<String>,
    /// The refusal's reason code (`details.reason`), when it has one.
    reason: Option<String>,
}

#[derive(Debug)]
struct Repeat {
    first: OffsetDateTime,
    last: OffsetDateTime,
    /// Repeats after the first (which was written at once).
    count: u64,
    details: Option<Value>,
}

#[derive(Debug, Clone, Copy)]
struct Budget {
    left: f64,
    at: OffsetDateTime,
}

#[derive(Debug, Default)]
struct RefusalState {
    repeats: HashMap<Key, Repeat>,
    /// Windows closed since the last flush, waiting to be written by the maintenance task.
    closed: Vec<Closed>,
    budgets: HashMap<String, Budget>,
    /// Refusals not recorded individually because too many distinct ones came at once, per tenant.
    overflow: HashMap<String, u64>,
}

/// Aggregation and per-address budgets of refusals (see the module's documentation).
#[derive(Debug, Default)]
pub struct Refusals {
    state: Mutex<RefusalState>,
}

/// A refusal to record, and whether its address is over its budget.
pub struct Refusal<'a> {
    pub tenant: &'a str,
    pub event: Event<'a>,
}

impl Refusals {
    /// Takes one refusal from `address`'s budget; `Some(seconds to wait)` when it has none left.
    pub fn over_budget(&self, address: Option<&str>, now: OffsetDateTime) -> Option<u64> {
        let address = address?;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.budgets.len() >= MAX_KEYS && !state.budgets.contains_key(address) {
            let full = f64::from(ADDRESS_BURST);
            state.budgets.retain(|_, b| refilled(b, now) < full);
        }
        if state.budgets.len() >= MAX_KEYS && !state.budgets.contains_key(address) {
            // Too many addresses at once: every new one shares one budget.
            return self.over_budget_locked(&mut state, "*", now);
        }
        self.over_budget_locked(&mut state, address, now)
    }

    fn over_budget_locked(&self, state: &mut RefusalState, address: &str, now: OffsetDateTime) -> Option<u64> {
        let budget =
            state.budgets.entry(address.to_string()).or_insert(Budget { left: f64::from(ADDRESS_BURST), at: now });
        budget.left = refilled(budget, now);
        budget.at = now;
        if budget.left >= 1.0 {
            budget.left -= 1.0;
            return None;
        }
        let wait = (1.0 - budget.left) * ADDRESS_REFILL.as_seconds_f64();
        Some((wait.ceil() as u64).max(1))
    }

    /// Records a refusal: written at once if it is the first of its kind in the window, else
    /// counted for the record written when the window closes.
    pub async fn record(&self, state: &AppState, refusal: Refusal<'_>) -> Result<(), AppError> {
        let now = state.clock.now();
        let key = Key {
            tenant: refusal.tenant.to_string(),
            r#type: refusal.event.r#type,
            activity: refusal.event.activity.to_string(),
            text: clip(&refusal.event.text, MAX_TEXT_CHARS).into_owned(),
            user: refusal.event.user.map(|u| clip(u, MAX_FIELD_CHARS).into_owned()),
            address: refusal.event.client_address.map(|a| clip(a, 64).into_owned()),
            reason: refusal
                .event
                .details
                .as_ref()
                .and_then(|d| d.get("reason"))
                .and_then(Value::as_str)
                .map(|r| clip(r, 64).into_owned()),
        };
        let details = refusal.event.details.as_ref().map(clip_json);
        let first = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            // A window of this kind that has closed: kept for the maintenance task to write.
            if s.repeats.get(&key).is_some_and(|r| now - r.first >= REPEAT_WINDOW)
                && let Some((key, repeat)) = s.repeats.remove_entry(&key)
            {
                close(&mut s, key, repeat);
            }
            let room = s.repeats.len() < MAX_KEYS;
            match s.repeats.get_mut(&key) {
                Some(r) => {
                    r.count += 1;
                    r.last = now;
                    r.details = details;
                    false
                }
                None if room => {
                    s.repeats.insert(key, Repeat { first: now, last: now, count: 0, details: None });
                    true
                }
                None => {
                    *s.overflow.entry(refusal.tenant.to_string()).or_default() += 1;
                    false
                }
            }
        };
        if first {
            // A refusal is answered whatever happens to its record.
            if let Err(e) =
                write(&state.db, refusal.tenant, &anchorage_common::timefmt::platform(now), &refusal.event).await
            {
                tracing::warn!(error = %e, "could not record a refusal in the audit log");
            }
        }
        Ok(())
    }

    /// Writes the records of the windows that have closed by `now` (all of them with `all`)
    /// and the overflow counts; what cannot be written is kept for the next time.
    pub async fn flush(&self, db: &db::Db, now: OffsetDateTime, all: bool) -> Result<(), AppError> {
        let mut pending = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            take_closed(&mut s, now, all)
        };
        let result = write_closed(db, &mut pending).await;
        if !pending.is_empty() {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            for Closed { key, repeat } in pending {
                close(&mut s, key, repeat);
            }
        }
        result
    }
}

/// Keeps a closed window with repeats for writing (at most [`MAX_KEYS`]; beyond, counted in
/// the tenant's overflow).
fn close(s: &mut RefusalState, key: Key, repeat: Repeat) {
    if repeat.count == 0 {
        return;
    }
    if s.closed.len() < MAX_KEYS {
        s.closed.push(Closed { key, repeat });
    } else {
        *s.overflow.entry(key.tenant).or_default() += repeat.count;
    }
}

fn refilled(b: &Budget, now: OffsetDateTime) -> f64 {
    let gained = (now - b.at).as_seconds_f64().max(0.0) / ADDRESS_REFILL.as_seconds_f64();
    (b.left + gained).min(f64::from(ADDRESS_BURST))
}

/// A record of repeats to write.
#[derive(Debug)]
struct Closed {
    key: Key,
    repeat: Repeat,
}

/// Removes the windows closed by `now` (or all); returns those with repeats to write, and the
/// overflow counts as records of their own.
fn take_closed(s: &mut RefusalState, now: OffsetDateTime, all: bool) -> Vec<Closed> {
    let done: Vec<Key> =
        s.repeats.iter().filter(|(_, r)| all || now - r.first >= REPEAT_WINDOW).map(|(k, _)| k.clone()).collect();
    let mut closed: Vec<Closed> = std::mem::take(&mut s.closed);
    closed.extend(
        done.into_iter()
            .filter_map(|k| s.repeats.remove_entry(&k))
            .filter(|(_, r)| r.count > 0)
            .map(|(key, repeat)| Closed { key, repeat }),
    );
    for (tenant, count) in s.overflow.drain() {
        closed.push(Closed {
            key: Key {
                tenant,
                r#type: types::AUTHENTICATION,
                activity: OVERFLOW_ACTIVITY.into(),
                text: "More distinct refusals than the audit log records one by one arrived at once.".into(),
                user: None,
                address: None,
                reason: None,
            },
            repeat: Repeat { first: now, last: now, count, details: None },
        });
    }
    closed
}

/// Writes `pending` in order; on a failure, what was not written stays in `pending`.
async fn write_closed(db: &db::Db, pending: &mut Vec<Closed>) -> Result<(), AppError> {
    while let Some(Closed { key, repeat }) = pending.last() {
        let (first, last) =
            (anchorage_common::timefmt::platform(repeat.first), anchorage_common::timefmt::platform(repeat.last));
        let text = if key.activity == OVERFLOW_ACTIVITY {
            format!("{} {} refusals were counted only.", key.text, repeat.count)
        } else {
            format!("{} (repeated {} more times from {first} to {last})", key.text, repeat.count)
        };
        let mut details = serde_json::json!({ "count": repeat.count, "firstTime": first, "lastTime": last });
        if let (Some(Value::Object(extra)), Some(map)) = (repeat.details.clone(), details.as_object_mut()) {
            map.extend(extra);
        }
        let event = Event {
            r#type: key.r#type,
            activity: &key.activity,
            text,
            user: key.user.as_deref(),
            severity: "warning",
            client_address: key.address.as_deref(),
            details: Some(details),
        };
        write(db, &key.tenant, &last, &event).await?;
        pending.pop();
    }
    Ok(())
}

/// The activity of the record that counts refusals not recorded one by one.
const OVERFLOW_ACTIVITY: &str = "Refusals not recorded one by one";

/// Deletes each tenant's audit records older than its retention; returns how many.
pub async fn apply_retention(db: &db::Db, now: OffsetDateTime) -> Result<u64, AppError> {
    let mut deleted = 0;
    for (tenant, value) in db::options::all_tenants_value(db, OPTIONS_CATEGORY, RETENTION_KEY).await? {
        let days = value
            .as_deref()
            .map(anchorage_common::options::parse_audit_retention_days)
            .and_then(Result::ok)
            .unwrap_or(anchorage_common::options::DEFAULT_AUDIT_RETENTION_DAYS);
        let cutoff = now - Duration::days(i64::try_from(days).unwrap_or(i64::MAX / 86_400 / 2));
        deleted += db::audit::delete_before(db, &tenant, &anchorage_common::timefmt::platform(cutoff)).await?;
    }
    Ok(deleted)
}

use anchorage_common::options::{AUDIT_RETENTION_DAYS as RETENTION_KEY, CONFIGURATION as OPTIONS_CATEGORY};
