//! Several instances on one database, as behind a load balancer: each with its own listeners
//! and data directory, sharing the database (the PostgreSQL run's database, or the SQLite
//! file on the SQLite run), the secret key file and the device listener's certificate. What
//! one instance changes, the others act on at once.

use std::time::{Duration as StdDuration, Instant};

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::support::*;

fn token_of(body: &Value) -> String {
    body["accessToken"].as_str().expect("accessToken").to_string()
}

#[tokio::test]
async fn a_ca_disabled_through_one_instance_is_refused_by_another_on_the_next_handshake() {
    let a = TestApp::spawn().await;
    let b = a.spawn_sibling().await;
    let c = a.spawn_sibling().await;
    let root = Ca::root("Shared Root");
    a.trust(&root, "ENABLED", true).await;
    let device = root.device("shared-1");
    for instance in [&b, &c] {
        let (status, body) = instance.device_token(&device, None).await;
        assert_eq!(status, 200, "{body}");
    }
    a.set_certificate(&root, json!({"status": "DISABLED"})).await;
    for instance in [&b, &c] {
        let (status, body) = instance.device_token(&device, None).await;
        assert_eq!(status, 401, "{body}");
    }
    b.set_certificate(&root, json!({"status": "ENABLED"})).await;
    let (status, body) = a.device_token(&device, None).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_token_issued_by_one_instance_works_on_another_and_logout_through_it_revokes_it_for_all() {
    let a = TestApp::spawn().await;
    let b = a.spawn_sibling().await;
    let root = Ca::root("Token Root");
    a.trust(&root, "ENABLED", true).await;
    let device = root.device("token-1");
    let (status, body) = a.device_token(&device, None).await;
    assert_eq!(status, 200, "{body}");
    let token = token_of(&body);
    // The same device on B before half-life: B re-delivers A's token (one shared record).
    let (_, again) = b.device_token(&device, None).await;
    assert_eq!(again["accessToken"].as_str(), Some(token.as_str()), "{again}");

    let me = |app: &TestApp| app.client.get(app.url("/user/currentUser")).bearer_auth(&token).send();
    let (status, body) = json(me(&b).await.expect("me on B")).await;
    assert_eq!((status, body["userName"].as_str()), (200, Some("device_token-1")), "{body}");
    let res = b.client.post(b.url("/user/logout")).bearer_auth(&token).send().await.expect("logout on B");
    assert_eq!(res.status(), 204);
    for app in [&a, &b] {
        assert_error(me(app).await.expect("me"), 401, "security/Unauthorized", "Invalid token: it was revoked.").await;
    }
}

#[tokio::test]
async fn a_console_session_made_on_one_instance_works_on_another_with_the_same_xsrf_rule() {
    let a = TestApp::spawn().await;
    let b = a.spawn_sibling().await;
    let (status, pair, _) = console_login(&a.client, &a.base, ADMIN, PASSWORD).await;
    assert_eq!(status, 200);
    let (cookie, xsrf) = pair.expect("session cookies");
    let me = b.client.get(b.url("/user/currentUser")).header("cookie", &cookie).send().await.expect("me");
    let (status, body) = json(me).await;
    assert_eq!((status, body["userName"].as_str()), (200, Some(ADMIN)), "{body}");

    assert_session_changes_need_xsrf(&b, &cookie, &xsrf, "Session CA").await;
    // Logged out on B: the session is gone on A too.
    assert_eq!(logout_session(&b, &cookie, &xsrf).await, 204);
    let me = a.client.get(a.url("/user/currentUser")).header("cookie", &cookie).send().await.expect("me");
    assert_eq!(me.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_bulk_file_sent_to_two_instances_at_once_registers_each_device_once() {
    let a = TestApp::spawn_configured(Some(PASSWORD), |c| c.max_body_bytes = 8 * 1024 * 1024).await;
    let b = a.spawn_sibling().await;
    let mut csv = String::from("ID;AUTH_TYPE;CREDENTIALS;TYPE;NAME\n");
    for i in 0..10_000 {
        csv.push_str(&format!("twice-{i:05};CERTIFICATES;;c8y_Device;Twice {i}\n"));
    }
    let send = |app: &TestApp| {
        let form = Form::new().part(
            "file",
            Part::bytes(csv.clone().into_bytes()).file_name("bulk.csv").mime_str("text/csv").expect("mime"),
        );
        app.admin(Method::POST, &app.url("/devicecontrol/bulkNewDeviceRequests")).multipart(form).send()
    };
    let (ra, rb) = tokio::join!(send(&a), send(&b));
    let (sa, ba) = json(ra.expect("A")).await;
    let (sb, bb) = json(rb.expect("B")).await;
    assert_eq!((sa, sb), (201, 201), "{ba} {bb}");
    let n = |v: &Value, k: &str| v[k].as_u64().unwrap_or(u64::MAX);
    for body in [&ba, &bb] {
        assert_eq!(n(body, "numberOfAll"), 10_000);
        assert_eq!(n(body, "numberOfFailed"), 0, "{}", body["failedCreationList"]);
        assert_eq!(n(body, "numberOfSuccessful"), 10_000);
    }
    assert_eq!(n(&ba, "numberOfCreated") + n(&bb, "numberOfCreated"), 10_000, "each device created once");

    let db = a.raw_db().await;
    let (users, objects, ids): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM device_users), (SELECT COUNT(*) FROM managed_objects), \
         (SELECT COUNT(*) FROM external_ids)",
    )
    .fetch_one(&db)
    .await
    .expect("counts");
    db.close().await;
    assert_eq!((users, objects, ids), (10_000, 10_000, 10_000));
}

#[tokio::test]
async fn ready_says_the_database_answers_and_health_that_the_process_does() {
    let a = TestApp::spawn().await;
    let (status, body) = json(a.client.get(a.url("/ready")).send().await.expect("ready")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "UP");
    assert_eq!(body["database"], if a.on_postgres() { "postgresql" } else { "sqlite" });
    let (status, body) = json(a.client.get(a.url("/health")).send().await.expect("health")).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("UP")));
}

/// One `anchorage` process on a shared database.
struct Process {
    child: std::process::Child,
    base: String,
    device: std::net::SocketAddr,
}

impl Process {
    /// Starts the binary with its own data directory `data` on `database`; `shared` gives it
    /// the secret key and device certificate of the first instance's data directory.
    async fn start(data: &std::path::Path, database: &str, shared: Option<&std::path::Path>) -> Self {
        let (port, device_port) = (free_port(), free_port());
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_anchorage"));
        cmd.args(["--listen", &format!("127.0.0.1:{port}"), "--device-listen", &format!("127.0.0.1:{device_port}")])
            .args(["--tenant", TENANT])
            .arg("--data-dir")
            .arg(data)
            .env("ANCHORAGE_DATABASE_URL", database)
            .env("ANCHORAGE_ADMIN_PASSWORD", PASSWORD)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if let Some(first) = shared {
            cmd.arg("--secret-key-file").arg(first.join("secret.key"));
            cmd.arg("--tls-cert").arg(first.join("tls/server.pem"));
            cmd.arg("--tls-key").arg(first.join("tls/server-key.pem"));
        }
        let child = cmd.spawn().expect("anchorage starts");
        let base = format!("http://127.0.0.1:{port}");
        wait_up(&reqwest::Client::new(), &base).await;
        Self { child, base, device: format!("127.0.0.1:{device_port}").parse().expect("addr") }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two processes on one database; one is killed (SIGKILL) in the middle of a bulk import and
/// of token requests. Nothing it committed is lost, nothing is half-written (each device is
/// whole: user, managed object, external id, or absent), and the other keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_killed_mid_import_and_mid_token_loses_nothing_committed_and_the_other_serves() {
    let database = PgDatabase::create_if_configured().await;
    let dirs = (tempfile::tempdir().expect("tmp"), tempfile::tempdir().expect("tmp"));
    let url = match &database {
        Some(d) => d.url.clone(),
        None => format!("sqlite://{}", dirs.0.path().join("anchorage.db").display()),
    };
    let mut a = Process::start(dirs.0.path(), &url, None).await;
    let b = Process::start(dirs.1.path(), &url, Some(dirs.0.path())).await;
    let client = reqwest::Client::new();
    let admin = |m: Method, url: String| client.request(m, url).basic_auth(format!("{TENANT}/{ADMIN}"), Some(PASSWORD));

    // Devices asking A for tokens, in a loop, while A imports.
    let root = Ca::root("Kill Root");
    let create =
        json!({"name": root.name, "certInPemFormat": root.pem, "status": "ENABLED", "autoRegistrationEnabled": true});
    let res = admin(Method::POST, format!("{}/tenant/tenants/{TENANT}/trusted-certificates", b.base))
        .json(&create)
        .send()
        .await
        .expect("trust");
    assert_eq!(res.status(), 201);
    let server_ca = std::fs::read_to_string(dirs.0.path().join("tls/ca.pem")).expect("CA");
    let token_url = |p: &Process| format!("https://localhost:{}/devicecontrol/deviceAccessToken", p.device.port());
    let tokens = tokio::spawn({
        let (url, ca) = (token_url(&a), server_ca.clone());
        let devices: Vec<Device> = (0..200).map(|i| root.device(&format!("kill-token-{i:03}"))).collect();
        async move {
            let mut ok = 0;
            for d in &devices {
                if d.client(&ca).post(&url).send().await.is_ok_and(|r| r.status() == 200) {
                    ok += 1;
                }
            }
            ok
        }
    });

    let mut csv = String::from("ID;AUTH_TYPE;CREDENTIALS;TYPE;NAME;external-c8y_Imei\n");
    for i in 0..100_000 {
        csv.push_str(&format!("kill-{i:06};CERTIFICATES;;c8y_Device;Kill {i};imei-{i:06}\n"));
    }
    let upload = tokio::spawn({
        let req = admin(Method::POST, format!("{}/devicecontrol/bulkNewDeviceRequests", a.base)).multipart(
            Form::new()
                .part("file", Part::bytes(csv.into_bytes()).file_name("kill.csv").mime_str("text/csv").expect("mime")),
        );
        async move { req.send().await }
    });
    let db = {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&url).await.expect("db")
    };
    let deadline = Instant::now() + StdDuration::from_secs(120);
    loop {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM device_users WHERE user_name LIKE 'device_kill-0%'")
            .fetch_one(&db)
            .await
            .unwrap_or(0);
        if n > 0 {
            assert!(n < 100_000, "the import finished before the kill ({n} rows)");
            break;
        }
        assert!(Instant::now() < deadline, "no row was committed in time");
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    a.child.kill().expect("SIGKILL");
    let _ = a.child.wait();
    let _ = upload.await;
    let _ = tokens.await;

    // B serves: ready, a token, and an import of its own.
    let ready = client.get(format!("{}/ready", b.base)).send().await.expect("ready");
    assert_eq!(ready.status(), 200);
    let res = root.device("after-kill").client(&server_ca).post(token_url(&b)).send().await.expect("token on B");
    assert_eq!(res.status(), 200);
    let small = "ID;AUTH_TYPE;CREDENTIALS;TYPE;NAME\nafter-1;CERTIFICATES;;c8y_Device;After\n";
    let res = admin(Method::POST, format!("{}/devicecontrol/bulkNewDeviceRequests", b.base))
        .multipart(Form::new().part(
            "file",
            Part::bytes(small.as_bytes().to_vec()).file_name("s.csv").mime_str("text/csv").expect("mime"),
        ))
        .send()
        .await
        .expect("bulk on B");
    assert_eq!(res.status(), 201);

    let broken: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM device_users u WHERE u.managed_object_id IS NULL \
         OR NOT EXISTS (SELECT 1 FROM managed_objects m WHERE m.id = u.managed_object_id) \
         OR NOT EXISTS (SELECT 1 FROM external_ids x WHERE x.managed_object_id = u.managed_object_id)",
    )
    .fetch_one(&db)
    .await
    .expect("broken");
    let orphans: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM managed_objects m WHERE NOT EXISTS \
         (SELECT 1 FROM device_users u WHERE u.managed_object_id = m.id)",
    )
    .fetch_one(&db)
    .await
    .expect("orphans");
    let tokens_without_user: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM device_tokens t WHERE NOT EXISTS \
         (SELECT 1 FROM device_users u WHERE u.tenant_id = t.tenant_id AND u.user_name = t.user_name)",
    )
    .fetch_one(&db)
    .await
    .expect("tokens");
    db.close().await;
    assert_eq!((broken, orphans, tokens_without_user), (0, 0, 0), "every row is whole");
    drop(b);
}

/// A stop (what SIGTERM does) while a bulk import is under way: new connections are refused at
/// once, the import in flight finishes and answers, and every row it reported is committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stopping_lets_the_request_in_flight_finish_and_refuses_new_connections() {
    let mut app = TestApp::spawn_configured(Some(PASSWORD), |c| c.max_body_bytes = 8 * 1024 * 1024).await;
    let mut csv = String::from("ID;AUTH_TYPE;CREDENTIALS;TYPE;NAME\n");
    for i in 0..50_000 {
        csv.push_str(&format!("drain-{i:05};CERTIFICATES;;c8y_Device;Drain {i}\n"));
    }
    let form = Form::new()
        .part("file", Part::bytes(csv.into_bytes()).file_name("drain.csv").mime_str("text/csv").expect("mime"));
    let upload =
        tokio::spawn(app.admin(Method::POST, &app.url("/devicecontrol/bulkNewDeviceRequests")).multipart(form).send());
    let db = app.raw_db().await;
    let deadline = Instant::now() + StdDuration::from_secs(60);
    loop {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM device_users").fetch_one(&db).await.unwrap_or(0);
        if n > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "no row was committed in time");
        tokio::time::sleep(StdDuration::from_millis(2)).await;
    }
    let base = app.url("");
    app.stop_server().await;
    let (status, body) = json(upload.await.expect("task").expect("the import in flight is answered")).await;
    assert_eq!((status, body["numberOfCreated"].as_u64()), (201, Some(50_000)), "{body}");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM device_users").fetch_one(&db).await.expect("count");
    assert_eq!(n, 50_000);
    db.close().await;
    assert!(
        reqwest::Client::new().get(format!("{base}/health")).send().await.is_err(),
        "a new connection after the stop"
    );
}

/// Downloads of the tenant's CRL spread over two instances get the one CRL (same bytes, same
/// number): an instance serves the one another built instead of building its own, whose new
/// number would make every other instance's out of date.
#[tokio::test]
async fn instances_serve_the_one_signed_crl_until_the_list_changes() {
    let a = TestApp::spawn().await;
    let b = a.spawn_sibling().await;
    let put = |app: &TestApp, serial: &str| {
        let body = json!({"crls": [{"serialNumberInHex": serial, "revocationDate": "2023-01-11T16:12:36.288Z"}]});
        app.admin(Method::PUT, &app.url("/tenant/trusted-certificates/settings/crl")).json(&body).send()
    };
    let crl = |app: &TestApp| {
        app.admin(Method::GET, &app.url("/tenant/trusted-certificates/settings/crl"))
            .header("Accept", "application/pkix-crl")
            .send()
    };
    assert_eq!(put(&a, "0A0B").await.expect("put").status(), 204);
    let first = crl(&a).await.expect("crl").bytes().await.expect("der");
    for app in [&b, &a, &b] {
        assert_eq!(crl(app).await.expect("crl").bytes().await.expect("der"), first, "the same CRL from every instance");
    }
    // A change through B: both serve a new one, again the same.
    assert_eq!(put(&b, "0C0D").await.expect("put").status(), 204);
    let second = crl(&a).await.expect("crl").bytes().await.expect("der");
    assert_ne!(second, first);
    assert_eq!(crl(&b).await.expect("crl").bytes().await.expect("der"), second);
}
