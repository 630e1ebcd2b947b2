//! Certificate expiry alarms: the platform's alarm shape (`/alarm/alarms`), and the rules both
//! sides apply to it: which severity a certificate's remaining validity has, and how the
//! alarm's text reads.
//!
//! The server raises one alarm per certificate and type; the console shows them and computes
//! the same severity from an alarm's `notAfter` (docs/decisions.md, "Expiry alarms (issue 16)").

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::api::PageStatistics;

/// Media type of one alarm.
pub const ALARM_MEDIA_TYPE: &str = "application/vnd.com.nsn.cumulocity.alarm+json";
/// Media type of a page of alarms.
pub const ALARM_COLLECTION_MEDIA_TYPE: &str = "application/vnd.com.nsn.cumulocity.alarmcollection+json";

/// Type of the alarm of a trusted (CA) certificate that expires soon or has expired.
pub const CA_CERTIFICATE_EXPIRING: &str = "anchorage_CaCertificateExpiring";
/// Type of the alarm of a device certificate that expires soon or has expired.
pub const DEVICE_CERTIFICATE_EXPIRING: &str = "anchorage_DeviceCertificateExpiring";

/// Days left at or under which an alarm is MAJOR.
pub const MAJOR_DAYS: i64 = 7;

/// How bad an alarm is, from the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Warning,
    Minor,
    Major,
    Critical,
}

impl Severity {
    /// Every severity, the worst first.
    pub const ALL: [Severity; 4] = [Severity::Critical, Severity::Major, Severity::Minor, Severity::Warning];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::Major => "MAJOR",
            Severity::Minor => "MINOR",
            Severity::Warning => "WARNING",
        }
    }

    /// The platform's spelling (upper case, as the platform requires).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Where an alarm stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AlarmStatus {
    Active,
    Acknowledged,
    Cleared,
}

impl AlarmStatus {
    pub const ALL: [AlarmStatus; 3] = [AlarmStatus::Active, AlarmStatus::Acknowledged, AlarmStatus::Cleared];

    pub fn as_str(self) -> &'static str {
        match self {
            AlarmStatus::Active => "ACTIVE",
            AlarmStatus::Acknowledged => "ACKNOWLEDGED",
            AlarmStatus::Cleared => "CLEARED",
        }
    }

    /// The platform's spelling (upper case, as the platform requires).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A comma-separated list of values of a filter (`status=ACTIVE,ACKNOWLEDGED`), each read by
/// `parse`; an unknown value is an error naming the parameter and the values it takes.
pub fn parse_list<T: Copy + PartialEq>(
    name: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &[&str],
) -> Result<Vec<T>, String> {
    let mut out = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let v = parse(part).ok_or_else(|| {
            format!("{name} must be one or more of {} (comma-separated), not '{part}'", allowed.join(", "))
        })?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// The severity of a certificate valid until `not_after`, at `now`, with an alarm window of
/// `window_days`: CRITICAL once expired, MAJOR within [`MAJOR_DAYS`] days, MINOR within the
/// window; `None` (no alarm) before the window.
pub fn severity(not_after: OffsetDateTime, now: OffsetDateTime, window_days: u64) -> Option<Severity> {
    let left = not_after - now;
    let window = Duration::days(i64::try_from(window_days).unwrap_or(i64::MAX / 86_400).min(100_000));
    if left <= Duration::ZERO {
        Some(Severity::Critical)
    } else if left <= Duration::days(MAJOR_DAYS) {
        Some(Severity::Major)
    } else if left <= window {
        Some(Severity::Minor)
    } else {
        None
    }
}

/// When a certificate expires, in words: `expires in 12 days`, `expires within a day`,
/// `expired 3 days ago`, `expired today`.
pub fn expiry_in_words(not_after: OffsetDateTime, now: OffsetDateTime) -> String {
    let left = not_after - now;
    if left > Duration::ZERO {
        match left.whole_days() {
            0 => "expires within a day".into(),
            1 => "expires in 1 day".into(),
            n => format!("expires in {n} days"),
        }
    } else {
        match (-left).whole_days() {
            0 => "expired today".into(),
            1 => "expired 1 day ago".into(),
            n => format!("expired {n} days ago"),
        }
    }
}

/// A time as the console shows it, to the minute in UTC: `2026-05-01 13:47 UTC`.
pub fn date_time_words(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// Which certificate an alarm is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateKind {
    /// A trusted certificate of the tenant.
    Ca,
    /// A device's certificate.
    Device,
}

impl CertificateKind {
    /// The alarm type of this kind.
    pub fn alarm_type(self) -> &'static str {
        match self {
            CertificateKind::Ca => CA_CERTIFICATE_EXPIRING,
            CertificateKind::Device => DEVICE_CERTIFICATE_EXPIRING,
        }
    }

    /// The kind of an alarm type.
    pub fn of_type(alarm_type: &str) -> Option<Self> {
        match alarm_type {
            CA_CERTIFICATE_EXPIRING => Some(CertificateKind::Ca),
            DEVICE_CERTIFICATE_EXPIRING => Some(CertificateKind::Device),
            _ => None,
        }
    }
}

/// What the text of an alarm names.
pub struct Subject<'a> {
    pub kind: CertificateKind,
    /// The trusted certificate's name, or the device's external id.
    pub name: &'a str,
    /// The certificate's subject (Java's rendering), when known.
    pub subject: Option<&'a str>,
    pub serial_hex: &'a str,
    pub fingerprint: &'a str,
}

/// The alarm's text: what, which certificate, and when, in words.
pub fn alarm_text(s: &Subject<'_>, not_after: OffsetDateTime, now: OffsetDateTime) -> String {
    let what = match s.kind {
        CertificateKind::Ca => format!("Trusted certificate '{}'", s.name),
        CertificateKind::Device => format!("The certificate of device '{}'", s.name),
    };
    let subject = s.subject.filter(|s| !s.is_empty()).map(|s| format!("{s}, ")).unwrap_or_default();
    format!(
        "{what} ({subject}serial number {}, SHA-1 fingerprint {}) {}, on {}.",
        s.serial_hex,
        s.fingerprint,
        expiry_in_words(not_after, now),
        date_time_words(not_after)
    )
}

/// The source of an alarm: the device's managed object, or for a trusted certificate the
/// certificate itself (its fingerprint and URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmSource {
    pub id: String,
    #[serde(rename = "self", default, skip_serializing_if = "String::is_empty")]
    pub self_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// anchorage's fragment on an expiry alarm: the certificate, for clients that act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmCertificate {
    /// Lowercase hex SHA-1 of the certificate.
    pub fingerprint: String,
    pub serial_number_hex: String,
    /// The certificate's `notAfter`, in the platform's format.
    pub not_after: String,
    /// The device's external id (device certificates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
}

/// An alarm as the platform shows it, with anchorage's certificate fragment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alarm {
    pub id: String,
    #[serde(rename = "self", default)]
    pub self_url: String,
    #[serde(default)]
    pub creation_time: String,
    pub time: String,
    #[serde(default)]
    pub last_updated: String,
    #[serde(default)]
    pub first_occurrence_time: String,
    #[serde(rename = "type")]
    pub alarm_type: String,
    pub text: String,
    pub status: AlarmStatus,
    pub severity: Severity,
    pub source: AlarmSource,
    #[serde(default)]
    pub count: u64,
    #[serde(rename = "anchorage_Certificate", default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<AlarmCertificate>,
}

/// A page of alarms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmCollection {
    pub alarms: Vec<Alarm>,
    pub statistics: PageStatistics,
    #[serde(rename = "self", default)]
    pub self_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(days: i64, hours: i64) -> (OffsetDateTime, OffsetDateTime) {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        (now + Duration::days(days) + Duration::hours(hours), now)
    }

    #[test]
    fn severity_follows_the_days_left() {
        let s = |d, h, w| {
            let (na, now) = at(d, h);
            severity(na, now, w)
        };
        assert_eq!(s(31, 0, 30), None);
        assert_eq!(s(30, 0, 30), Some(Severity::Minor));
        assert_eq!(s(8, 0, 30), Some(Severity::Minor));
        assert_eq!(s(7, 0, 30), Some(Severity::Major));
        assert_eq!(s(0, 1, 30), Some(Severity::Major));
        assert_eq!(s(0, 0, 30), Some(Severity::Critical));
        assert_eq!(s(-400, 0, 30), Some(Severity::Critical));
        assert_eq!(s(5, 0, 3), Some(Severity::Major), "within a week is MAJOR whatever the window");
        assert_eq!(s(60, 0, u64::MAX), Some(Severity::Minor), "a huge window does not overflow");
        assert!(Severity::Critical > Severity::Major && Severity::Major > Severity::Minor);
    }

    #[test]
    fn the_text_says_what_which_and_when() {
        let (na, now) = at(12, 3);
        let text = alarm_text(
            &Subject {
                kind: CertificateKind::Ca,
                name: "Fleet CA",
                subject: Some("CN=Fleet CA"),
                serial_hex: "1A2B",
                fingerprint: "ab12",
            },
            na,
            now,
        );
        assert!(text.starts_with("Trusted certificate 'Fleet CA' (CN=Fleet CA, serial number 1A2B, SHA-1 fingerprint ab12) expires in 12 days, on "), "{text}");
        assert!(text.ends_with(" UTC."), "{text}");
        assert_eq!(expiry_in_words(at(-3, -1).0, now), "expired 3 days ago");
        assert_eq!(expiry_in_words(at(0, 0).0, now), "expired today");
        assert_eq!(expiry_in_words(at(0, 5).0, now), "expires within a day");
    }

    #[test]
    fn lists_take_known_values_only() {
        let all: Vec<&str> = AlarmStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            parse_list("status", "ACTIVE, ACKNOWLEDGED,ACTIVE", AlarmStatus::parse, &all),
            Ok(vec![AlarmStatus::Active, AlarmStatus::Acknowledged])
        );
        assert!(parse_list("status", "active", AlarmStatus::parse, &all).unwrap_err().contains("'active'"));
        assert_eq!(parse_list("status", "", AlarmStatus::parse, &all), Ok(vec![]));
        let json = serde_json::to_string(&AlarmStatus::Acknowledged).expect("json");
        assert_eq!(json, "\"ACKNOWLEDGED\"");
    }
}
