//! `Server`: anchorage started in-process on loopback ports with its own data directory and a
//! manual clock, plus helpers to make PKIs and run the `anchorage-device` binary.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anchorage_device::admin::Admin;
use anchorage_device::clock::Clock as DeviceClock;
use anchorage_device::est::EstClient;
use anchorage_device::identity;
use anchorage_device::pki::{self, Pki, PkiOptions};
use anchorage_device::token::TokenClient;
use anchorage_server::Running;
use anchorage_server::clock::{Clock, ManualClock};
use anchorage_server::config::{Config, Secret};
use clap::Parser as _;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

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

    /// Makes the tenant's CA (`POST /certificate-authority`), which signs EST certificates.
    pub async fn make_ca(&self) {
        let res = reqwest::Client::new()
            .post(format!("{}/certificate-authority", self.api))
            .basic_auth(ADMIN_USER, Some(PASSWORD))
            .header("accept", "application/json")
            .send()
            .await
            .expect("make the CA");
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    }

    /// A new device request for `id` with the one-time password `otp`.
    pub async fn new_device_request(&self, id: &str, otp: &str) {
        let res = reqwest::Client::new()
            .post(format!("{}/devicecontrol/newDeviceRequests", self.api))
            .basic_auth(ADMIN_USER, Some(PASSWORD))
            .json(&serde_json::json!({"id": id, "enrollmentToken": otp}))
            .send()
            .await
            .expect("new device request");
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    }

    /// The certificates issued to `id` (newest first), as the admin API lists them.
    pub async fn issued(&self, id: &str) -> Vec<serde_json::Value> {
        let res = reqwest::Client::new()
            .get(format!("{}/user/t100/users/device_{id}?withCertificates=true", self.api))
            .basic_auth(ADMIN_USER, Some(PASSWORD))
            .send()
            .await
            .expect("device user");
        let user: serde_json::Value = res.json().await.expect("json");
        user["issuedCertificates"].as_array().cloned().unwrap_or_default()
    }

    /// An EST client for the API listener (plain http here).
    pub fn est_api(&self) -> EstClient {
        let tls = identity::anonymous_client_config(Arc::new(identity::web_roots())).expect("tls");
        EstClient::new(anchorage_device::http::Endpoint::parse(&self.api).expect("url"), tls)
    }

    /// The roots that trust the device listener.
    pub fn roots(&self) -> Arc<rustls::RootCertStore> {
        Arc::new(identity::roots_from_pem_file(&self.ca_path()).expect("roots"))
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

/// A device-side clock for loops under test: the server's manual clock, and a sleep that hands
/// the deadline to the test and waits until the test lets it go.
pub struct TestClock {
    pub server: Arc<ManualClock>,
    pub sleeps: mpsc::UnboundedSender<(OffsetDateTime, oneshot::Sender<()>)>,
}

impl DeviceClock for TestClock {
    fn now(&self) -> OffsetDateTime {
        self.server.now()
    }

    fn sleep_until(&self, deadline: OffsetDateTime) -> impl Future<Output = ()> + Send {
        let (wake, woken) = oneshot::channel();
        let _ = self.sleeps.send((deadline, wake));
        async move {
            let _ = woken.await;
        }
    }
}

/// Moves the server's clock (and so a [`TestClock`]'s) to `t`, if it is later.
pub fn move_to(clock: &ManualClock, t: OffsetDateTime) {
    let by = t - clock.now();
    if by.is_positive() {
        clock.advance(by);
    }
}
