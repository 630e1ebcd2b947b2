//! What a code review and an outside attack on the running server found (the hardening issue):
//! each test here failed before its fix.

use std::time::Duration;

use reqwest::Method;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::*;

/// Whether the server closed `stream` (end of file or a reset) within `within`: waits for the
/// event, never sleeps.
async fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // A 408 or similar answer before the close: keep reading until the end.
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn an_idle_flood_beyond_the_connection_cap_keeps_both_listeners_serving() {
    const CAP: usize = 32;
    let app = TestApp::spawn_configured(Some(PASSWORD), |c| c.max_connections = CAP).await;
    let root = Ca::root("Flood Root");
    app.trust(&root, "ENABLED", true).await;
    let device = root.device("flood-device");
    let (api, devices) = app.addresses();

    // Four times the cap on each listener: half-sent request heads on the API, a TLS
    // handshake never started on the device listener.
    let mut idle = Vec::new();
    for i in 0..4 * CAP {
        let mut s = TcpStream::connect(if i % 2 == 0 { api } else { devices }).await.expect("connect");
        if i % 2 == 0 {
            s.write_all(b"GET /tenant/currentTenant HTTP/1.1\r\nHost: x\r\n").await.expect("write");
        }
        idle.push(s);
    }

    // Legitimate clients are served at once: a new connection evicts the longest idle one.
    let res = app.admin(Method::GET, &app.url("/tenant/currentTenant")).send().await.expect("api request");
    assert_eq!(res.status(), 200);
    let (status, body) = app.device_token(&device, None).await;
    assert_eq!(status, 200, "{body}");

    // No more than the cap stayed open on each listener: the rest were closed by the server.
    let mut closed = 0;
    for s in &mut idle {
        if closed_by_server(s, Duration::from_millis(200)).await {
            closed += 1;
        }
    }
    assert!(closed >= 4 * CAP - 2 * CAP, "only {closed} of {} idle connections were closed", 4 * CAP);
}

#[tokio::test]
async fn half_sent_heads_and_idle_connections_are_closed_by_the_timeouts() {
    let app = TestApp::spawn_configured(Some(PASSWORD), |c| {
        c.header_read_timeout_seconds = 1;
        c.idle_timeout_seconds = 2;
        c.body_read_timeout_seconds = 1;
    })
    .await;
    let (api, devices) = app.addresses();

    // A request head that never ends.
    let mut slow = TcpStream::connect(api).await.expect("connect");
    slow.write_all(b"GET /tenant/currentTenant HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.expect("write");
    // A TLS handshake that never starts.
    let mut silent = TcpStream::connect(devices).await.expect("connect");
    // A keep-alive connection after its request.
    let mut kept = TcpStream::connect(api).await.expect("connect");
    kept.write_all(b"GET /tenant/currentTenant HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
    let mut head = [0u8; 12];
    kept.read_exact(&mut head).await.expect("answer");
    assert_eq!(&head, b"HTTP/1.1 401");

    // A body announced and never sent: answered once the body-read time is up.
    let mut no_body = TcpStream::connect(api).await.expect("connect");
    no_body
        .write_all(b"POST /tenant/oauth HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n")
        .await
        .expect("write");
    let mut answer = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(10), no_body.read_exact(&mut answer))
        .await
        .expect("answered within the body-read time")
        .expect("read");
    assert_eq!(&answer, b"HTTP/1.1 400");

    for (what, s) in [("half-sent head", &mut slow), ("silent TLS client", &mut silent), ("idle keep-alive", &mut kept)]
    {
        assert!(closed_by_server(s, Duration::from_secs(10)).await, "{what} was not closed");
    }
}

#[tokio::test]
async fn ten_thousand_refused_token_requests_grow_the_audit_log_by_a_bounded_number_of_rows() {
    let app = TestApp::spawn().await;
    let trusted = Ca::root("Known Root");
    app.trust(&trusted, "ENABLED", true).await;
    let stranger = Ca::root("Unknown Root").device("stranger");
    let before = app.audit_count().await;

    // One TLS connection, many refused requests (a certificate of an unknown CA).
    let client = stranger.keep_alive_client(&app.local_ca_pem());
    let url = app.device_url("/devicecontrol/deviceAccessToken");
    let (mut refused, mut throttled) = (0, 0);
    for _ in 0..10_000 {
        let res = client.post(&url).send().await.expect("request");
        match res.status().as_u16() {
            401 => refused += 1,
            429 => {
                assert!(res.headers().get("retry-after").is_some(), "429 without Retry-After");
                throttled += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(refused, 20, "the address's budget of refusals");
    assert_eq!(throttled, 10_000 - 20);
    let during = app.audit_count().await - before;
    assert!(during <= 2, "{during} audit rows for 10,000 refusals (expected 1 refusal + 1 throttled)");

    // A good device behind the same address still gets its token.
    let (status, body) = app.device_token(&trusted.device("good-device"), None).await;
    assert_eq!(status, 200, "{body}");

    // When the window closes, the repeats are one record each with their count.
    app.clock.advance(time::Duration::minutes(11));
    app.maintain_now().await;
    let (_, page) = json(
        app.admin(Method::GET, &app.url("/audit/auditRecords?type=DeviceAccessToken&pageSize=100"))
            .send()
            .await
            .expect("list"),
    )
    .await;
    let records = page["auditRecords"].as_array().cloned().unwrap_or_default();
    let counts: Vec<u64> = records.iter().filter_map(|r| r["anchorage_Details"]["count"].as_u64()).collect();
    assert_eq!(counts.iter().sum::<u64>(), 10_000 - 2, "{records:?}");
    // 1 refusal, 1 throttled, their 2 closing records, the good device's token and its
    // provisioned certificate.
    assert!(app.audit_count().await - before <= 6);
}

#[tokio::test]
async fn a_megabyte_user_name_stores_a_bounded_audit_record() {
    let app = TestApp::spawn().await;
    let name = "x".repeat(1024 * 1024 - 100);
    let res = app
        .client
        .post(app.url(&format!("/tenant/oauth?tenant_id={TENANT}")))
        .form(&[("grant_type", "PASSWORD"), ("username", name.as_str()), ("password", "wrong")])
        .send()
        .await
        .expect("login");
    assert!(matches!(res.status().as_u16(), 401 | 413), "{}", res.status());
    let db = app.raw_db().await;
    let largest: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(LENGTH(text) + LENGTH(COALESCE(user, '')) + LENGTH(COALESCE(details, ''))) FROM audit_records",
    )
    .fetch_one(&db)
    .await
    .expect("query");
    assert!(largest.unwrap_or(0) < 4096, "largest audit record: {largest:?} bytes");
}

#[tokio::test]
async fn audit_records_older_than_the_retention_are_deleted() {
    let app = TestApp::spawn().await;
    let res = app
        .admin(Method::POST, &app.url("/tenant/options"))
        .json(&serde_json::json!({"category": "configuration", "key": "audit.retention.days", "value": "0"}))
        .send()
        .await
        .expect("option");
    assert_eq!(res.status(), 422);
    let res = app
        .admin(Method::POST, &app.url("/tenant/options"))
        .json(&serde_json::json!({"category": "configuration", "key": "audit.retention.days", "value": "30"}))
        .send()
        .await
        .expect("option");
    assert!(res.status().is_success(), "{}", res.status());
    let old = app.audit_count().await;
    assert!(old > 0, "setting the option is audited");
    app.clock.advance(time::Duration::days(29));
    app.maintain_now().await;
    assert_eq!(app.audit_count().await, old, "nothing is older than 30 days yet");
    // A new record, then past the retention of the first ones only.
    let _ =
        app.client.get(app.url("/tenant/currentTenant")).basic_auth(format!("{TENANT}/nobody"), Some("x")).send().await;
    app.clock.advance(time::Duration::days(2));
    app.maintain_now().await;
    assert_eq!(app.audit_count().await, 1, "only the record from day 29 is left");
}

/// Logs in with Basic from `address` (as a trusted proxy reports it); the status.
async fn basic_from(app: &TestApp, address: &str, user: &str, password: &str) -> reqwest::Response {
    app.client
        .get(app.url("/tenant/currentTenant"))
        .basic_auth(format!("{TENANT}/{user}"), Some(password))
        .header("X-Forwarded-For", address)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn an_attacker_cannot_lock_the_admin_out() {
    let app = TestApp::spawn_configured(Some(PASSWORD), |c| {
        c.trusted_proxies = vec![anchorage_server::config::IpNet::parse("127.0.0.1").expect("net")];
    })
    .await;
    // Wrong passwords for admin from several addresses, far beyond every budget.
    for a in 0..3 {
        let attacker = format!("203.0.113.{a}");
        let mut throttled = None;
        for _ in 0..30 {
            let res = basic_from(&app, &attacker, ADMIN, "wrong-password").await;
            if res.status() == 429 {
                throttled = res.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
                break;
            }
            assert_eq!(res.status(), 401);
        }
        let retry_after = throttled.expect("the attacker's address is throttled");
        assert!(retry_after.parse::<u64>().is_ok_and(|s| s >= 1), "Retry-After: {retry_after}");
        // Even with the right password, that address waits.
        assert_eq!(basic_from(&app, &attacker, ADMIN, PASSWORD).await.status(), 429);
    }
    // The admin, from an address that has not failed, gets in (slowed at most a little).
    assert_eq!(basic_from(&app, "192.0.2.7", ADMIN, PASSWORD).await.status(), 200);
    // Behind a shared proxy (one address for everybody): one user's typos do not lock out others.
    let res = app
        .admin(Method::POST, &app.url("/user/t4711/users"))
        .json(&serde_json::json!({"userName": "alice", "password": "alice-password-1", "role": "reader"}))
        .send()
        .await
        .expect("create user");
    assert!(res.status().is_success(), "{}", res.status());
    for _ in 0..10 {
        let _ = basic_from(&app, "198.51.100.1", "alice", "typo").await;
    }
    assert_eq!(basic_from(&app, "198.51.100.1", "alice", "alice-password-1").await.status(), 429);
    assert_eq!(basic_from(&app, "198.51.100.1", ADMIN, PASSWORD).await.status(), 200);
    // Without --trusted-proxy the header is ignored: an attacker cannot pick fresh addresses.
    let plain = TestApp::spawn().await;
    for i in 0..10 {
        let _ = basic_from(&plain, &format!("203.0.113.{i}"), ADMIN, "wrong-password").await;
    }
    assert_eq!(basic_from(&plain, "192.0.2.99", ADMIN, "wrong-password").await.status(), 429);
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0)
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_folder_is_private_and_the_database_holds_no_secret_in_clear() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    // An existing folder open to everybody is made private too.
    std::fs::create_dir(&data).expect("mkdir");
    std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let assets = dir.path().join("site");
    std::fs::create_dir(&assets).expect("assets");
    let clock = std::sync::Arc::new(anchorage_server::clock::ManualClock::new(now()));
    let running = anchorage_server::start(config(&data, &assets, Some(PASSWORD)), clock).await.expect("starts");
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();
    let admin = |m: Method, path: &str| {
        client.request(m, format!("{base}{path}")).basic_auth(format!("{TENANT}/{ADMIN}"), Some(PASSWORD))
    };

    // A secret option: readers and admins alike see the platform's placeholder.
    let res = admin(Method::POST, "/tenant/options")
        .json(&serde_json::json!({"category": "remote", "key": "credentials.api-key", "value": "s3cr3t-value"}))
        .send()
        .await
        .expect("create");
    let (status, body) = json(res).await;
    assert_eq!((status, body["value"].as_str()), (200, Some("<<Encrypted>>")), "{body}");
    let res = admin(Method::POST, &format!("/user/{TENANT}/users"))
        .json(&serde_json::json!({"userName": "rita", "password": "rita-password-1", "role": "reader"}))
        .send()
        .await
        .expect("reader");
    assert!(res.status().is_success());
    let as_reader = |path: &str| {
        client.get(format!("{base}{path}")).basic_auth(format!("{TENANT}/rita"), Some("rita-password-1")).send()
    };
    for path in ["/tenant/options/remote/credentials.api-key", "/tenant/options/remote", "/tenant/options?pageSize=100"]
    {
        let text = as_reader(path).await.expect("read").text().await.expect("body");
        assert!(text.contains("<<Encrypted>>") && !text.contains("s3cr3t-value"), "{path}: {text}");
    }

    // A device token, to have one stored.
    let root = Ca::root("Secrets Root");
    let res = admin(Method::POST, &format!("/tenant/tenants/{TENANT}/trusted-certificates"))
        .json(&serde_json::json!({"name": "r", "certInPemFormat": root.pem, "status": "ENABLED", "autoRegistrationEnabled": true}))
        .send()
        .await
        .expect("trust");
    assert_eq!(res.status(), 201);
    let device = root.device("secret-device");
    let server_ca = std::fs::read_to_string(data.join("tls/ca.pem")).expect("local ca");
    let url = format!("https://{}/devicecontrol/deviceAccessToken", running.device_addr.expect("device listener"));
    let res = device.client(&server_ca).post(&url).send().await.expect("token");
    let (status, body) = json(res).await;
    assert_eq!(status, 200, "{body}");
    let token = body["accessToken"].as_str().expect("token").to_string();
    // Asked again before half-life: the same token, opened from its sealed copy.
    let (_, again) = json(device.client(&server_ca).post(&url).send().await.expect("token")).await;
    assert_eq!(again["accessToken"].as_str(), Some(token.as_str()));
    running.stop().await.expect("stops");

    assert_eq!(mode(&data), 0o700, "data folder");
    for name in ["anchorage.db", "anchorage.db-wal", "anchorage.db-shm", "secret.key"] {
        let path = data.join(name);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{name}");
        }
    }
    // Nothing secret in clear in any of the database's files.
    let mut bytes = Vec::new();
    for name in ["anchorage.db", "anchorage.db-wal"] {
        bytes.extend(std::fs::read(data.join(name)).unwrap_or_default());
    }
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(b"s3cr3t-value"), "a credentials.* value in clear");
    assert!(!contains(token.as_bytes()), "a device token in clear");
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", data.join("anchorage.db").display()))
        .await
        .expect("db");
    let key: Vec<u8> = sqlx::query_scalar("SELECT private_key FROM signing_keys").fetch_one(&db).await.expect("key");
    assert!(key.starts_with(b"sealed:v1:"), "the signing key is sealed");
}

#[tokio::test]
async fn a_bearer_token_must_be_the_stored_one_for_its_device() {
    use base64::Engine as _;
    let app = TestApp::spawn().await;
    let root = Ca::root("Bearer Root");
    app.trust(&root, "ENABLED", true).await;
    let (status, body) = app.device_token(&root.device("bearer-device"), None).await;
    assert_eq!(status, 200, "{body}");
    let token = body["accessToken"].as_str().expect("token").to_string();
    let me = |t: &str| app.client.get(app.url("/user/currentUser")).bearer_auth(t.to_string()).send();
    assert_eq!(me(&token).await.expect("me").status(), 200);

    // The same id with another `sub`, signed with the server's own key (as someone who read it
    // from the database would): refused, since the stored row names another device.
    let key = signing_key(&app).await;
    let [h, p, _]: [&str; 3] = token.split('.').collect::<Vec<_>>().try_into().expect("three parts");
    let mut claims: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).expect("b64"))
            .expect("json");
    claims["sub"] = "admin".into();
    let header: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(h).expect("b64"))
            .expect("json");
    let mut jwt_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    jwt_header.kid = header["kid"].as_str().map(str::to_string);
    let forged =
        jsonwebtoken::encode(&jwt_header, &claims, &jsonwebtoken::EncodingKey::from_ec_der(&key)).expect("sign");
    let res = me(&forged).await.expect("me");
    assert_error(res, 401, "security/Unauthorized", "Invalid token").await;
}

/// The JWT signing key, opened with the server's secret key (what an attacker with both files
/// could do; the test needs it to sign a forgery).
async fn signing_key(app: &TestApp) -> Vec<u8> {
    let db = app.raw_db().await;
    let (kid, sealed): (String, Vec<u8>) =
        sqlx::query_as("SELECT kid, private_key FROM signing_keys").fetch_one(&db).await.expect("key");
    let secrets = anchorage_server::secrets::SecretBox::load_or_create(&app.db_path().with_file_name("secret.key"))
        .expect("secret key");
    secrets.open(std::str::from_utf8(&sealed).expect("text"), &format!("signing_keys/{kid}")).expect("opens")
}

#[tokio::test]
async fn another_site_cannot_change_anything_even_with_cached_basic_credentials() {
    let app = TestApp::spawn().await;
    let bulk = app.url("/devicecontrol/bulkNewDeviceRequests");
    let csv = "ID;AUTH_TYPE;CREDENTIALS;TYPE;NAME\ncross-1;BASIC;a-device-password;c8y_Device;Cross 1\n";
    let form = || {
        reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("devices.csv"))
    };
    // What a browser sends for a form posted from another site, with the credentials it cached.
    for (name, value) in [("Origin", "http://evil.example"), ("Sec-Fetch-Site", "cross-site"), ("Origin", "null")] {
        let res = app.admin(Method::POST, &bulk).header(name, value).multipart(form()).send().await.expect("post");
        assert_error(res, 403, "security/Forbidden", "Requests from another site cannot change anything").await;
    }
    let res = app.admin(Method::GET, &app.url("/identity/externalIds/c8y_Serial/cross-1")).send().await.expect("get");
    assert_eq!(res.status(), 404, "nothing was registered");
    // The console's own requests, and clients that send no Origin, go through.
    let own = format!("http://{}", app.addresses().0);
    let res = app
        .admin(Method::POST, &bulk)
        .header("Origin", own)
        .header("Sec-Fetch-Site", "same-origin")
        .multipart(form())
        .send()
        .await
        .expect("post");
    assert!(res.status().is_success(), "{}", res.status());
    // A browser is never asked for a password: its 401s say XBasic.
    let res = app
        .client
        .get(app.url("/tenant/currentTenant"))
        .header("Sec-Fetch-Mode", "navigate")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"].to_str().is_ok_and(|v| v.starts_with("XBasic")));
    let res = app.client.get(app.url("/tenant/currentTenant")).send().await.expect("get");
    assert!(res.headers()["www-authenticate"].to_str().is_ok_and(|v| v.starts_with("Basic")), "API clients keep Basic");
}

#[tokio::test]
async fn two_admins_removing_each_other_at_once_leave_one() {
    let app = TestApp::spawn().await;
    let users = app.url(&format!("/user/{TENANT}/users"));
    let res = app
        .admin(Method::POST, &users)
        .json(&serde_json::json!({"userName": "second", "password": "second-password-1", "role": "admin"}))
        .send()
        .await
        .expect("create");
    assert!(res.status().is_success());
    let as_second = |m: Method, url: &str| {
        app.client.request(m, url).basic_auth(format!("{TENANT}/second"), Some("second-password-1"))
    };
    // Warm the credential caches, so that both requests reach their check together.
    assert_eq!(as_second(Method::GET, &users).send().await.expect("get").status(), 200);
    for round in 0..10 {
        let disable = serde_json::json!({"enabled": false});
        let (a, b) = tokio::join!(
            app.admin(Method::PUT, &format!("{users}/second")).json(&disable).send(),
            as_second(Method::PUT, &format!("{users}/{ADMIN}")).json(&disable).send(),
        );
        let statuses = [a.expect("a").status().as_u16(), b.expect("b").status().as_u16()];
        let db = app.raw_db().await;
        let enabled_admins: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND enabled = TRUE")
                .fetch_one(&db)
                .await
                .expect("count");
        db.close().await;
        assert_eq!(enabled_admins, 1, "round {round}: {statuses:?}");
        // One is refused: 422 (the last admin), or 401 when the other was disabled first.
        assert!(statuses.contains(&422) || statuses.contains(&401), "round {round}: {statuses:?}");
        // Enable the one that was disabled again, through the one left.
        let enable = serde_json::json!({"enabled": true});
        let back = app.admin(Method::PUT, &format!("{users}/second")).json(&enable).send().await.expect("enable");
        if !back.status().is_success() {
            let res = as_second(Method::PUT, &format!("{users}/{ADMIN}")).json(&enable).send().await.expect("enable");
            assert!(res.status().is_success());
        }
    }
}

#[tokio::test]
async fn proxy_mode_sessions_follow_the_same_rules() {
    let app = TestApp::spawn_proxied().await;
    let login = |password: &'static str| {
        app.client
            .post(app.url(&format!("/tenant/oauth?tenant_id={TENANT}")))
            .header("X-Forwarded-Proto", "https")
            .form(&[("grant_type", "PASSWORD"), ("username", ADMIN), ("password", password)])
            .send()
    };
    let res = login(PASSWORD).await.expect("login");
    assert_eq!(res.status(), 200);
    let cookies: Vec<String> =
        res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok().map(str::to_string)).collect();
    assert!(cookies.len() == 2 && cookies.iter().all(|c| c.contains("; Secure")), "{cookies:?}");
    let session = cookies.iter().map(|c| c.split(';').next().unwrap_or_default()).collect::<Vec<_>>().join("; ");
    // A wrong XSRF token, or none, is refused.
    for xsrf in ["wrong", ""] {
        let res = app
            .client
            .post(app.url("/tenant/options"))
            .header("Cookie", &session)
            .header("X-XSRF-TOKEN", xsrf)
            .json(&serde_json::json!({"category": "c", "key": "k", "value": "v"}))
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 403);
    }
    // The console's own change, from the proxy's origin, reaches the platform.
    let xsrf = cookies
        .iter()
        .find_map(|c| c.strip_prefix("XSRF-TOKEN=").and_then(|v| v.split(';').next()))
        .expect("xsrf cookie")
        .to_string();
    let res = app
        .client
        .post(app.url("/tenant/options"))
        .header("Cookie", &session)
        .header("X-XSRF-TOKEN", xsrf)
        .header("Origin", app.base.clone())
        .header("Sec-Fetch-Site", "same-origin")
        .json(&serde_json::json!({"category": "c", "key": "k", "value": "v"}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 200);
    // Failed logins are throttled as in the local mode.
    for _ in 0..5 {
        assert_eq!(login("wrong-password").await.expect("login").status(), 401);
    }
    let res = login(PASSWORD).await.expect("login");
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
}

#[tokio::test]
async fn odd_requests_get_their_error_in_the_platforms_envelope() {
    let app = TestApp::spawn().await;
    // A 50,000-character text filter.
    let res = app
        .admin(Method::GET, &app.url(&format!("/inventory/managedObjects?text={}", "a".repeat(50_000))))
        .send()
        .await
        .expect("get");
    assert_error(res, 422, "inventory/Unprocessable Entity", "text must be at most 256 characters").await;
    // The login with a body that is not a form, and one too large.
    let res = app
        .client
        .post(app.url("/tenant/oauth"))
        .body("{}")
        .header("Content-Type", "application/json")
        .send()
        .await
        .expect("post");
    assert_error(res, 415, "general/Unsupported Media Type", "Send the login as a form").await;
    let big = format!("grant_type=PASSWORD&username=admin&password={}", "x".repeat(2 * 1024 * 1024));
    let res = app
        .client
        .post(app.url("/tenant/oauth"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .expect("post");
    assert_error(res, 413, "general/Payload Too Large", "The request body is too large").await;
    // Headers too large.
    let res = app
        .admin(Method::GET, &app.url("/tenant/currentTenant"))
        .header("X-Big", "b".repeat(40_000))
        .send()
        .await
        .expect("get");
    assert_error(res, 431, "general/Request Header Fields Too Large", "The request's headers are too large").await;
    // pageSize: the maximum is served above it, however far above.
    for size in ["2001", "4294967296", "99999999999999999999999"] {
        let res =
            app.admin(Method::GET, &app.url(&format!("/tenant/options?pageSize={size}"))).send().await.expect("get");
        let (status, body) = json(res).await;
        assert_eq!((status, body["statistics"]["pageSize"].as_u64()), (200, Some(2000)), "pageSize={size}");
    }
    for bad in ["0", "-1", "ten"] {
        let res =
            app.admin(Method::GET, &app.url(&format!("/tenant/options?pageSize={bad}"))).send().await.expect("get");
        assert_error(res, 422, "general/Unprocessable Entity", "pageSize must be a whole number from 1 to 2000").await;
    }
}

// The server's handlers run in parallel only on a multi-threaded runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_bulk_uploads_all_complete_with_their_reports_and_audit_records() {
    let app = TestApp::spawn().await;
    const ROWS: usize = 30_000;
    let upload = |n: usize| {
        let mut csv = String::from("ID;AUTH_TYPE;CREDENTIALS;TYPE;NAME\n");
        for i in 0..ROWS {
            csv.push_str(&format!("par-{n}-{i:05};CERTIFICATES;;c8y_Device;Parallel {n} {i}\n"));
        }
        // One bad row per file, so that each answer's report is checked too.
        csv.push_str(&format!("bad id {n};CERTIFICATES;;c8y_Device;Bad\n"));
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("devices.csv"));
        app.admin(Method::POST, &app.url("/devicecontrol/bulkNewDeviceRequests")).multipart(form).send()
    };
    let (a, b, c, d) = tokio::join!(upload(1), upload(2), upload(3), upload(4));
    for res in [a, b, c, d] {
        let (status, body) = json(res.expect("upload")).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["numberOfCreated"], ROWS as u64, "{}", body["numberOfCreated"]);
        assert_eq!(body["numberOfFailed"], 1);
        assert_eq!(body["failedCreationList"].as_array().map(Vec::len), Some(1));
    }
    let db = app.raw_db().await;
    let (users, started, finished): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM device_users), \
         (SELECT COUNT(*) FROM audit_records WHERE activity = 'Bulk device registration started'), \
         (SELECT COUNT(*) FROM audit_records WHERE activity = 'Bulk device registration')",
    )
    .fetch_one(&db)
    .await
    .expect("counts");
    assert_eq!((users, started, finished), (4 * ROWS as i64, 4, 4));
}

/// A NUL character (which PostgreSQL cannot store or compare) gets the same answer on both
/// backends, never a 500: 422 in a query parameter, 401 in a user name.
#[tokio::test]
async fn a_nul_character_is_refused_alike_on_both_backends() {
    let app = TestApp::spawn().await;
    let res = app.admin(Method::GET, &app.url("/inventory/managedObjects?text=a%00b")).send().await.expect("search");
    assert_error(res, 422, "", "Query parameters must not contain a NUL character.").await;
    let res = app
        .client
        .get(app.url("/user/currentUser"))
        .basic_auth(format!("{TENANT}/ad\0min"), Some(PASSWORD))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 401);
    let res = app.admin(Method::GET, &app.url("/inventory/managedObjects?text=abc")).send().await.expect("search");
    assert_eq!(res.status(), 200);
}
