//! Device access tokens as the server issues them and a device reads them: the JWT's claims,
//! the answer of `POST /devicecontrol/deviceAccessToken`, and the renewal rule.
//!
//! The server signs and verifies the tokens (`server/src/tokens.rs`); a device only reads its
//! own token's claims to plan renewal. Both take the renewal time from [`renew_at`], so they
//! agree to the second on when a new token is handed out.

use serde::{Deserialize, Serialize};

/// The claims of a device access token: the platform's `sub`, `ten`, `xsrfToken`, `tfa` and the
/// registered ones.
///
/// The server always issues every claim. A device may also hold a token of the real platform,
/// which may lack some: only `iat` and `exp` are required to read one, every other claim
/// defaults (empty text, `nbf` 0, `tfa` false). Unknown claims are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user the token stands for (`device_<external id>` for a device).
    #[serde(default)]
    pub sub: String,
    /// The tenant id.
    #[serde(default)]
    pub ten: String,
    /// The issuer.
    #[serde(default)]
    pub iss: String,
    /// The audience.
    #[serde(default)]
    pub aud: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Not valid before, Unix seconds.
    #[serde(default)]
    pub nbf: i64,
    /// Expires at, Unix seconds (not valid from then on).
    pub exp: i64,
    /// The token's id.
    #[serde(default)]
    pub jti: String,
    /// The XSRF token that goes with the token.
    #[serde(rename = "xsrfToken", default)]
    pub xsrf_token: String,
    /// Whether two-factor authentication was passed.
    #[serde(default)]
    pub tfa: bool,
}

impl Claims {
    /// When a new token is handed out for this one: [`renew_at`] of its `iat` and `exp`.
    pub fn renew_at(&self) -> i64 {
        renew_at(self.iat, self.exp)
    }
}

/// When a token issued at `iat` and expiring at `exp` (Unix seconds) is renewed: at half of its
/// own lifetime, `iat + (exp - iat) / 2`, rounded down on an odd lifetime (the platform's "a new
/// token from half-life on"). Computed without overflow for any `i64` values.
pub fn renew_at(iat: i64, exp: i64) -> i64 {
    let (iat, exp) = (i128::from(iat), i128::from(exp));
    let at = iat + (exp - iat) / 2;
    // Between `iat` and `exp`, so it fits.
    i64::try_from(at).unwrap_or(if at < 0 { i64::MIN } else { i64::MAX })
}

/// Whether a device holding a token issued at `iat` and expiring at `exp` gets a new one at
/// `now`: at or after [`renew_at`]. Before, the server hands out the same token again.
pub fn renewal_due(iat: i64, exp: i64, now: i64) -> bool {
    now >= renew_at(iat, exp)
}

/// The answer of `POST /devicecontrol/deviceAccessToken`: `{"accessToken": "<JWT>"}`.
///
/// Reads `access_token` too (the platform's OpenAPI description spells it so; its docs and
/// clients say `accessToken`). `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceAccessToken {
    /// The JWT.
    #[serde(rename = "accessToken", alias = "access_token")]
    pub access_token: String,
}

impl std::fmt::Debug for DeviceAccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceAccessToken").field("access_token", &"***").finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renewal_is_due_from_half_life_on() {
        assert_eq!(renew_at(1000, 4600), 2800);
        assert!(!renewal_due(1000, 4600, 1000));
        assert!(!renewal_due(1000, 4600, 2799));
        assert!(renewal_due(1000, 4600, 2800));
        assert!(renewal_due(1000, 4600, 5000));
    }

    #[test]
    fn an_odd_lifetime_renews_on_the_second_rounded_down() {
        // 301 s: half is 150.5 s, renewal from 1150 on.
        assert_eq!(renew_at(1000, 1301), 1150);
        assert!(!renewal_due(1000, 1301, 1149));
        assert!(renewal_due(1000, 1301, 1150));
        assert_eq!(renew_at(1000, 1001), 1000);
        assert_eq!(renew_at(1000, 1000), 1000);
    }

    #[test]
    fn renewal_never_overflows() {
        assert_eq!(renew_at(0, i64::MAX), i64::MAX / 2);
        assert_eq!(renew_at(i64::MIN, i64::MAX), -1);
        assert_eq!(renew_at(i64::MAX, i64::MAX), i64::MAX);
        assert!(renewal_due(i64::MIN, i64::MIN, i64::MIN));
    }

    #[test]
    fn claims_keep_the_wire_names() {
        let claims = Claims {
            sub: "device_a".into(),
            ten: "t1".into(),
            iss: "anchorage/t1".into(),
            aud: "anchorage".into(),
            iat: 100,
            nbf: 100,
            exp: 400,
            jti: "j".into(),
            xsrf_token: "x".into(),
            tfa: false,
        };
        let value = serde_json::to_value(&claims).unwrap();
        assert_eq!(
            value,
            json!({"sub": "device_a", "ten": "t1", "iss": "anchorage/t1", "aud": "anchorage", "iat": 100,
                   "nbf": 100, "exp": 400, "jti": "j", "xsrfToken": "x", "tfa": false})
        );
        assert_eq!(serde_json::from_value::<Claims>(value).unwrap(), claims);
        assert_eq!(claims.renew_at(), 250);
    }

    #[test]
    fn a_platform_token_needs_only_iat_and_exp() {
        let c: Claims = serde_json::from_value(json!({"iat": 1000, "exp": 1301, "tci": "other"})).unwrap();
        assert_eq!((c.sub.as_str(), c.nbf, c.tfa, c.renew_at()), ("", 0, false, 1150));
        let c: Claims = serde_json::from_value(json!({"sub": "device_x", "ten": "t9", "iat": 1, "exp": 2})).unwrap();
        assert_eq!((c.sub.as_str(), c.ten.as_str()), ("device_x", "t9"));
        for missing in [json!({"iat": 1}), json!({"exp": 2}), json!({"iat": "1", "exp": 2})] {
            assert!(serde_json::from_value::<Claims>(missing.clone()).is_err(), "{missing}");
        }
    }

    #[test]
    fn the_answer_is_access_token_and_debug_hides_it() {
        let answer = DeviceAccessToken { access_token: "a.b.c".into() };
        assert_eq!(serde_json::to_value(&answer).unwrap(), json!({"accessToken": "a.b.c"}));
        for body in [json!({"accessToken": "a.b.c"}), json!({"access_token": "a.b.c", "other": 1})] {
            assert_eq!(serde_json::from_value::<DeviceAccessToken>(body).unwrap(), answer);
        }
        assert!(serde_json::from_value::<DeviceAccessToken>(json!({"token": "a.b.c"})).is_err());
        assert!(!format!("{answer:?}").contains("a.b.c"));
    }
}
