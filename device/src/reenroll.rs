//! `reenroll`: a new certificate for the current one (EST `simplereenroll` over mutual TLS on
//! the device listener), put in place so that a device never ends up without a working pair.
//!
//! The request has the current certificate's subject and, by default, the current key (a new
//! key with [`Renewer::with_new_key`]). The new pair replaces the current one with the previous
//! pair kept as `.previous` until a device token has been got with the new one
//! ([`Confirm`], by default [`TokenConfirm`]); a refusal puts the previous pair back. Every run
//! first finishes what an earlier one left unfinished: [`Renewer::recover`] applies the
//! recovery rule of [`crate::pair`].
//!
//! [`Renewer::watch`] keeps doing it: it sleeps until
//! [`anchorage_common::est::reenroll_at`] of the current certificate (a share of its lifetime,
//! [`anchorage_common::est::DEFAULT_REENROLL_PERCENT`] by default), renews, and retries failures
//! with the token loop's backoff ([`WatchConfig`]), on an injected [`Clock`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anchorage_common::CertificateInfo;
use anyhow::Context as _;
use rcgen::KeyPair;
use rustls::RootCertStore;
use time::OffsetDateTime;

use crate::clock::Clock;
use crate::est::{self, EstClient};
use crate::http::{self, Endpoint};
use crate::identity::{self, Identity};
use crate::pair::{self, Pair, PairPaths, Recovery, Slot};
use crate::pki::KeyType;
use crate::token::{FetchError, TokenClient};
use crate::watch::{Backoff, WatchConfig, later};

/// The server's verdict on a pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// It works (a device token was issued for it).
    Works,
    /// The server refused it (400, 401, 403 or 422: a verdict on the certificate): why.
    Refused(String),
    /// No verdict (no connection, a timeout, a server error): why.
    NoAnswer(String),
}

/// How a new pair is shown to work.
pub trait Confirm: Send + Sync {
    /// The server's verdict on `identity`.
    fn confirm(&self, identity: &Identity) -> impl Future<Output = Confirmation> + Send;
}

/// Confirms a pair with a device token request (`POST /devicecontrol/deviceAccessToken`) to the
/// device listener.
#[derive(Debug, Clone)]
pub struct TokenConfirm {
    endpoint: Endpoint,
    roots: Arc<RootCertStore>,
    timeout: Duration,
}

impl TokenConfirm {
    /// Token requests to `endpoint` (the device listener), trusting `roots` for its certificate.
    pub fn new(endpoint: Endpoint, roots: Arc<RootCertStore>) -> Self {
        Self { endpoint, roots, timeout: Duration::from_secs(30) }
    }
}

impl Confirm for TokenConfirm {
    async fn confirm(&self, identity: &Identity) -> Confirmation {
        let tls = match identity::client_config(identity, self.roots.clone(), false) {
            Ok(tls) => tls,
            Err(e) => return Confirmation::Refused(format!("{e:#}")),
        };
        match TokenClient::new(self.endpoint.clone(), tls, None).with_timeout(self.timeout).fetch().await {
            Ok(_) => Confirmation::Works,
            // A verdict on the certificate; anything else (404 from a wrong URL, 408 or 429 from a
            // proxy, 5xx) is no verdict.
            Err(FetchError::Refused { status, message }) if matches!(status, 400 | 401 | 403 | 422) => {
                Confirmation::Refused(format!("{status} {}: {message}", http::reason(status)))
            }
            Err(e) => Confirmation::NoAnswer(e.to_string()),
        }
    }
}

/// Whether `pair`'s certificate is still in date (a pair is put back only then: an expired
/// one would strand the device).
fn in_date(pair: &Pair) -> bool {
    pair.certificate().not_after > time::OffsetDateTime::now_utc()
}

/// What [`Renewer::recover`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovered {
    /// Nothing was unfinished.
    Nothing,
    /// The current pair stays; the `.previous` files (incomplete, or a copy of it) are gone.
    DiscardedPrevious,
    /// The server confirmed the current pair; the `.previous` files are gone.
    ConfirmedCurrent,
    /// The previous pair is back in place: why the current one was not kept.
    RestoredPrevious(String),
}

/// A finished re-enrollment.
#[derive(Debug, Clone)]
pub struct Renewed {
    /// The certificate now in place.
    pub certificate: CertificateInfo,
    /// The one it replaced.
    pub replaced: CertificateInfo,
    /// Whether the key is new.
    pub new_key: bool,
    /// What the run found unfinished first.
    pub recovered: Recovered,
}

/// Re-enrolls the pair at `paths` with the device listener at `endpoint`.
#[derive(Debug, Clone)]
pub struct Renewer<F = TokenConfirm> {
    endpoint: Endpoint,
    roots: Arc<RootCertStore>,
    paths: PairPaths,
    new_key: Option<Option<KeyType>>,
    confirm: F,
    timeout: Duration,
}

impl Renewer<TokenConfirm> {
    /// Re-enrollment of the pair at `paths` with the device listener at `endpoint` (https),
    /// trusting `roots` for its certificate; new pairs are confirmed with a device token.
    pub fn new(endpoint: Endpoint, roots: Arc<RootCertStore>, paths: PairPaths) -> anyhow::Result<Self> {
        anyhow::ensure!(
            endpoint.tls,
            "{}: re-enrollment authenticates with the device certificate over mutual TLS; give the device \
             listener's https:// URL",
            endpoint.url()
        );
        let confirm = TokenConfirm::new(endpoint.clone(), roots.clone());
        Ok(Self { endpoint, roots, paths, new_key: None, confirm, timeout: Duration::from_secs(60) })
    }
}

impl<F: Confirm> Renewer<F> {
    /// Asks for the new certificate with a new key: of `key_type`, or of the current key's type
    /// (P-256 when it is none of [`KeyType`]'s).
    pub fn with_new_key(mut self, key_type: Option<KeyType>) -> Self {
        self.new_key = Some(key_type);
        self
    }

    /// Confirms new pairs with `confirm` instead of a token request.
    pub fn with_confirm<G: Confirm>(self, confirm: G) -> Renewer<G> {
        Renewer {
            endpoint: self.endpoint,
            roots: self.roots,
            paths: self.paths,
            new_key: self.new_key,
            confirm,
            timeout: self.timeout,
        }
    }

    /// The files.
    pub fn paths(&self) -> &PairPaths {
        &self.paths
    }

    /// Applies the recovery rule of [`crate::pair`] to what an earlier run left: see there.
    /// Fails, changing nothing, when neither pair is usable or the server gives no verdict.
    pub async fn recover(&self) -> anyhow::Result<Recovered> {
        let paths = &self.paths;
        let current = pair::read_slot(paths.key(), paths.cert())?;
        let previous = pair::read_slot(&paths.previous_key(), &paths.previous_cert())?;
        match pair::decide(&current, &previous) {
            Recovery::Nothing => Ok(Recovered::Nothing),
            Recovery::DiscardPrevious => {
                pair::discard_previous(paths)?;
                tracing::info!(key = %paths.previous_key().display(), "removed the previous pair an earlier run left");
                Ok(Recovered::DiscardedPrevious)
            }
            Recovery::RestorePrevious => {
                let before = previous.usable().context("internal: no previous pair to put back")?;
                let why = broken(&current);
                pair::restore_previous(paths, before)?;
                tracing::warn!(reason = %why, "put the previous key and certificate back");
                Ok(Recovered::RestoredPrevious(why))
            }
            Recovery::AskServer => {
                let now = current.usable().context("internal: no current pair")?;
                let before = previous.usable().context("internal: no previous pair")?;
                match self.confirm.confirm(now.identity()).await {
                    Confirmation::Works => {
                        pair::discard_previous(paths)?;
                        tracing::info!(serial = %now.certificate().serial_hex, "the server confirmed the current certificate");
                        Ok(Recovered::ConfirmedCurrent)
                    }
                    Confirmation::Refused(why) if !in_date(before) => anyhow::bail!(
                        "the server refused the current certificate ({why}) and the previous one in {} has expired: \
                         both are kept; enroll again with a new one-time password",
                        paths.previous_cert().display()
                    ),
                    Confirmation::Refused(why) => {
                        pair::restore_previous(paths, before)?;
                        tracing::warn!(reason = %why, "the current certificate was refused; put the previous pair back");
                        Ok(Recovered::RestoredPrevious(format!("the server refused the current certificate: {why}")))
                    }
                    Confirmation::NoAnswer(why) => anyhow::bail!(
                        "an earlier re-enrollment is unfinished: {} holds a certificate not yet confirmed by the \
                         server, {} the previous one, and the server gave no verdict ({why}); run again once it \
                         answers",
                        paths.cert().display(),
                        paths.previous_cert().display()
                    ),
                }
            }
            Recovery::Stuck(why) => anyhow::bail!(
                "no usable key and certificate: {why}. Neither {} nor {} can be used; enroll again with a new \
                 one-time password, or put a working pair in place",
                paths.cert().display(),
                paths.previous_cert().display()
            ),
        }
    }

    /// Recovers, then re-enrolls once: a new certificate (and key, when asked) in place and
    /// confirmed, or an error with the current pair still (or again) in place.
    pub async fn reenroll(&self) -> anyhow::Result<Renewed> {
        let recovered = self.recover().await?;
        let paths = &self.paths;
        let current = Pair::read(paths.key(), paths.cert())?;
        let key = self.request_key(&current)?;
        let csr = est::reenrollment_request(current.certificate(), &key)?;
        let tls = identity::client_config(current.identity(), self.roots.clone(), false)?;
        let client = EstClient::new(self.endpoint.clone(), tls).with_timeout(self.timeout);
        let certificates = client
            .simple_reenroll(&csr)
            .await
            .with_context(|| format!("re-enrolling '{}' at {}", current.certificate().subject, self.endpoint.url()))?;
        let (der, info) = est::issued_for(&certificates, &key).map_err(anyhow::Error::msg)?;
        est::check_reenrolled(&info, current.certificate()).map_err(anyhow::Error::msg)?;
        let key_pem = match self.new_key {
            Some(_) => key.serialize_pem().into_bytes(),
            None => current.key_pem().to_vec(),
        };
        let new = Pair::from_pem(key_pem, anchorage_common::pem::to_pem(&der).into_bytes())?;

        pair::back_up(paths, &current)?;
        if let Err(e) = pair::install(paths, new.key_pem(), new.cert_pem()) {
            return Err(match pair::restore_previous(paths, &current) {
                Ok(()) => e.context("the previous key and certificate are still in place"),
                Err(again) => e.context(format!("and putting the previous pair back failed too ({again:#})")),
            });
        }
        match self.confirm.confirm(new.identity()).await {
            Confirmation::Works => {
                pair::discard_previous(paths)?;
                Ok(Renewed {
                    certificate: new.certificate().clone(),
                    replaced: current.certificate().clone(),
                    new_key: self.new_key.is_some(),
                    recovered,
                })
            }
            Confirmation::Refused(why) if !in_date(&current) => anyhow::bail!(
                "the new certificate (serial {}) did not get a device token ({why}), and the previous one has \
                 expired: the new pair stays in place, the previous one in {}",
                info.serial_hex,
                paths.previous_cert().display()
            ),
            Confirmation::Refused(why) => {
                pair::restore_previous(paths, &current)?;
                anyhow::bail!(
                    "the new certificate (serial {}) did not get a device token: {why}; the previous key and \
                     certificate are back in place",
                    info.serial_hex
                )
            }
            Confirmation::NoAnswer(why) => anyhow::bail!(
                "the new certificate (serial {}) is in {} but could not be confirmed ({why}); the previous pair \
                 stays in {} until a run confirms or refuses the new one",
                info.serial_hex,
                paths.cert().display(),
                paths.previous_cert().display()
            ),
        }
    }

    /// The key the request is signed with: the current one, or a new one.
    fn request_key(&self, current: &Pair) -> anyhow::Result<KeyPair> {
        let key_file = self.paths.key().display();
        let pem = std::str::from_utf8(current.key_pem()).context("the key is not PEM text")?;
        let loaded = KeyPair::from_pem(pem);
        match (self.new_key, loaded) {
            (None, Ok(key)) => Ok(key),
            (None, Err(e)) => anyhow::bail!(
                "the key {key_file} cannot sign the request ({e}): it must be PKCS#8 (BEGIN PRIVATE KEY; \
                 `openssl pkcs8 -topk8 -nocrypt` converts one), or give --new-key"
            ),
            (Some(Some(t)), _) => t.generate(),
            (Some(None), loaded) => loaded.ok().and_then(|k| KeyType::of(&k)).unwrap_or_default().generate(),
        }
    }

    /// When the current certificate is due: `percent` of its lifetime (after recovery).
    pub async fn due(&self, percent: u8) -> anyhow::Result<OffsetDateTime> {
        self.recover().await?;
        let current = Pair::read(self.paths.key(), self.paths.cert())?;
        Ok(due_at(current.certificate(), percent))
    }

    /// Keeps the pair renewed until `shutdown` resolves: sleeps until the current certificate is
    /// due ([`Renewer::due`]), re-enrolls, and retries failures with backoff. Errors are logged
    /// and retried, never returned.
    pub async fn watch<C: Clock>(
        &self,
        clock: &C,
        percent: u8,
        config: &WatchConfig,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        tokio::select! {
            () = self.run(clock, percent, config) => Ok(()),
            () = shutdown => {
                tracing::info!("stopping re-enrollment");
                Ok(())
            }
        }
    }

    async fn run<C: Clock>(&self, clock: &C, percent: u8, config: &WatchConfig) {
        let mut backoff = Backoff::new(config);
        loop {
            let now = clock.now();
            let next = match self.due(percent).await {
                Err(e) => {
                    let at = later(now, backoff.delay());
                    tracing::warn!(error = %format!("{e:#}"), retry_at = %at, "cannot read the key and certificate");
                    at
                }
                Ok(due) if due > now => {
                    tracing::info!(renew_at = %due, "waiting to re-enroll");
                    due
                }
                Ok(_) => match self.reenroll().await {
                    Ok(renewed) => {
                        backoff.reset();
                        let due = due_at(&renewed.certificate, percent);
                        tracing::info!(
                            serial = %renewed.certificate.serial_hex,
                            not_after = %renewed.certificate.not_after,
                            renew_at = %due,
                            "re-enrolled: a new certificate is in place"
                        );
                        if due > clock.now() {
                            due
                        } else {
                            // The new certificate is due already (a short one, or clocks apart).
                            later(now, backoff.delay())
                        }
                    }
                    Err(e) => {
                        let at = later(now, backoff.delay());
                        tracing::warn!(error = %format!("{e:#}"), retry_at = %at, "re-enrollment failed");
                        at
                    }
                },
            };
            clock.sleep_until(next).await;
        }
    }
}

/// Why a current pair is not usable (for messages).
fn broken(slot: &Slot) -> String {
    match slot {
        Slot::Missing => "the key and certificate were missing".into(),
        Slot::Broken(why) => why.clone(),
        Slot::Usable(_) => "the current pair was usable".into(),
    }
}

/// When `certificate` is due for re-enrollment at `percent` of its lifetime (common's rule).
pub fn due_at(certificate: &CertificateInfo, percent: u8) -> OffsetDateTime {
    let at = anchorage_common::est::reenroll_at(
        certificate.not_before.unix_timestamp(),
        certificate.not_after.unix_timestamp(),
        percent,
    );
    OffsetDateTime::from_unix_timestamp(at).unwrap_or(certificate.not_after)
}
