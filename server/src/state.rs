//! Shared state of the server: built once at start-up, cloned into every handler.

use std::ops::Deref;
use std::sync::Arc;

use crate::audit::Refusals;
use crate::auth::Authenticator;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::{Db, Readers};
use crate::limiter::LoginLimiter;
use crate::secrets::SecretBox;
use crate::tokens::TokenService;

/// Everything a handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The contents of [`AppState`].
pub struct Inner {
    pub db: Db,
    /// The device-token endpoint's own read connections.
    pub readers: Readers,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    pub auth: Authenticator,
    pub tokens: TokenService,
    pub limiter: LoginLimiter,
    /// Refused requests: aggregated in the audit log, budgeted per client address.
    pub refusals: Refusals,
    /// Seals and opens the secrets kept in the database.
    pub secrets: SecretBox,
    /// Held by the bulk import that is writing: one at a time.
    pub bulk_imports: tokio::sync::Mutex<()>,
    /// The online revocation check: CRLs fetched from distribution points, cached.
    pub crl_online: crate::crl_online::OnlineRevocation,
    /// The tenants' CRLs as last built, and the lock of the build under way.
    pub crl_downloads: crate::routes::crl::CrlCache,
}

impl AppState {
    pub fn new(
        db: Db,
        config: Config,
        clock: Arc<dyn Clock>,
        tokens: TokenService,
        secrets: SecretBox,
    ) -> anyhow::Result<Self> {
        let crl_online = crate::crl_online::OnlineRevocation::new(crate::crl_online::Limits {
            timeout: std::time::Duration::from_millis(config.crl_fetch_timeout_ms.max(1)),
            max_bytes: config.crl_max_bytes.max(1024),
            ..crate::crl_online::Limits::default()
        });
        Ok(Self(Arc::new(Inner {
            auth: Authenticator::new(db.clone())?,
            readers: Readers::new(&db),
            limiter: LoginLimiter::in_database(db.clone()),
            db,
            config,
            clock,
            tokens,
            refusals: Refusals::default(),
            secrets,
            bulk_imports: tokio::sync::Mutex::new(()),
            crl_online,
            crl_downloads: crate::routes::crl::CrlCache::default(),
        })))
    }

    /// "Now" in the platform's text format, for timestamps stored in rows.
    pub fn now_text(&self) -> String {
        anchorage_common::timefmt::platform(self.clock.now())
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
