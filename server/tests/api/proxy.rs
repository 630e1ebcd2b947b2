//! Proxy mode beyond the shared suites: the login checked against the platform, failures in
//! words, recovery without a restart, and no secret left behind.

use std::process::{Command, Stdio};
use std::sync::Arc;

use anchorage_server::clock::SystemClock;
use reqwest::Method;
use serde_json::json;

use crate::support::*;

async fn login(app: &TestApp, password: &str) -> (u16, Option<(String, String)>) {
    let (status, pair, _) = console_login(&app.client, &app.base, ADMIN, password).await;
    (status, pair)
}

#[tokio::test]
async fn the_proxy_says_what_it_is_and_keeps_devices_away() {
    let app = TestApp::spawn_proxied().await;
    let (status, mode) = json(app.client.get(app.url("/anchorage/mode")).send().await.expect("mode")).await;
    assert_eq!((status, mode["mode"].as_str()), (200, Some("proxy")));
    assert_eq!(mode["upstream"], app.upstream_url());
    let res = app.client.post(app.url("/devicecontrol/deviceAccessToken")).send().await.expect("token");
    assert_error(
        res,
        404,
        "devicecontrol/Not Found",
        "anchorage runs in proxy mode: devices get their tokens from the platform directly",
    )
    .await;
    // Not anchorage's own OpenAPI document (whose /anchorage paths a proxy does not serve), and
    // not the console's page either.
    let res = app.client.get(app.url("/openapi.json")).send().await.expect("document");
    assert_error(res, 404, "openapi/Not Found", "anchorage runs in proxy mode: the API here is the platform's").await;
}

#[tokio::test]
async fn console_logins_are_checked_by_the_platform_and_sessions_forward_them() {
    let app = TestApp::spawn_proxied().await;
    assert_eq!(login(&app, "not-the-password").await.0, 401);
    let (status, pair) = login(&app, PASSWORD).await;
    assert_eq!(status, 200);
    let (cookie, xsrf) = pair.expect("cookies");

    let me = app.client.get(app.url("/user/currentUser")).header("cookie", &cookie).send().await.expect("me");
    assert_eq!(json(me).await.1["userName"], ADMIN);
    assert_session_changes_need_xsrf(&app, &cookie, &xsrf, "Proxy CA").await;
    assert_eq!(logout_session(&app, &cookie, &xsrf).await, 204);
    assert_eq!(app.client.get(app.certs_url()).header("cookie", &cookie).send().await.expect("get").status(), 401);
}

#[tokio::test]
async fn an_unreachable_platform_is_a_502_in_words_and_recovery_needs_no_restart() {
    let mut app = TestApp::spawn_proxied().await;
    assert_eq!(app.admin(Method::GET, &app.certs_url()).send().await.expect("get").status(), 200);
    app.stop_server().await;
    let res = app.admin(Method::GET, &app.certs_url()).send().await.expect("get");
    let body = assert_error(
        res,
        502,
        "general/Bad Gateway",
        &format!("The platform at {} cannot be reached", app.upstream_url()),
    )
    .await;
    assert!(!body["message"].as_str().unwrap_or_default().contains(PASSWORD));
    app.restart(Some(PASSWORD)).await;
    assert_eq!(app.admin(Method::GET, &app.certs_url()).send().await.expect("get").status(), 200);
}

#[tokio::test]
async fn a_silent_platform_is_a_504_and_an_untrusted_one_a_tls_error() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let upstream = format!("https://127.0.0.1:{}", silent.local_addr().expect("addr").port());
    let assets = tempfile::tempdir().expect("tmp");
    let mut cfg = proxy_config(&upstream, None, assets.path());
    cfg.upstream_timeout_seconds = 1;
    let b = anchorage_server::start(cfg, Arc::new(SystemClock)).await.expect("proxy");
    let client = reqwest::Client::new();
    let res = client
        .get(format!("http://{}/tenant/currentTenant", b.addr))
        .basic_auth("x", Some("y"))
        .send()
        .await
        .expect("get");
    assert_error(
        res,
        504,
        "general/Gateway Timeout",
        &format!("The platform at {upstream} did not answer within 1 s."),
    )
    .await;
    drop(silent);

    // A real TLS server whose CA the proxy was not told about.
    let app = TestApp::spawn().await;
    let b = anchorage_server::start(proxy_config(&app.upstream_url(), None, assets.path()), Arc::new(SystemClock))
        .await
        .expect("proxy");
    let res = client
        .get(format!("http://{}/tenant/currentTenant", b.addr))
        .basic_auth("x", Some("y"))
        .send()
        .await
        .expect("get");
    assert_error(
        res,
        502,
        "general/Bad Gateway",
        &format!("The TLS connection to the platform at {} failed", app.upstream_url()),
    )
    .await;
}

/// A and B as real processes: a full console run through B leaves no password or token in B's
/// output or data directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_keeps_no_secret_on_disk_or_in_its_logs() {
    let dir = tempfile::tempdir().expect("tmp");
    let (a_port, a_device, b_port) = (free_port(), free_port(), free_port());
    let spawn = |args: Vec<String>, log: &str| {
        let log = std::fs::File::create(dir.path().join(log)).expect("log");
        Command::new(env!("CARGO_BIN_EXE_anchorage"))
            .args(args)
            .env("ANCHORAGE_ADMIN_PASSWORD", PASSWORD)
            .env("RUST_LOG", "debug")
            .stdout(log.try_clone().expect("clone"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("starts")
    };
    let a_data = dir.path().join("a");
    let b_data = dir.path().join("b");
    let mut a = spawn(
        vec![
            "--listen".into(),
            format!("127.0.0.1:{a_port}"),
            "--device-listen".into(),
            format!("127.0.0.1:{a_device}"),
            "--tenant".into(),
            TENANT.into(),
            "--data-dir".into(),
            a_data.display().to_string(),
        ],
        "a.log",
    );
    let client = reqwest::Client::new();
    wait_up(&client, &format!("http://127.0.0.1:{a_port}")).await;
    let mut b = spawn(
        vec![
            "--listen".into(),
            format!("127.0.0.1:{b_port}"),
            "--data-dir".into(),
            b_data.display().to_string(),
            "--upstream".into(),
            format!("https://localhost:{a_device}"),
            "--upstream-ca".into(),
            a_data.join("tls/ca.pem").display().to_string(),
        ],
        "b.log",
    );
    let base = format!("http://127.0.0.1:{b_port}");
    wait_up(&client, &base).await;

    let mut secrets = vec![PASSWORD.to_string()];
    let (status, pair, set) = console_login(&client, &base, ADMIN, PASSWORD).await;
    assert_eq!(status, 200);
    secrets.extend(set.iter().filter_map(|c| c.split(';').next()?.split_once('=').map(|(_, v)| v.to_string())));
    let (cookie, xsrf) = pair.expect("xsrf");
    let with_session = |m: Method, path: &str| {
        client.request(m, format!("{base}{path}")).header("cookie", &cookie).header("X-XSRF-TOKEN", &xsrf)
    };
    let res = with_session(Method::POST, &format!("/tenant/tenants/{TENANT}/trusted-certificates"))
        .json(&json!({"name": "b", "certInPemFormat": ca_pem("B CA"), "status": "ENABLED"}))
        .send()
        .await
        .expect("create");
    assert_eq!(res.status(), 201);
    let device_password = "device-password-through-b";
    secrets.push(device_password.into());
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(format!("ID;CREDENTIALS\nb-dev;{device_password}\n").into_bytes())
            .file_name("f.csv"),
    );
    assert_eq!(
        with_session(Method::POST, "/devicecontrol/bulkNewDeviceRequests")
            .multipart(form)
            .send()
            .await
            .expect("bulk")
            .status(),
        201
    );
    assert_eq!(with_session(Method::POST, "/user/logout").send().await.expect("logout").status(), 204);
    // And a Basic call straight through.
    assert_eq!(
        client
            .get(format!("{base}/tenant/options"))
            .basic_auth(format!("{TENANT}/{ADMIN}"), Some(PASSWORD))
            .send()
            .await
            .expect("basic")
            .status(),
        200
    );

    let _ = b.kill();
    let _ = b.wait();
    let _ = a.kill();
    let _ = a.wait();
    let b_log = std::fs::read_to_string(dir.path().join("b.log")).expect("log");
    assert!(b_log.contains("proxy mode"), "{b_log}");
    for secret in &secrets {
        assert!(!b_log.contains(secret.as_str()), "B's log holds a secret ({} characters)", secret.len());
    }
    let mut stored = Vec::new();
    if b_data.exists() {
        for entry in walk(&b_data) {
            stored.push(std::fs::read(&entry).unwrap_or_default());
        }
    }
    for content in &stored {
        let text = String::from_utf8_lossy(content);
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "B's data directory holds a secret");
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}
