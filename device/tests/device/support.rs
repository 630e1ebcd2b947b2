//! `Server`: anchorage started in-process on loopback ports with its own data directory and a
//! manual clock, plus helpers to make PKIs and run the `anchorage-device` binary.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anchorage_device::admin::Admin;
use anchorage_device::identity;
use anchorage_device::pki::{self, Pki, PkiOptions};
use anchorage_device::token::TokenClient;
use anchorage_server::Running;
use anchorage_server::clock::{Clock, ManualClock};
use anchorage_server::config::{Config, Secret};
use clap::Parser as _;
use time::OffsetDateTime;

pub const ADMIN_USER: &str = "t100/admin";
pub const PASSWORD: &str = "device-tests-password";

pub struct Server {
    pub clock: Arc<ManualClock>,
    pub data: tempfile::TempDir,
    running: Option<Running>,
    device_listen: SocketAddr,
    pub api: String,
    pub device_url: String,
}

fn config(data: &Path, device_listen: SocketAddr) -> Config {
    let assets = data.join("site");
    let mut c = Config::try_parse_from([
        "anchorage".to_string(),
        "--listen=127.0.0.1:0".into(),
        format!("--device-listen={device_listen}"),
        format!("--data-dir={}", data.display()),
        format!("--assets-dir={}", assets.display()),
    ])
    .expect("config");
    c.admin_password = Some(Secret(PASSWORD.into()));
    c
}

impl Server {
    /// anchorage on 127.0.0.1, both listeners on free ports.
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().expect("addr")).await
    }

    /// anchorage with its device listener on `device_listen`.
    pub async fn start_on(device_listen: SocketAddr) -> Self {
        let data = tempfile::tempdir().expect("tmp");
        let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
        let running = anchorage_server::start(config(data.path(), device_listen), clock.clone() as Arc<dyn Clock>)
            .await
            .expect("server starts");
        Self {
            api: format!("http://{}", running.addr),
            device_url: format!("https://{}", running.device_addr.expect("device listener")),
            device_listen: running.device_addr.expect("device listener"),
            clock,
            data,
            running: Some(running),
        }
    }

    /// Stops the server (the device listener's port is free until [`Server::resume`]).
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("stops");
        }
    }

    /// Starts again on the same data directory and device port.
    pub async fn resume(&mut self) {
        let running =
            anchorage_server::start(config(self.data.path(), self.device_listen), self.clock.clone() as Arc<dyn Clock>)
                .await
                .expect("server restarts");
        self.api = format!("http://{}", running.addr);
        self.running = Some(running);
    }

    /// The local CA that signed the device listener's certificate.
    pub fn ca_path(&self) -> PathBuf {
        self.data.path().join("tls/ca.pem")
    }

    pub fn admin(&self) -> Admin {
        Admin::new(&self.api, ADMIN_USER, PASSWORD).expect("admin client")
    }

    /// Uploads `pem` as an enabled trusted certificate with auto-registration on.
    pub async fn trust(&self, pem: &str) {
        let admin = self.admin();
        let tenant = admin.tenant().await.expect("tenant");
        assert!(admin.trust(&tenant, "device tests root", pem, true).await.expect("upload"));
    }

    /// A token client for `identity` trusting this server's local CA.
    pub fn client(&self, identity: &identity::Identity, chain_header: Option<String>) -> TokenClient {
        let roots = identity::roots_from_pem_file(&self.ca_path()).expect("roots");
        let tls = identity::client_config(identity, Arc::new(roots), true).expect("tls");
        TokenClient::new(anchorage_device::http::Endpoint::parse(&self.device_url).expect("url"), tls, chain_header)
    }
}

/// A PKI made in memory.
pub fn make_pki(devices: usize, intermediate: bool) -> Pki {
    pki::generate(&PkiOptions {
        devices,
        intermediate_cn: intermediate.then(|| "device tests intermediate".to_string()),
        ..PkiOptions::default()
    })
    .expect("pki")
}

/// The output of a finished `anchorage-device` run.
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the `anchorage-device` binary off the runtime's worker threads (the in-process server
/// keeps serving), with extra environment variables.
pub async fn cli(args: &[&str], env: &[(&str, &str)]) -> Run {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_anchorage-device"))
            .args(&args)
            .env_remove("ANCHORAGE_DEVICE_P12_PASSWORD")
            .env("RUST_LOG", "warn")
            .envs(env)
            .output()
            .expect("anchorage-device runs");
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        }
    })
    .await
    .expect("cli task")
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}
