//! The `anchorage` binary itself: its logs never hold a secret, and `anchorage user …`
//! manages users on the same data directory.

use std::process::{Command, Stdio};

use reqwest::Method;
use serde_json::json;

use crate::support::*;

const ADMIN_PASSWORD: &str = "log-test-admin-password";

/// Runs a scenario that handles every kind of secret against the real binary with debug
/// logging, then searches everything it printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_hold_no_password_token_key_or_session() {
    let dir = tempfile::tempdir().expect("tmp");
    let (port, device_port) = (free_port(), free_port());
    let log_path = dir.path().join("anchorage.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_anchorage"))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--device-listen",
            &format!("127.0.0.1:{device_port}"),
            "--tenant",
            TENANT,
        ])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("ANCHORAGE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("RUST_LOG", "debug")
        .stdout(log.try_clone().expect("clone"))
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .expect("anchorage starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_up(&client, &base).await;
    let admin = |m: Method, path: &str| {
        client.request(m, format!("{base}{path}")).basic_auth(format!("{TENANT}/{ADMIN}"), Some(ADMIN_PASSWORD))
    };
    let mut secrets = vec![ADMIN_PASSWORD.to_string()];

    // Basic, right and wrong; a session login; a bearer session.
    assert_eq!(admin(Method::GET, "/user/currentUser").send().await.expect("me").status(), 200);
    let wrong = "a-wrong-password-to-hide";
    secrets.push(wrong.into());
    let res = client.get(format!("{base}/user/currentUser")).basic_auth(ADMIN, Some(wrong)).send().await.expect("me");
    assert_eq!(res.status(), 401);
    let res = client
        .post(format!("{base}/tenant/oauth"))
        .form(&[("grant_type", "PASSWORD"), ("username", ADMIN), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .expect("login");
    for c in res.headers().get_all("set-cookie") {
        let value = c
            .to_str()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .split_once('=')
            .map(|(_, v)| v.to_string())
            .unwrap_or_default();
        assert!(!value.is_empty());
        secrets.push(value);
    }
    let res = client
        .post(format!("{base}/tenant/oauth/token"))
        .form(&[("grant_type", "PASSWORD"), ("username", ADMIN), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .expect("token");
    secrets.push(json(res).await.1["access_token"].as_str().expect("token").to_string());

    // A user with a password; a BASIC device in a bulk file.
    let user_password = "created-user-password";
    secrets.push(user_password.into());
    let res = admin(Method::POST, &format!("/user/{TENANT}/users"))
        .json(&json!({"userName": "u1", "password": user_password}))
        .send()
        .await
        .expect("user");
    assert_eq!(res.status(), 201);
    let device_password = "bulk-device-password-to-hide";
    secrets.push(device_password.into());
    let csv = format!("ID;AUTH_TYPE;CREDENTIALS\nbasic-1;BASIC;{device_password}\n");
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("f.csv"));
    assert_eq!(
        admin(Method::POST, "/devicecontrol/bulkNewDeviceRequests")
            .multipart(form)
            .send()
            .await
            .expect("bulk")
            .status(),
        201
    );

    // A device token over mutual TLS.
    let root = Ca::root("Log Root");
    let res = admin(Method::POST, &format!("/tenant/tenants/{TENANT}/trusted-certificates"))
        .json(&json!({"name": "r", "certInPemFormat": root.pem, "status": "ENABLED", "autoRegistrationEnabled": true}))
        .send()
        .await
        .expect("ca");
    assert_eq!(res.status(), 201);
    let device = root.device("log-device");
    let server_ca = std::fs::read_to_string(dir.path().join("data/tls/ca.pem")).expect("local ca");
    let res = device
        .client(&server_ca)
        .post(format!("https://127.0.0.1:{device_port}/devicecontrol/deviceAccessToken"))
        .send()
        .await
        .expect("token");
    let (status, body) = json(res).await;
    assert_eq!(status, 200, "{body}");
    secrets.push(body["accessToken"].as_str().expect("jwt").to_string());

    let _ = child.kill();
    let _ = child.wait();
    let output = std::fs::read_to_string(&log_path).expect("log");
    assert!(
        output.contains("device token issued") && output.contains("login failed"),
        "the scenario was logged:\n{output}"
    );
    for secret in &secrets {
        assert!(!output.contains(secret.as_str()), "the log contains a secret ({} characters)", secret.len());
    }
    for marker in ["PRIVATE KEY", "$argon2"] {
        assert!(!output.contains(marker), "the log contains {marker}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_command_manages_users_on_the_data_directory() {
    let dir = tempfile::tempdir().expect("tmp");
    let run = |args: &[&str], password: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_anchorage"));
        cmd.arg("--data-dir")
            .arg(dir.path())
            .args(["--tenant", TENANT])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null());
        if let Some(p) = password {
            cmd.env("ANCHORAGE_USER_PASSWORD", p);
        }
        cmd.output().expect("runs")
    };
    let out = run(&["user", "add", "ops", "--role", "admin"], Some("ops-password-1"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["user", "add", "weak", "--role", "reader"], Some("short"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8 characters"));

    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_anchorage"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--device-listen", "127.0.0.1:0", "--tenant", TENANT])
        .arg("--data-dir")
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_up(&client, &base).await;
    let me = |pw: &'static str| {
        client.get(format!("{base}/user/currentUser")).basic_auth(format!("{TENANT}/ops"), Some(pw)).send()
    };
    assert_eq!(me("ops-password-1").await.expect("me").status(), 200);

    let out = run(&["user", "passwd", "ops"], Some("ops-password-2"));
    assert!(out.status.success());
    let out = run(&["user", "disable", "nobody"], None);
    assert!(!out.status.success());
    let list = String::from_utf8_lossy(&run(&["user", "list"], None).stdout).to_string();
    assert!(list.contains("ops\tadmin\tenabled"), "{list}");
    // The running server sees the change at once: the old password no longer works.
    assert_eq!(me("ops-password-1").await.expect("me").status(), 401);
    assert_eq!(me("ops-password-2").await.expect("me").status(), 200);
    let _ = child.kill();
    let _ = child.wait();
}
