//! The online revocation check at the token endpoint, over real mutual TLS: device
//! certificates name CRL distribution points on a test HTTP server, whose CRLs the openssl
//! binary signs with the test CA's key: revoked, not revoked, unreachable, expired, signed by
//! another key, oversized and slow; unreachable both failing closed (the default) and open.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use rcgen::{CrlDistributionPoint, KeyUsagePurpose};
use reqwest::Method;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::support::*;

/// A root CA (the support's [`Ca`]) whose CRLs the openssl binary signs, with its files in a
/// folder.
struct CrlCa {
    dir: PathBuf,
    ca: Ca,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("the openssl binary");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

impl CrlCa {
    fn new(base: &Path, name: &str) -> Self {
        let dir = base.join(name);
        std::fs::create_dir_all(&dir).expect("dir");
        let ca = Ca::root_with(name, |p| {
            p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            p.not_after = now() + time::Duration::days(3650);
        });
        std::fs::write(dir.join("cert.pem"), &ca.pem).expect("write");
        std::fs::write(dir.join("key.pem"), ca.key_pem()).expect("write");
        std::fs::write(dir.join("index.txt"), "").expect("write");
        std::fs::write(dir.join("crlnumber"), "01\n").expect("write");
        std::fs::write(
            dir.join("ca.cnf"),
            "[ ca ]\ndefault_ca = d\n[ d ]\ndatabase = index.txt\ncrlnumber = crlnumber\ndefault_md = sha256\n",
        )
        .expect("write");
        CrlCa { dir, ca }
    }

    /// A device certificate (CN `id`) naming `cdp` as its CRL distribution point.
    fn device(&self, id: &str, cdp: &str) -> Device {
        self.ca.device_with(id, |p| {
            p.crl_distribution_points = vec![CrlDistributionPoint { uris: vec![cdp.to_string()] }];
        })
    }

    /// Lists `device`'s certificate as revoked in the CA's database.
    fn revoke(&self, device: &Device) {
        use std::io::Write as _;
        let hex = serial_hex(&device.cert_pem);
        let hex = if hex.len() % 2 == 1 { format!("0{hex}") } else { hex };
        let mut index = std::fs::OpenOptions::new().append(true).open(self.dir.join("index.txt")).expect("index");
        writeln!(index, "R\t400101000000Z\t240102030405Z\t{}\tunknown\t/CN=x", hex.to_uppercase()).expect("write");
    }

    /// A DER CRL of the CA's database, valid for `hours`.
    fn crl(&self, hours: u32) -> Vec<u8> {
        let hours = hours.to_string();
        openssl(
            &self.dir,
            &[
                "ca",
                "-gencrl",
                "-config",
                "ca.cnf",
                "-keyfile",
                "key.pem",
                "-cert",
                "cert.pem",
                "-crlhours",
                &hours,
                "-out",
                "crl.pem",
            ],
        );
        openssl(&self.dir, &["crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der"]);
        std::fs::read(self.dir.join("crl.der")).expect("crl")
    }
}

/// What the CRL server answers for a path.
#[derive(Clone)]
enum Answer {
    Crl(Vec<u8>),
    /// Accepts and never answers.
    Hang,
}

#[derive(Clone, Default)]
struct Served(Arc<Mutex<std::collections::HashMap<String, Answer>>>);

async fn serve(State(served): State<Served>, UrlPath(name): UrlPath<String>) -> axum::response::Response {
    let answer = served.0.lock().expect("lock").get(&name).cloned();
    match answer {
        Some(Answer::Crl(body)) => ([("content-type", "application/pkix-crl")], body).into_response(),
        Some(Answer::Hang) => {
            std::future::pending::<()>().await;
            StatusCode::OK.into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A CRL server on a loopback port; returns its base URL.
async fn crl_server(served: Served) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().route("/{name}", axum::routing::get(serve)).with_state(served);
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    format!("http://{addr}")
}

fn refused_because(result: &(u16, Value), reason: &str, words: &str) {
    let (status, body) = result;
    assert_eq!((*status, body["reason"].as_str()), (401, Some(reason)), "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(words), "'{words}' in: {message}");
}

#[tokio::test]
async fn the_online_check_refuses_what_the_distribution_point_says_or_cannot_say() {
    // A short download limit and timeout, so the oversized and slow cases are quick.
    let app = TestApp::spawn_configured(Some(PASSWORD), |c| {
        c.crl_fetch_timeout_ms = 1500;
        c.crl_max_bytes = 64 * 1024;
    })
    .await;
    let dir = tempfile::tempdir().expect("tmp");
    let ca = CrlCa::new(dir.path(), "Online Root");
    // Same name, another key: a CRL that claims to be the issuer's but is not signed by it.
    let other = CrlCa::new(&dir.path().join("impostor"), "Online Root");
    let served = Served::default();
    let base = crl_server(served.clone()).await;
    let put = |name: &str, answer: Answer| {
        served.0.lock().expect("lock").insert(name.to_string(), answer);
    };
    app.trust(&ca.ca, "ENABLED", true).await;

    let revoked = ca.device("online-revoked", &format!("{base}/main.crl"));
    let clean = ca.device("online-clean", &format!("{base}/main.crl"));
    ca.revoke(&revoked);
    put("main.crl", Answer::Crl(ca.crl(24)));
    let unreachable = ca.device("online-unreachable", &format!("http://127.0.0.1:{}/gone.crl", free_port()));
    let expired = ca.device("online-expired", &format!("{base}/short.crl"));
    put("short.crl", Answer::Crl(ca.crl(1)));
    let wrong = ca.device("online-wrong", &format!("{base}/wrong.crl"));
    put("wrong.crl", Answer::Crl(other.crl(24)));
    let big = ca.device("online-big", &format!("{base}/big.crl"));
    put("big.crl", Answer::Crl(vec![0x30; 200 * 1024]));
    let slow = ca.device("online-slow", &format!("{base}/slow.crl"));
    put("slow.crl", Answer::Hang);

    // Off (the default): the distribution points are not consulted.
    let (status, issued) = app.device_token(&revoked, None).await;
    assert_eq!(status, 200);
    let early_token = issued["accessToken"].as_str().expect("token").to_string();
    let bearer = |token: String| {
        let app = &app;
        async move { app.client.get(app.url("/user/currentUser")).bearer_auth(token).send().await.expect("me").status() }
    };
    assert_eq!(bearer(early_token.clone()).await, 200);
    assert_eq!(app.device_token(&unreachable, None).await.0, 200);

    app.switch("crl.online.check.enabled", true).await;
    refused_because(&app.device_token(&revoked, None).await, "REVOKED", "was revoked");
    // The token it got before its CRL was consulted stops too.
    assert_eq!(bearer(early_token).await, 401);
    assert_eq!(app.device_token(&clean, None).await.0, 200);
    refused_because(&app.device_token(&unreachable, None).await, "REVOCATION_UNKNOWN", "could not be fetched");
    refused_because(&app.device_token(&wrong, None).await, "REVOCATION_UNKNOWN", "not signed by");
    refused_because(&app.device_token(&big, None).await, "REVOCATION_UNKNOWN", "larger");
    refused_because(&app.device_token(&slow, None).await, "REVOCATION_UNKNOWN", "");
    // The one-hour CRL is good now, and expired two hours later (by the server's clock).
    assert_eq!(app.device_token(&expired, None).await.0, 200);
    app.clock.advance(time::Duration::hours(2));
    refused_because(&app.device_token(&expired, None).await, "REVOCATION_UNKNOWN", "expired");

    // Failing open: what cannot be checked is let in; what is revoked is still refused.
    app.switch("crl.online.check.failopen.enabled", true).await;
    app.clock.advance(time::Duration::minutes(5)); // past the failure cache
    assert_eq!(app.device_token(&unreachable, None).await.0, 200);
    assert_eq!(app.device_token(&wrong, None).await.0, 200);
    refused_because(&app.device_token(&revoked, None).await, "REVOKED", "was revoked");

    // The chain doctor gives the same answers.
    let url = app.url("/tenant/trusted-certificates/verify-cert-chain");
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(revoked.cert_pem.clone().into_bytes()).file_name("c.pem"));
    let (status, body) = json(app.admin(Method::POST, &url).multipart(form).send().await.expect("doctor")).await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("REVOKED")), "{body}");
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(unreachable.cert_pem.clone().into_bytes()).file_name("c.pem"));
    let (status, body) = json(app.admin(Method::POST, &url).multipart(form).send().await.expect("doctor")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["revocationWarning"].as_str().is_some_and(|w| w.contains("could not be fetched")), "{body}");
}
