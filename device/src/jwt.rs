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

/// The claims a device plans with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Claims {
    /// The device user (`device_<CN>`).
    #[serde(default)]
    pub sub: Option<String>,
    /// The tenant id.
    #[serde(default)]
    pub ten: Option<String>,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
}

impl Claims {
    /// When the token was issued.
    pub fn issued_at(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.iat).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// When the token expires.
    pub fn expires_at(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.exp).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// Half of the token's own lifetime: from then on the platform hands out a new token.
    pub fn renew_at(&self) -> OffsetDateTime {
        let lifetime = self.exp.saturating_sub(self.iat).max(0);
        OffsetDateTime::from_unix_timestamp(self.iat.saturating_add(lifetime / 2 + lifetime % 2))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
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
        assert_eq!(t.claims().sub.as_deref(), Some("device_a"));
        assert_eq!(t.claims().renew_at().unix_timestamp(), 1151);
        assert_eq!(t.claims().expires_at().unix_timestamp(), 1301);
        assert!(!format!("{t:?}").contains(t.as_str()));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        assert_eq!(decode_claims("abc"), Err(JwtError::Shape));
        assert!(matches!(decode_claims(&jwt(r#"{"iat":"x"}"#)), Err(JwtError::Claims(_))));
        assert!(matches!(decode_claims("a.!!.c"), Err(JwtError::Claims(_))));
    }
}
