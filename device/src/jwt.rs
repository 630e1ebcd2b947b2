//! Device access tokens as the device sees them: the JWT text, and the claims it needs to plan
//! renewal, decoded without verification (the device only reads its own token's times).

use base64::Engine as _;
use time::OffsetDateTime;

/// Why a token's claims cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url parts separated by dots.
    #[error("the token is not a JWT (header.payload.signature)")]
    Shape,
    /// The payload is not base64url JSON with numeric `iat` and `exp`.
    #[error("the token's claims cannot be read: {0}")]
    Claims(String),
}

/// The claims of a device access token: common's, as the server issues them (only `iat` and
/// `exp` are required, so tokens of the real platform read too).
pub use anchorage_common::token::Claims;

/// A Unix time as a date (the epoch when out of range).
fn date(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Decodes the payload of `jwt` without checking its signature.
pub fn decode_claims(jwt: &str) -> Result<Claims, JwtError> {
    let mut parts = jwt.split('.');
    let (Some(_), Some(payload), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwtError::Shape);
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| JwtError::Claims(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| JwtError::Claims(e.to_string()))
}

/// A device access token: the JWT and its decoded claims. `Debug` never shows the JWT.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    jwt: String,
    claims: Claims,
}

impl Token {
    /// Parses `jwt`'s claims.
    pub fn parse(jwt: &str) -> Result<Self, JwtError> {
        let claims = decode_claims(jwt)?;
        Ok(Self { jwt: jwt.to_string(), claims })
    }

    /// The JWT, to hand to whoever needs it (stdout or the token file only).
    pub fn as_str(&self) -> &str {
        &self.jwt
    }

    /// The decoded claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// When the token was issued.
    pub fn issued_at(&self) -> OffsetDateTime {
        date(self.claims.iat)
    }

    /// When the token expires.
    pub fn expires_at(&self) -> OffsetDateTime {
        date(self.claims.exp)
    }

    /// From when on the server hands out a new token: half of the token's own lifetime, by
    /// common's rule ([`anchorage_common::token::renew_at`]), the one the server applies.
    pub fn renew_at(&self) -> OffsetDateTime {
        date(self.claims.renew_at())
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token").field("jwt", &"***").field("claims", &self.claims).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.sig", b(r#"{"alg":"ES256"}"#), b(payload))
    }

    #[test]
    fn claims_and_half_life_come_from_the_token() {
        let t = Token::parse(&jwt(r#"{"sub":"device_a","ten":"t1","iat":1000,"exp":1301}"#)).expect("parses");
        assert_eq!((t.claims().sub.as_str(), t.claims().ten.as_str()), ("device_a", "t1"));
        assert_eq!(t.issued_at().unix_timestamp(), 1000);
        assert_eq!(t.expires_at().unix_timestamp(), 1301);
        assert!(!format!("{t:?}").contains(t.as_str()));
    }

    #[test]
    fn renewal_is_the_servers_moment_to_the_second() {
        // An odd lifetime (301 s): the server hands out a new token from 1150 on, not 1151.
        let t = Token::parse(&jwt(r#"{"iat":1000,"exp":1301}"#)).expect("parses");
        assert_eq!(t.renew_at().unix_timestamp(), 1150);
        let renew = t.renew_at().unix_timestamp();
        assert!(anchorage_common::token::renewal_due(1000, 1301, renew));
        assert!(!anchorage_common::token::renewal_due(1000, 1301, renew - 1));
        // Tokens of the real platform carry other claims, and may lack ours.
        let platform = jwt(r#"{"sub":"device_x","ten":"t7","iat":1000,"exp":4600,"tci":"x","aud":"t7.example"}"#);
        let t = Token::parse(&platform).expect("parses");
        assert_eq!((t.claims().jti.as_str(), t.renew_at().unix_timestamp()), ("", 2800));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        assert_eq!(decode_claims("abc"), Err(JwtError::Shape));
        assert!(matches!(decode_claims(&jwt(r#"{"iat":"x"}"#)), Err(JwtError::Claims(_))));
        assert!(matches!(decode_claims(&jwt(r#"{"iat":1000}"#)), Err(JwtError::Claims(_))), "exp is required");
        assert!(matches!(decode_claims("a.!!.c"), Err(JwtError::Claims(_))));
    }
}
