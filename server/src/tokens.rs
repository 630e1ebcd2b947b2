//! Device access tokens: ES256 JWTs signed with a key made at first start and kept in the
//! database, so every instance sharing it signs and verifies the same way. The public key is
//! published as a JWKS.
//!
//! Expiry is checked against the server's injected clock, not the system time inside the JWT
//! library, so tests move time instead of sleeping.

use std::collections::HashSet;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sha2::{Digest, Sha256};

use crate::db::{self, Db};
use crate::secrets::SecretBox;

/// The claims and the renewal rule are common's (`anchorage_common::token`), shared with the
/// device; re-exported so `crate::tokens::{Claims, renewal_due}` keep working.
pub use anchorage_common::token::{Claims, renewal_due};

/// The audience of every device token.
pub const AUDIENCE: &str = "anchorage";

/// Why a bearer token is refused. The text is safe to show: it never includes the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed or its signature is invalid")]
    Invalid,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
}

struct Key {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    x: String,
    y: String,
}

/// Signs and verifies device tokens.
pub struct TokenService {
    /// The signing key is the first; all verify (a later key rotation adds keys).
    keys: Vec<Key>,
    issuer: String,
}

/// What a signing key's sealed private key is bound to.
pub(crate) fn key_context(kid: &str) -> String {
    format!("signing_keys/{kid}")
}

impl TokenService {
    /// Loads the signing keys, making the first one if the database has none.
    /// Private keys are stored sealed with `secrets`; one kept in clear by an older version is
    /// sealed here.
    pub async fn load_or_create(db: &Db, secrets: &SecretBox, tenant: &str, now: &str) -> anyhow::Result<Self> {
        if db::signing_keys::all(db).await?.is_empty() {
            let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
                .context("generating the JWT signing key")?;
            let point = key.public_key_raw();
            anyhow::ensure!(point.len() == 65 && point[0] == 4, "unexpected P-256 public key encoding");
            let kid = hex::encode(&Sha256::digest(point)[..8]);
            let row = db::signing_keys::SigningKeyRow {
                private_key: secrets.seal(&key.serialize_der(), &key_context(&kid))?.into_bytes(),
                kid,
                public_x: URL_SAFE_NO_PAD.encode(&point[1..33]),
                public_y: URL_SAFE_NO_PAD.encode(&point[33..65]),
            };
            db::signing_keys::insert_first(db, &row, now).await?;
        }
        let mut keys = Vec::new();
        for row in db::signing_keys::all(db).await? {
            let context = key_context(&row.kid);
            let der = match std::str::from_utf8(&row.private_key).ok().filter(|t| crate::secrets::is_sealed(t)) {
                Some(sealed) => secrets.open(sealed, &context).context("opening the JWT signing key")?,
                None => {
                    let sealed = secrets.seal(&row.private_key, &context)?;
                    db::signing_keys::set_private_key(db, &row.kid, sealed.as_bytes()).await?;
                    tracing::info!(kid = %row.kid, "sealed the JWT signing key kept in clear by an older version");
                    row.private_key.clone()
                }
            };
            keys.push(Ok::<_, anyhow::Error>(Key {
                encoding: EncodingKey::from_ec_der(&der),
                decoding: DecodingKey::from_ec_components(&row.public_x, &row.public_y)
                    .context("reading the JWT public key")?,
                kid: row.kid,
                x: row.public_x,
                y: row.public_y,
            })?);
        }
        anyhow::ensure!(!keys.is_empty(), "no JWT signing key");
        Ok(Self { keys, issuer: format!("anchorage/{tenant}") })
    }

    /// The `iss` of tokens this service signs.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Signs `claims` with the current key.
    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        let key = &self.keys[0];
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.encoding).context("signing a device token")
    }

    /// Verifies signature, issuer, audience and validity at `now` (unix seconds).
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        let key =
            self.keys.iter().find(|k| header.kid.as_deref() == Some(k.kid.as_str())).ok_or(TokenError::Invalid)?;
        let mut v = Validation::new(Algorithm::ES256);
        v.validate_exp = false;
        v.validate_nbf = false;
        // Common's claims default what a platform token may lack; this server's own tokens carry
        // every one, and the registered ones are required.
        v.required_spec_claims = HashSet::from(["exp", "nbf", "sub", "iss", "aud"].map(String::from));
        v.set_audience(&[AUDIENCE]);
        v.set_issuer(&[&self.issuer]);
        let claims = jsonwebtoken::decode::<Claims>(token, &key.decoding, &v).map_err(|_| TokenError::Invalid)?.claims;
        if now >= claims.exp {
            return Err(TokenError::Expired);
        }
        if now < claims.nbf {
            return Err(TokenError::NotYetValid);
        }
        Ok(claims)
    }

    /// The public keys as a JSON Web Key Set.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<_> = self
            .keys
            .iter()
            .map(|k| serde_json::json!({"kty": "EC", "crv": "P-256", "x": k.x, "y": k.y, "kid": k.kid, "use": "sig", "alg": "ES256"}))
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

/// A random id for `jti` and `xsrfToken`.
pub fn random_id() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 18]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn signs_verifies_and_checks_time_with_the_given_clock() {
        let dir = tempfile::tempdir().expect("tmp");
        let db =
            crate::db::open(&crate::db::Location::Sqlite(dir.path().join("t.db")), crate::db::PoolSizes::default())
                .await
                .expect("db");
        let secrets = crate::secrets::SecretBox::from_bytes(&[3; 32]).expect("key");
        let svc = TokenService::load_or_create(&db, &secrets, "t1", "now").await.expect("keys");
        let again = TokenService::load_or_create(&db, &secrets, "t1", "now").await.expect("keys");
        assert_eq!(svc.keys[0].kid, again.keys[0].kid, "the key is made once and reused");
        let claims = Claims {
            sub: "device_a".into(),
            ten: "t1".into(),
            iss: svc.issuer().into(),
            aud: AUDIENCE.into(),
            iat: 100,
            nbf: 100,
            exp: 400,
            jti: random_id(),
            xsrf_token: random_id(),
            tfa: false,
        };
        let token = svc.sign(&claims).expect("sign");
        assert_eq!(again.verify(&token, 200), Ok(claims.clone()));
        assert_eq!(svc.verify(&token, 400), Err(TokenError::Expired));
        assert_eq!(svc.verify(&token, 99), Err(TokenError::NotYetValid));
        let mut tampered = token.clone();
        tampered.insert(tampered.len() / 2, 'x');
        assert_eq!(svc.verify(&tampered, 200), Err(TokenError::Invalid));
        let other = Claims { aud: "elsewhere".into(), ..claims };
        assert_eq!(svc.verify(&svc.sign(&other).expect("sign"), 200), Err(TokenError::Invalid));
        assert_eq!(svc.jwks()["keys"][0]["kid"], svc.keys[0].kid.as_str());
    }
}
