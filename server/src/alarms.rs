//! Certificate expiry alarms: the evaluation that keeps a tenant's `alarms` rows in step with
//! its certificates at the server clock's time.
//!
//! One alarm per tenant, type and certificate (SHA-1 fingerprint): an ENABLED trusted
//! certificate, or a device's current certificate (the later-expiring of the one it last
//! presented and the newest one the tenant CA issued it), whose `notAfter` is within the
//! tenant's window (`configuration` / `alarms.expiry.window.days`, default 30) or past. An
//! evaluation changes a row's severity, text and count in place and never adds a second row for
//! the same certificate; a certificate that is deleted, replaced or no longer in the window
//! has its alarm CLEARED; a cleared alarm whose certificate is gone is deleted after
//! [`CLEARED_KEPT_DAYS`], so the table stays bounded by the certificates there are.
//!
//! The evaluation runs before each read of `/alarm/alarms` (its queries only read the
//! certificates in the window, by index; it writes only what changed) and with the server's
//! periodic maintenance. Rules (severity, text) are `anchorage_common::alarms`'.

use std::collections::{HashMap, HashSet};

use anchorage_common::alarms::{self as rules, AlarmStatus, CertificateKind, Severity};
use anchorage_common::options::{ALARM_WINDOW_DAYS, CONFIGURATION, DEFAULT_ALARM_WINDOW_DAYS, parse_alarm_window_days};
use anchorage_common::timefmt;
use time::{Duration, OffsetDateTime};

use crate::db::{self, Db, alarms::AlarmRow};

/// Days a cleared alarm is kept after its certificate left the window or was deleted.
pub const CLEARED_KEPT_DAYS: i64 = 30;

/// Who cleared an alarm: the evaluation (the certificate is gone or out of the window) or a
/// user (then it stays cleared unless its severity gets worse).
pub const CLEARED_BY_SERVER: &str = "SERVER";
pub const CLEARED_BY_USER: &str = "USER";

/// The tenant's alarm window in days (the option, or the default when unset or unreadable).
pub async fn window_days(db: &Db, tenant: &str) -> sqlx::Result<u64> {
    let stored = db::options::get(db, tenant, CONFIGURATION, ALARM_WINDOW_DAYS).await?;
    Ok(stored.as_deref().and_then(|v| parse_alarm_window_days(v).ok()).unwrap_or(DEFAULT_ALARM_WINDOW_DAYS))
}

/// A certificate that should have an alarm now.
struct Wanted {
    kind: CertificateKind,
    fingerprint: String,
    serial_hex: String,
    not_after: OffsetDateTime,
    source_id: String,
    source_name: Option<String>,
    device_id: Option<String>,
    name: String,
    subject: Option<String>,
}

/// What an evaluation changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub raised: usize,
    pub updated: usize,
    pub cleared: usize,
    pub deleted: u64,
}

/// Brings `tenant`'s alarms in step with its certificates at `now`.
pub async fn evaluate(db: &Db, tenant: &str, now: OffsetDateTime) -> sqlx::Result<Outcome> {
    let window = window_days(db, tenant).await?;
    let cutoff = timefmt::platform(now + Duration::days(i64::try_from(window).unwrap_or(365)));
    let wanted = wanted(db, tenant, &cutoff, now).await?;
    let existing = db::alarms::all(db, tenant).await?;
    let now_text = timefmt::platform(now);
    let mut outcome = Outcome::default();
    let by_key: HashMap<(&str, &str), &AlarmRow> =
        existing.iter().map(|a| ((a.r#type.as_str(), a.fingerprint.as_str()), a)).collect();
    let mut kept = HashSet::new();
    for w in &wanted {
        let Some(severity) = rules::severity(w.not_after, now, window) else { continue };
        let alarm_type = w.kind.alarm_type();
        kept.insert((alarm_type, w.fingerprint.as_str()));
        let text = rules::alarm_text(
            &rules::Subject {
                kind: w.kind,
                name: &w.name,
                subject: w.subject.as_deref(),
                serial_hex: &w.serial_hex,
                fingerprint: &w.fingerprint,
            },
            w.not_after,
            now,
        );
        let fresh = AlarmRow {
            id: 0,
            r#type: alarm_type.to_string(),
            fingerprint: w.fingerprint.clone(),
            serial_hex: w.serial_hex.clone(),
            not_after: timefmt::platform(w.not_after),
            source_id: w.source_id.clone(),
            source_name: w.source_name.clone(),
            device_id: w.device_id.clone(),
            severity: severity.as_str().to_string(),
            status: AlarmStatus::Active.as_str().to_string(),
            cleared_by: None,
            text,
            count: 1,
            creation_time: now_text.clone(),
            first_occurrence_time: now_text.clone(),
            time: now_text.clone(),
            last_updated: now_text.clone(),
        };
        match by_key.get(&(alarm_type, w.fingerprint.as_str())) {
            None => {
                db::alarms::insert(db, tenant, &fresh).await?;
                outcome.raised += 1;
            }
            Some(before) => {
                if let Some(after) = next_state(before, fresh, severity, &now_text)
                    && db::alarms::update(db, tenant, before, &after).await?
                {
                    outcome.updated += 1;
                }
            }
        }
    }
    let keep_cleared_after = timefmt::platform(now - Duration::days(CLEARED_KEPT_DAYS));
    let mut stale = Vec::new();
    for a in &existing {
        if kept.contains(&(a.r#type.as_str(), a.fingerprint.as_str())) {
            continue;
        }
        if a.status != AlarmStatus::Cleared.as_str() {
            let after = AlarmRow {
                status: AlarmStatus::Cleared.as_str().to_string(),
                cleared_by: Some(CLEARED_BY_SERVER.to_string()),
                last_updated: now_text.clone(),
                ..a.clone()
            };
            if db::alarms::update(db, tenant, a, &after).await? {
                outcome.cleared += 1;
            }
        } else if a.last_updated < keep_cleared_after {
            stale.push(a.id);
        }
    }
    outcome.deleted = db::alarms::delete(db, tenant, &stale).await?;
    if outcome != Outcome::default() {
        tracing::info!(
            tenant,
            raised = outcome.raised,
            updated = outcome.updated,
            cleared = outcome.cleared,
            deleted = outcome.deleted,
            "expiry alarms evaluated"
        );
    }
    Ok(outcome)
}

/// What an existing alarm becomes given the certificate's state now (`fresh`, with its
/// `severity`); `None` when nothing changes.
///
/// - ACTIVE or ACKNOWLEDGED: a new severity is a new occurrence (count + 1, `time` now); a
///   worse one makes an acknowledged alarm ACTIVE again. Otherwise the text (days left) and
///   the certificate's details are kept current.
/// - CLEARED by the server (the certificate was out of the window, or gone): raised again.
/// - CLEARED by a user: stays cleared unless the severity is worse than when it was cleared.
fn next_state(before: &AlarmRow, fresh: AlarmRow, severity: Severity, now: &str) -> Option<AlarmRow> {
    let was = Severity::parse(&before.severity);
    let worse = was.is_none_or(|w| severity > w);
    let status = AlarmStatus::parse(&before.status).unwrap_or(AlarmStatus::Active);
    let reraise = match status {
        AlarmStatus::Cleared => before.cleared_by.as_deref() != Some(CLEARED_BY_USER) || worse,
        AlarmStatus::Active | AlarmStatus::Acknowledged => false,
    };
    let changed_severity = was != Some(severity);
    if status == AlarmStatus::Cleared && !reraise {
        return None;
    }
    let new_status = match status {
        AlarmStatus::Acknowledged if !worse => AlarmStatus::Acknowledged,
        _ => AlarmStatus::Active,
    };
    let occurrence = reraise || changed_severity;
    let after = AlarmRow {
        id: before.id,
        status: new_status.as_str().to_string(),
        cleared_by: None,
        count: if occurrence { before.count.saturating_add(1) } else { before.count },
        time: if occurrence { now.to_string() } else { before.time.clone() },
        creation_time: before.creation_time.clone(),
        first_occurrence_time: before.first_occurrence_time.clone(),
        last_updated: now.to_string(),
        ..fresh
    };
    let same = after.status == before.status
        && after.severity == before.severity
        && after.text == before.text
        && after.count == before.count
        && after.source_id == before.source_id
        && after.source_name == before.source_name
        && after.not_after == before.not_after;
    (!same).then_some(after)
}

/// The certificates of `tenant` that expire at or before `cutoff`, one per fingerprint and kind.
async fn wanted(db: &Db, tenant: &str, cutoff: &str, now: OffsetDateTime) -> sqlx::Result<Vec<Wanted>> {
    let mut out = Vec::new();
    for ca in db::alarms::expiring_cas(db, tenant, cutoff).await? {
        let Some(not_after) = timefmt::parse(&ca.not_after) else { continue };
        let serial_hex = match anchorage_common::cert::inspect(&ca.der, now) {
            Ok(i) => i.info.serial_hex,
            Err(_) => continue,
        };
        out.push(Wanted {
            kind: CertificateKind::Ca,
            serial_hex,
            not_after,
            source_id: ca.fingerprint.clone(),
            source_name: Some(ca.name.clone()),
            device_id: None,
            name: ca.name,
            subject: Some(ca.subject),
            fingerprint: ca.fingerprint,
        });
    }
    let mut seen = HashSet::new();
    for d in db::alarms::expiring_device_certificates(db, tenant, cutoff).await? {
        let Some(not_after) = timefmt::parse(&d.not_after) else { continue };
        if !seen.insert(d.fingerprint.clone()) {
            continue;
        }
        out.push(Wanted {
            kind: CertificateKind::Device,
            serial_hex: d.serial_hex.unwrap_or_default(),
            not_after,
            // A registered device's managed object; else (not registered in this tenant) the
            // external id, which is what names it.
            source_id: d.managed_object_id.map_or_else(|| d.device_id.clone(), |id| id.to_string()),
            source_name: Some(d.device_name.unwrap_or_else(|| d.device_id.clone())),
            name: d.device_id.clone(),
            device_id: Some(d.device_id),
            subject: d.subject,
            fingerprint: d.fingerprint,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, severity: &str, cleared_by: Option<&str>) -> AlarmRow {
        AlarmRow {
            id: 7,
            r#type: rules::CA_CERTIFICATE_EXPIRING.into(),
            fingerprint: "ab".into(),
            serial_hex: "01".into(),
            not_after: "2030-01-01T00:00:00.000Z".into(),
            source_id: "ab".into(),
            source_name: Some("CA".into()),
            device_id: None,
            severity: severity.into(),
            status: status.into(),
            cleared_by: cleared_by.map(str::to_string),
            text: "old".into(),
            count: 1,
            creation_time: "t0".into(),
            first_occurrence_time: "t0".into(),
            time: "t0".into(),
            last_updated: "t0".into(),
        }
    }

    fn fresh(severity: &str, text: &str) -> AlarmRow {
        AlarmRow { severity: severity.into(), text: text.into(), ..row("ACTIVE", severity, None) }
    }

    #[test]
    fn a_new_severity_is_a_new_occurrence_of_the_same_alarm() {
        let after =
            next_state(&row("ACTIVE", "MINOR", None), fresh("MAJOR", "new"), Severity::Major, "t1").expect("changes");
        assert_eq!((after.id, after.count, after.time.as_str(), after.status.as_str()), (7, 2, "t1", "ACTIVE"));
        assert_eq!(after.first_occurrence_time, "t0");
    }

    #[test]
    fn only_the_text_changing_keeps_count_and_time() {
        let after =
            next_state(&row("ACTIVE", "MINOR", None), fresh("MINOR", "new"), Severity::Minor, "t1").expect("changes");
        assert_eq!((after.count, after.time.as_str(), after.last_updated.as_str()), (1, "t0", "t1"));
        assert!(next_state(&row("ACTIVE", "MINOR", None), fresh("MINOR", "old"), Severity::Minor, "t1").is_none());
    }

    #[test]
    fn acknowledged_and_user_cleared_alarms_come_back_only_when_worse() {
        let ack = next_state(&row("ACKNOWLEDGED", "MINOR", None), fresh("MINOR", "new"), Severity::Minor, "t1")
            .expect("text");
        assert_eq!(ack.status, "ACKNOWLEDGED");
        let worse = next_state(&row("ACKNOWLEDGED", "MINOR", None), fresh("MAJOR", "new"), Severity::Major, "t1")
            .expect("worse");
        assert_eq!(worse.status, "ACTIVE");
        let user = row("CLEARED", "MAJOR", Some(CLEARED_BY_USER));
        assert!(next_state(&user, fresh("MAJOR", "new"), Severity::Major, "t1").is_none());
        let back = next_state(&user, fresh("CRITICAL", "new"), Severity::Critical, "t1").expect("worse");
        assert_eq!((back.status.as_str(), back.cleared_by, back.count), ("ACTIVE", None, 2));
        let server = row("CLEARED", "MINOR", Some(CLEARED_BY_SERVER));
        let again = next_state(&server, fresh("MINOR", "old"), Severity::Minor, "t1").expect("raised again");
        assert_eq!((again.status.as_str(), again.count), ("ACTIVE", 2));
    }
}
