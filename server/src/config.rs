//! Command-line flags and their environment variables: everything an operator can set.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything an operator can set to run anchorage; every flag has a matching environment
/// variable. Parsed as part of [`crate::cli::Cli`].
#[derive(Clone, clap::Parser)]
pub struct Config {
    /// Address and port of the console and the REST API.
    #[arg(long, env = "ANCHORAGE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory holding the database (`anchorage.db`); created on first start.
    #[arg(long, env = "ANCHORAGE_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// The tenant id, as clients send it in `<tenant>/<user>` and in
    /// `/tenant/tenants/{tenantId}/…` paths.
    #[arg(long, env = "ANCHORAGE_TENANT", default_value = "t100", value_parser = parse_tenant_id)]
    pub tenant: String,

    /// Name of the admin user created at first start.
    #[arg(long, env = "ANCHORAGE_ADMIN_USER", default_value = "admin")]
    pub admin_user: String,

    /// Password of the admin user created at first start. When unset, a password is
    /// generated and printed once. Only its argon2 hash is stored; it is read from the
    /// environment only, never from a flag (flags show up in process listings).
    #[arg(skip)]
    pub admin_password: Option<Secret>,

    /// Directory of the built console (`scripts/build-app.sh` writes `target/site`).
    #[arg(long, env = "ANCHORAGE_ASSETS_DIR", default_value = "target/site")]
    pub assets_dir: PathBuf,

    /// Public base URL used in `self`/`next`/`prev` links (default: `http://` plus the
    /// request's Host header).
    #[arg(long, env = "ANCHORAGE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Address and port of the mutual-TLS listener for devices (the platform's port is 8443).
    #[arg(long, env = "ANCHORAGE_DEVICE_LISTEN", default_value = "127.0.0.1:8443")]
    pub device_listen: SocketAddr,

    /// PEM certificate chain of the device listener. Without it (and --tls-key), anchorage
    /// makes a local CA at `<data-dir>/tls/ca.pem` and a certificate for localhost signed by it.
    #[arg(long, env = "ANCHORAGE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of the device listener's certificate.
    #[arg(long, env = "ANCHORAGE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Proxy mode: forward the platform's API to this tenant URL (e.g.
    /// `https://t123.cumulocity.com`) instead of serving it from the local database. The
    /// console's users are then the tenant's users; the device listener is off (devices talk
    /// to the platform directly).
    #[arg(long, env = "ANCHORAGE_UPSTREAM")]
    pub upstream: Option<String>,

    /// Proxy mode: a PEM file of CA certificates to trust for the upstream's TLS (besides the
    /// system's). TLS to the upstream is always verified.
    #[arg(long, env = "ANCHORAGE_UPSTREAM_CA", requires = "upstream")]
    pub upstream_ca: Option<PathBuf>,

    /// Proxy mode: seconds to wait for the upstream to connect and to answer.
    #[arg(long, env = "ANCHORAGE_UPSTREAM_TIMEOUT_SECONDS", default_value_t = 10)]
    pub upstream_timeout_seconds: u64,

    /// Console sessions end after this many seconds without a request.
    #[arg(long, env = "ANCHORAGE_SESSION_IDLE_SECONDS", default_value_t = 1800)]
    pub session_idle_seconds: u64,

    /// Console sessions end this many seconds after login at the latest, unless the tenant
    /// option `oauth.internal` / `basic-user.cookie.lifespan.seconds` says otherwise.
    #[arg(long, env = "ANCHORAGE_SESSION_LIFETIME_SECONDS", default_value_t = 28800)]
    pub session_lifetime_seconds: u64,

    /// Largest request body accepted on the API, in bytes (larger → 413).
    #[arg(long, env = "ANCHORAGE_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Most open connections per listener. At the cap a new connection evicts the one idle the
    /// longest; lowered at start to what the open-file limit (`ulimit -n`) allows.
    #[arg(long, env = "ANCHORAGE_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,

    /// Most open connections per listener from one client address (a `--trusted-proxy` counts
    /// only towards the total).
    #[arg(long, env = "ANCHORAGE_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 256)]
    pub max_connections_per_address: usize,

    /// Seconds a client has to send a request's whole body.
    #[arg(long, env = "ANCHORAGE_BODY_READ_TIMEOUT_SECONDS", default_value_t = 60)]
    pub body_read_timeout_seconds: u64,

    /// Seconds a client has for its TLS handshake and for each request's head.
    #[arg(long, env = "ANCHORAGE_HEADER_READ_TIMEOUT_SECONDS", default_value_t = 10)]
    pub header_read_timeout_seconds: u64,

    /// A connection with no request in flight for this many seconds is closed.
    #[arg(long, env = "ANCHORAGE_IDLE_TIMEOUT_SECONDS", default_value_t = 60)]
    pub idle_timeout_seconds: u64,

    /// The online revocation check gives up on a CRL download after this many milliseconds
    /// (the device is then refused, or let in if its tenant fails open).
    #[arg(long, env = "ANCHORAGE_CRL_FETCH_TIMEOUT_MS", default_value_t = 5000)]
    pub crl_fetch_timeout_ms: u64,

    /// Largest CRL the online revocation check downloads, in bytes.
    #[arg(long, env = "ANCHORAGE_CRL_MAX_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub crl_max_bytes: usize,

    /// The database: `sqlite://<file>` (default: `<data-dir>/anchorage.db`, the embedded
    /// default) or `postgres://user@host:port/db` (several instances sharing one database).
    /// Every instance on one PostgreSQL database needs the same --secret-key-file and, for
    /// devices, the same --tls-cert/--tls-key (docs/deployment.md).
    #[arg(long, env = "ANCHORAGE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Most open database connections of this instance.
    #[arg(long, env = "ANCHORAGE_DB_MAX_CONNECTIONS", default_value_t = 8)]
    pub db_max_connections: u32,

    /// Database connections kept open while idle.
    #[arg(long, env = "ANCHORAGE_DB_MIN_CONNECTIONS", default_value_t = 0)]
    pub db_min_connections: u32,

    /// On SIGTERM or Ctrl-C, how many seconds open requests get to finish before the
    /// listeners close (new connections are refused at once).
    #[arg(long, env = "ANCHORAGE_SHUTDOWN_GRACE_SECONDS", default_value_t = 10)]
    pub shutdown_grace_seconds: u64,

    /// File of the 256-bit key that seals the secrets kept in the database (the JWT signing
    /// key, `credentials.*` options, device tokens); made at first start (mode 0600) when it
    /// does not exist. Default: `<data-dir>/secret.key`. Back it up with the database.
    #[arg(long, env = "ANCHORAGE_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,

    /// Reverse proxies (an address or a CIDR block; repeat the flag or separate with commas)
    /// whose `X-Forwarded-For` names the client: login throttling, refusal budgets and the
    /// audit log then see the client's address instead of the proxy's. Without it the header
    /// is ignored (a client could write anything into it).
    #[arg(long = "trusted-proxy", env = "ANCHORAGE_TRUSTED_PROXIES", value_delimiter = ',', value_parser = IpNet::parse)]
    pub trusted_proxies: Vec<IpNet>,

    /// The key of a tenant CA made by `POST /certificate-authority` (or a rollover): ECDSA
    /// P-256, or RSA of 2048 or 3072 bits.
    #[arg(long, env = "ANCHORAGE_TENANT_CA_KEY", value_enum, default_value = "p256")]
    pub tenant_ca_key: crate::ca::KeyAlgorithm,

    /// How many days a tenant CA is valid when made or renewed (the platform's 1095). It can
    /// be renewed once less than 730 days are left.
    #[arg(long, env = "ANCHORAGE_TENANT_CA_DAYS", default_value_t = 1095, value_parser = clap::value_parser!(u32).range(1..=7300))]
    pub tenant_ca_days: u32,

    /// The tenant CA subject's country (`C`); its CN is the tenant id.
    #[arg(long, env = "ANCHORAGE_TENANT_CA_COUNTRY", default_value = anchorage_common::est::DEFAULT_CA_COUNTRY)]
    pub tenant_ca_country: String,

    /// The tenant CA subject's organisation (`O`).
    #[arg(long, env = "ANCHORAGE_TENANT_CA_ORGANIZATION", default_value = anchorage_common::est::DEFAULT_CA_ORGANIZATION)]
    pub tenant_ca_organization: String,

    /// How many days an EST enrollment one-time password can be used after it was set.
    #[arg(long, env = "ANCHORAGE_ENROLLMENT_OTP_DAYS", default_value_t = anchorage_common::est::DEFAULT_OTP_LIFESPAN_DAYS, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub enrollment_otp_days: u32,
}

/// An address block: an IP address and a prefix length (`10.0.0.0/8`, `::1`, `192.0.2.7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not an IP address or a CIDR block such as 10.0.0.0/8");
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a.parse().map_err(|_| bad())?, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s.trim().parse().map_err(|_| bad())?, None),
        };
        let max = if matches!(addr, std::net::IpAddr::V4(_)) { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(Self { addr, prefix })
    }

    /// Whether `ip` is in this block (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let (a, b, bits) = match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)) << 96, u128::from(u32::from(b)) << 96, 32),
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
            _ => return false,
        };
        let prefix = u32::from(self.prefix).min(bits);
        let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix) };
        a & mask == b & mask
    }
}

impl Config {
    /// How tenant CAs are made.
    pub fn tenant_ca_settings(&self) -> crate::ca::Settings {
        crate::ca::Settings {
            key: self.tenant_ca_key,
            validity: time::Duration::days(i64::from(self.tenant_ca_days)),
            country: self.tenant_ca_country.clone(),
            organization: self.tenant_ca_organization.clone(),
        }
    }

    /// The embedded default's SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("anchorage.db")
    }

    /// The database: `--database-url`, else the embedded default's file.
    pub fn database_location(&self) -> anyhow::Result<crate::db::Location> {
        match &self.database_url {
            Some(url) => crate::db::Location::parse(url),
            None => Ok(crate::db::Location::Sqlite(self.database_path())),
        }
    }

    /// The database pool's sizes.
    pub fn pool_sizes(&self) -> crate::db::PoolSizes {
        crate::db::PoolSizes { max: self.db_max_connections.max(1), min: self.db_min_connections }
    }

    /// Opens the database this configuration names (see [`crate::db::open`]).
    pub async fn open_database(&self) -> anyhow::Result<crate::db::Db> {
        crate::db::open(&self.database_location()?, self.pool_sizes()).await
    }

    /// The secret key file.
    pub fn secret_key_path(&self) -> PathBuf {
        self.secret_key_file.clone().unwrap_or_else(|| self.data_dir.join("secret.key"))
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("tenant", &self.tenant)
            .field("admin_user", &self.admin_user)
            .field("admin_password", &self.admin_password)
            .field("assets_dir", &self.assets_dir)
            .field("public_url", &self.public_url)
            .field("device_listen", &self.device_listen)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .field("upstream", &self.upstream)
            .field("upstream_ca", &self.upstream_ca)
            .field("upstream_timeout_seconds", &self.upstream_timeout_seconds)
            .field("session_idle_seconds", &self.session_idle_seconds)
            .field("session_lifetime_seconds", &self.session_lifetime_seconds)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_connections", &self.max_connections)
            .field("max_connections_per_address", &self.max_connections_per_address)
            .field("body_read_timeout_seconds", &self.body_read_timeout_seconds)
            .field("header_read_timeout_seconds", &self.header_read_timeout_seconds)
            .field("idle_timeout_seconds", &self.idle_timeout_seconds)
            .field("crl_fetch_timeout_ms", &self.crl_fetch_timeout_ms)
            .field("crl_max_bytes", &self.crl_max_bytes)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("secret_key_file", &self.secret_key_file)
            .field("database", &self.database_location().map(|l| l.to_string()).unwrap_or_default())
            .field("db_max_connections", &self.db_max_connections)
            .field("db_min_connections", &self.db_min_connections)
            .field("shutdown_grace_seconds", &self.shutdown_grace_seconds)
            .field("tenant_ca_key", &self.tenant_ca_key)
            .field("tenant_ca_days", &self.tenant_ca_days)
            .field("tenant_ca_country", &self.tenant_ca_country)
            .field("tenant_ca_organization", &self.tenant_ca_organization)
            .field("enrollment_otp_days", &self.enrollment_otp_days)
            .finish()
    }
}

/// A secret string whose `Debug` never shows it.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Tenant ids: 1–64 ASCII letters, digits, `-` or `_` (they appear in paths and in
/// `<tenant>/<user>` credentials, so `/` and `:` are out).
fn parse_tenant_id(s: &str) -> Result<String, String> {
    let ok = !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(s.to_string()) } else { Err("a tenant id is 1-64 letters, digits, '-' or '_'".into()) }
}

#[cfg(test)]
mod tests {
    use super::IpNet;

    #[test]
    fn address_blocks() {
        let net = IpNet::parse("10.0.0.0/8").expect("parses");
        assert!(net.contains("10.1.2.3".parse().expect("ip")));
        assert!(net.contains("::ffff:10.1.2.3".parse().expect("ip")));
        assert!(!net.contains("11.0.0.1".parse().expect("ip")));
        assert!(IpNet::parse("127.0.0.1").expect("parses").contains("127.0.0.1".parse().expect("ip")));
        assert!(!IpNet::parse("127.0.0.1").expect("parses").contains("127.0.0.2".parse().expect("ip")));
        assert!(IpNet::parse("::/0").expect("parses").contains("2001:db8::1".parse().expect("ip")));
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/x", ""] {
            assert!(IpNet::parse(bad).is_err(), "{bad}");
        }
    }
}
