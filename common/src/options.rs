//! Tenant options: the platform's option model and the rules for the options anchorage acts on.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Category of the device-token options.
pub const OAUTH_INTERNAL: &str = "oauth.internal";
/// Lifetime of device access tokens, in seconds.
pub const DEVICE_TOKEN_LIFESPAN: &str = "device-token.lifespan.seconds";
/// Lifetime of console sessions (the platform's cookie lifespan option), in seconds.
pub const BASIC_USER_COOKIE_LIFESPAN: &str = "basic-user.cookie.lifespan.seconds";
/// Default device-token lifetime: one hour.
pub const DEFAULT_DEVICE_TOKEN_LIFESPAN_SECONDS: u64 = 3600;
/// Shortest device-token lifetime the platform allows: five minutes.
pub const MIN_DEVICE_TOKEN_LIFESPAN_SECONDS: u64 = 300;
/// Longest device-token lifetime anchorage allows: one year (a bound, so a typo cannot mint
/// tokens that never expire).
pub const MAX_DEVICE_TOKEN_LIFESPAN_SECONDS: u64 = 365 * 24 * 3600;
/// Options whose key starts with this are secrets: stored sealed, never shown in clear.
pub const SECRET_KEY_PREFIX: &str = "credentials.";
/// What the API shows instead of a secret option's value (the platform's placeholder).
pub const ENCRYPTED_PLACEHOLDER: &str = "<<Encrypted>>";

/// Whether an option's value is a secret.
pub fn is_secret_key(key: &str) -> bool {
    key.starts_with(SECRET_KEY_PREFIX)
}

/// Category of anchorage's own settings (as the platform's CRL switches).
pub const CONFIGURATION: &str = "configuration";
/// Days an audit record is kept; older ones are deleted by the server.
pub const AUDIT_RETENTION_DAYS: &str = "audit.retention.days";
/// Default audit retention: 90 days.
pub const DEFAULT_AUDIT_RETENTION_DAYS: u64 = 90;
/// Longest audit retention: ten years.
pub const MAX_AUDIT_RETENTION_DAYS: u64 = 3650;
/// Days before a certificate's expiry that its expiry alarm is raised (`/alarm/alarms`).
pub const ALARM_WINDOW_DAYS: &str = "alarms.expiry.window.days";
/// Default alarm window: 30 days.
pub const DEFAULT_ALARM_WINDOW_DAYS: u64 = 30;
/// Longest alarm window: one year.
pub const MAX_ALARM_WINDOW_DAYS: u64 = 365;
/// Check device certificates against the tenant's own revocation list (the platform's switch).
pub const CRL_OFFLINE_CHECK: &str = "crl.offline.check.enabled";
/// Check device certificates against the CRLs at their distribution points (the platform's switch).
pub const CRL_ONLINE_CHECK: &str = "crl.online.check.enabled";
/// anchorage's own: when the online check cannot tell (distribution point unreachable, CRL
/// expired, badly signed or too large), let the device in (`true`) instead of refusing it
/// (`false`, the default: fail closed).
pub const CRL_ONLINE_FAIL_OPEN: &str = "crl.online.check.failopen.enabled";
/// anchorage's own: a trusted certificate cannot be ENABLED until its proof of possession is
/// valid.
pub const POP_REQUIRED: &str = "trusted-certificates.pop.required.enabled";
/// anchorage's own: once a device has used a certificate it got by EST re-enrollment, the
/// certificates the tenant CA issued it before are revoked (added to the tenant's list).
pub const REENROLL_REVOKES_PREVIOUS: &str = "certificate-authority.reenroll.revoke-previous.enabled";
/// The boolean switches above, all in [`CONFIGURATION`], all off by default.
pub const BOOLEAN_SWITCHES: [&str; 5] =
    [CRL_OFFLINE_CHECK, CRL_ONLINE_CHECK, CRL_ONLINE_FAIL_OPEN, POP_REQUIRED, REENROLL_REVOKES_PREVIOUS];

/// A boolean switch's stored value read leniently (`true`/`false` in any case; a JSON
/// boolean is stored as its text); anything else is off.
pub fn switch_on(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Longest category or key, in characters.
pub const MAX_NAME_CHARS: usize = 128;
/// Longest option value, in characters.
pub const MAX_VALUE_CHARS: usize = 32 * 1024;

/// One option as the platform shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantOption {
    pub category: String,
    pub key: String,
    pub value: String,
    #[serde(rename = "self", default, skip_serializing_if = "String::is_empty")]
    pub self_url: String,
}

/// Body of `POST /tenant/options` and `PUT /tenant/options/{category}/{key}`: lenient, since
/// clients send the value as a string, a boolean or a number, and may repeat category and key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OptionInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// The stored text of a JSON option value: strings as they are, booleans and numbers as
/// their JSON text (the platform's UI writes `true`, not `"true"`).
pub fn value_text(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(_) | Value::Number(_) => Ok(v.to_string()),
        Value::Null => Err("value is required".into()),
        _ => Err("value must be a string, a number or a boolean".into()),
    }
}

/// Checks a category or key name.
pub fn check_name(what: &str, s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    if s.chars().count() > MAX_NAME_CHARS {
        return Err(format!("{what} must be at most {MAX_NAME_CHARS} characters"));
    }
    if s.chars().any(|c| c.is_control() || c == '/' || c.is_whitespace()) {
        return Err(format!("{what} must not contain whitespace, '/' or control characters"));
    }
    Ok(())
}

/// Checks an option about to be stored: names, size, and the rules of the options anchorage
/// acts on. Returns the value to store (normalized).
pub fn check_option(category: &str, key: &str, value: &str) -> Result<String, String> {
    check_name("category", category)?;
    check_name("key", key)?;
    if value.chars().count() > MAX_VALUE_CHARS {
        return Err(format!("value must be at most {MAX_VALUE_CHARS} characters"));
    }
    if category == OAUTH_INTERNAL && key == DEVICE_TOKEN_LIFESPAN {
        return parse_lifespan(value).map(|n| n.to_string());
    }
    if category == CONFIGURATION && key == AUDIT_RETENTION_DAYS {
        return parse_audit_retention_days(value).map(|n| n.to_string());
    }
    if category == CONFIGURATION && key == ALARM_WINDOW_DAYS {
        return parse_alarm_window_days(value).map(|n| n.to_string());
    }
    if category == CONFIGURATION && BOOLEAN_SWITCHES.contains(&key) {
        return match value.trim().to_ascii_lowercase().as_str() {
            v @ ("true" | "false") => Ok(v.to_string()),
            _ => Err(format!("{key} must be true or false, not '{value}'")),
        };
    }
    if category == OAUTH_INTERNAL && key == BASIC_USER_COOKIE_LIFESPAN {
        return match value.trim().parse::<u64>() {
            Ok(n) if n >= 60 => Ok(n.to_string()),
            _ => Err(format!(
                "{BASIC_USER_COOKIE_LIFESPAN} must be a whole number of seconds, at least 60, not '{value}'"
            )),
        };
    }
    Ok(value.to_string())
}

/// The device-token lifespan rule: a whole number of seconds, at least 300 (five minutes) and
/// at most one year.
pub fn parse_lifespan(value: &str) -> Result<u64, String> {
    let n: u64 = value
        .trim()
        .parse()
        .map_err(|_| format!("{DEVICE_TOKEN_LIFESPAN} must be a whole number of seconds, not '{value}'"))?;
    if n < MIN_DEVICE_TOKEN_LIFESPAN_SECONDS {
        return Err(format!(
            "{DEVICE_TOKEN_LIFESPAN} must be at least {MIN_DEVICE_TOKEN_LIFESPAN_SECONDS} seconds (5 minutes), not {n}"
        ));
    }
    if n > MAX_DEVICE_TOKEN_LIFESPAN_SECONDS {
        return Err(format!(
            "{DEVICE_TOKEN_LIFESPAN} must be at most {MAX_DEVICE_TOKEN_LIFESPAN_SECONDS} seconds (one year), not {n}"
        ));
    }
    Ok(n)
}

/// The audit retention rule: a whole number of days from 1 to 3650.
pub fn parse_audit_retention_days(value: &str) -> Result<u64, String> {
    match value.trim().parse::<u64>() {
        Ok(n) if (1..=MAX_AUDIT_RETENTION_DAYS).contains(&n) => Ok(n),
        _ => Err(format!(
            "{AUDIT_RETENTION_DAYS} must be a whole number of days from 1 to {MAX_AUDIT_RETENTION_DAYS}, not '{value}'"
        )),
    }
}

/// The expiry alarm window rule: a whole number of days from 1 to 365.
pub fn parse_alarm_window_days(value: &str) -> Result<u64, String> {
    match value.trim().parse::<u64>() {
        Ok(n) if (1..=MAX_ALARM_WINDOW_DAYS).contains(&n) => Ok(n),
        _ => Err(format!(
            "{ALARM_WINDOW_DAYS} must be a whole number of days from 1 to {MAX_ALARM_WINDOW_DAYS}, not '{value}'"
        )),
    }
}

/// A duration in words for people: `1 h 30 min`, `5 min`, `2 d 3 h`, `45 s`.
pub fn human_duration(seconds: u64) -> String {
    let (d, h, m, s) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60);
    let parts: Vec<String> = [(d, "d"), (h, "h"), (m, "min"), (s, "s")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, u)| format!("{n} {u}"))
        .collect();
    if parts.is_empty() { "0 s".into() } else { parts.join(" ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn switches_are_booleans_stored_in_lower_case() {
        let stored = value_text(&json!(true)).expect("bool");
        assert_eq!(check_option(CONFIGURATION, CRL_OFFLINE_CHECK, &stored), Ok("true".into()));
        assert_eq!(check_option(CONFIGURATION, CRL_ONLINE_CHECK, "FALSE"), Ok("false".into()));
        assert!(check_option(CONFIGURATION, CRL_ONLINE_CHECK, "yes").is_err());
        assert!(switch_on(Some("TRUE")) && !switch_on(Some("no")) && !switch_on(None));
    }

    #[test]
    fn lifespan_must_be_a_whole_number_of_at_least_300() {
        assert_eq!(parse_lifespan("3600"), Ok(3600));
        assert_eq!(parse_lifespan(" 300 "), Ok(300));
        assert!(parse_lifespan("299").unwrap_err().contains("at least 300"));
        assert!(parse_lifespan("-5").unwrap_err().contains("whole number"));
        assert!(parse_lifespan("1.5").unwrap_err().contains("whole number"));
        assert!(parse_lifespan("").unwrap_err().contains("whole number"));
        assert!(parse_lifespan("99999999999").unwrap_err().contains("at most"));
        assert_eq!(check_option(OAUTH_INTERNAL, DEVICE_TOKEN_LIFESPAN, "0600"), Ok("600".into()));
        assert!(check_option(OAUTH_INTERNAL, DEVICE_TOKEN_LIFESPAN, "60").is_err());
        assert_eq!(check_option("other", "any", "60"), Ok("60".into()));
    }

    #[test]
    fn audit_retention_is_a_whole_number_of_days_from_1_to_3650() {
        assert_eq!(parse_audit_retention_days(" 30 "), Ok(30));
        assert_eq!(check_option(CONFIGURATION, AUDIT_RETENTION_DAYS, "090"), Ok("90".into()));
        for bad in ["0", "-1", "1.5", "", "3651", "ninety"] {
            assert!(check_option(CONFIGURATION, AUDIT_RETENTION_DAYS, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn alarm_window_is_a_whole_number_of_days_from_1_to_365() {
        assert_eq!(check_option(CONFIGURATION, ALARM_WINDOW_DAYS, " 045"), Ok("45".into()));
        assert_eq!(parse_alarm_window_days("365"), Ok(365));
        for bad in ["0", "-1", "1.5", "", "366", "thirty"] {
            assert!(check_option(CONFIGURATION, ALARM_WINDOW_DAYS, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_and_names() {
        assert_eq!(value_text(&json!(true)), Ok("true".into()));
        assert_eq!(value_text(&json!(300)), Ok("300".into()));
        assert_eq!(value_text(&json!("x")), Ok("x".into()));
        assert!(value_text(&json!({"a": 1})).is_err());
        assert!(check_name("key", "a/b").is_err());
        assert!(check_name("key", "").is_err());
        assert!(check_name("key", "crl.online.check.enabled").is_ok());
    }

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(human_duration(5400), "1 h 30 min");
        assert_eq!(human_duration(300), "5 min");
        assert_eq!(human_duration(3600), "1 h");
        assert_eq!(human_duration(183_600), "2 d 3 h");
        assert_eq!(human_duration(45), "45 s");
    }
}
