//! Accounts, sessions, roles, throttling and the audit log: a console that is safe to expose.

use anchorage_server::clock::Clock as _;
use anchorage_server::routes::{Access, endpoints};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::Duration;

use crate::support::*;

/// Logs in with the form the platform's clients send ([`console_login`]).
async fn login(app: &TestApp, user: &str, password: &str) -> (StatusCode, Option<(String, String)>, Vec<String>) {
    let (status, pair, set) = console_login(&app.client, &app.base, user, password).await;
    (StatusCode::from_u16(status).expect("status"), pair, set)
}

async fn create_user(app: &TestApp, name: &str, password: &str, role: &str) {
    let res = app
        .admin(Method::POST, &app.url(&format!("/user/{TENANT}/users")))
        .json(&json!({"userName": name, "password": password, "role": role}))
        .send()
        .await
        .expect("create user");
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
}

/// A concrete URL for an endpoint's path template.
fn concrete(path: &str) -> String {
    path.replace("{tenant_id}", TENANT)
        .replace("{fingerprint}", &"0".repeat(40))
        .replace("{category}", "c")
        .replace("{key}", "k")
        .replace("{id_type}", "c8y_Serial")
        .replace("{external_id}", "x")
        .replace("{user_name}", ADMIN)
        .replace("{id}", "1")
}

async fn audit(app: &TestApp, query: &str) -> Vec<Value> {
    let (_, body) = json(
        app.admin(Method::GET, &app.url(&format!("/audit/auditRecords?pageSize=2000&{query}")))
            .send()
            .await
            .expect("audit"),
    )
    .await;
    body["auditRecords"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn every_route_has_an_access_rule_and_the_server_enforces_it() {
    let app = TestApp::spawn().await;
    create_user(&app, "reader1", "reader-password", "reader").await;
    let root = Ca::root("Access Root");
    app.trust(&root, "ENABLED", true).await;
    let device_token =
        app.device_token(&root.device("access-1"), None).await.1["accessToken"].as_str().expect("token").to_string();

    let all = endpoints();
    assert!(all.len() >= 25, "the table lists every route ({})", all.len());
    for e in &all {
        // The table itself: nothing that changes state is open to readers. (The chain doctor is
        // a POST that reads only, open to readers as on the platform.)
        // Nor is a user's change of their own password, which needs their current one.
        let reads_or_own = ["/tenant/trusted-certificates/verify-cert-chain", "/user/currentUser/password"];
        if e.method != Method::GET && !reads_or_own.contains(&e.path) {
            assert_ne!(e.access, Access::Read, "{} {} changes state but is open to readers", e.method, e.path);
        }
        let url = app.url(&concrete(e.path));
        if e.access != Access::Public {
            let res = app.client.request(e.method.clone(), &url).json(&json!({})).send().await.expect("anonymous");
            assert_eq!(res.status(), 401, "{} {} without credentials", e.method, e.path);
        }
        let reader = app
            .client
            .request(e.method.clone(), &url)
            .basic_auth(format!("{TENANT}/reader1"), Some("reader-password"))
            .json(&json!({}));
        let status = reader.send().await.expect("reader").status();
        match e.access {
            Access::Admin => assert_eq!(status, 403, "{} {} as a reader", e.method, e.path),
            Access::Read | Access::Authenticated => {
                assert!(status != 401 && status != 403, "{} {} as a reader: {status}", e.method, e.path)
            }
            Access::Public => {}
        }
        if matches!(e.access, Access::Admin | Access::Read) {
            let res = app
                .client
                .request(e.method.clone(), &url)
                .bearer_auth(&device_token)
                .json(&json!({}))
                .send()
                .await
                .expect("device");
            assert_eq!(res.status(), 403, "{} {} with a device token", e.method, e.path);
        }
    }
}

#[tokio::test]
async fn cookie_sessions_need_the_xsrf_header_for_changes_and_end_on_logout() {
    let app = TestApp::spawn().await;
    let (status, pair, set) = login(&app, ADMIN, PASSWORD).await;
    assert_eq!(status, 200);
    let session_cookie = set.iter().find(|c| c.starts_with("authorization=")).expect("session cookie");
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Strict"), "{session_cookie}");
    let xsrf_cookie = set.iter().find(|c| c.starts_with("XSRF-TOKEN=")).expect("xsrf cookie");
    assert!(!xsrf_cookie.contains("HttpOnly"), "the app must be able to read {xsrf_cookie}");
    let (cookie, xsrf) = pair.expect("cookies");

    let me = app.client.get(app.url("/user/currentUser")).header("cookie", &cookie).send().await.expect("me");
    assert_eq!(json(me).await.1["userName"], ADMIN);

    assert_session_changes_need_xsrf(&app, &cookie, &xsrf, "Cookie CA").await;

    let res = app
        .client
        .post(app.url("/user/logout"))
        .header("cookie", &cookie)
        .header("X-XSRF-TOKEN", &xsrf)
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), 204);
    assert!(
        res.headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().is_ok_and(|c| c.starts_with("authorization=;") && c.contains("Max-Age=0")))
    );
    let me = app.client.get(app.url("/user/currentUser")).header("cookie", &cookie).send().await.expect("me");
    assert_eq!(me.status(), 401);
}

#[tokio::test]
async fn oauth_token_is_a_bearer_session_and_sessions_expire() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/tenant/oauth/token"))
        .form(&[("grant_type", "PASSWORD"), ("username", ADMIN), ("password", PASSWORD)])
        .send()
        .await
        .expect("token");
    let (status, body) = json(res).await;
    assert_eq!(status, 200);
    let token = body["access_token"].as_str().expect("access_token").to_string();
    let me = |t: String| app.client.get(app.url("/user/currentUser")).bearer_auth(t).send();
    assert_eq!(me(token.clone()).await.expect("me").status(), 200);
    // Bearer needs no XSRF header.
    let res = app
        .client
        .put(app.url("/tenant/options/x/y"))
        .bearer_auth(&token)
        .json(&json!({"value": "1"}))
        .send()
        .await
        .expect("put");
    assert_eq!(res.status(), 200);

    // Idle limit (30 min by default).
    app.clock.advance(Duration::seconds(1801));
    assert_eq!(me(token.clone()).await.expect("me").status(), 401);

    // Absolute limit from the tenant option, even when used all the time.
    let res = app
        .admin(Method::PUT, &app.url("/tenant/options/oauth.internal/basic-user.cookie.lifespan.seconds"))
        .json(&json!({"value": "3000"}))
        .send()
        .await
        .expect("option");
    assert_eq!(res.status(), 200);
    let (_, pair, _) = login(&app, ADMIN, PASSWORD).await;
    let (cookie, _) = pair.expect("cookies");
    for _ in 0..5 {
        app.clock.advance(Duration::seconds(590));
        let res = app.client.get(app.url("/user/currentUser")).header("cookie", &cookie).send().await.expect("me");
        assert_eq!(res.status(), 200);
    }
    app.clock.advance(Duration::seconds(60));
    let res = app.client.get(app.url("/user/currentUser")).header("cookie", &cookie).send().await.expect("me");
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn failed_logins_are_throttled_and_unknown_users_look_like_known_ones() {
    let app = TestApp::spawn().await;
    let mut bodies = Vec::new();
    for user in [ADMIN, "nobody-here"] {
        let (status, pair, _) = login(&app, user, "wrong-password").await;
        assert_eq!((status, pair.is_none()), (StatusCode::UNAUTHORIZED, true));
        let res = app
            .client
            .get(app.certs_url())
            .basic_auth(format!("{TENANT}/{user}"), Some("wrong-password"))
            .send()
            .await
            .expect("basic");
        bodies.push(json(res).await);
        // Forget the failures so the next user starts clean.
        app.clock.advance(Duration::hours(2));
    }
    assert_eq!(bodies[0], bodies[1], "known and unknown users get the same answer");

    // Timing class: both are checked against an argon2 hash. The fastest of several tries of
    // each is compared (the minimum is what noise from other work on the machine cannot lower);
    // without the dummy hash an unknown user would answer ten times faster or more.
    let (mut known, mut unknown) = (f64::MAX, f64::MAX);
    for _ in 0..4 {
        for (user, best) in [(ADMIN, &mut known), ("nobody-here", &mut unknown)] {
            let started = std::time::Instant::now();
            let _ = login(&app, user, "wrong-password").await;
            *best = best.min(started.elapsed().as_secs_f64());
            app.clock.advance(Duration::hours(2));
        }
    }
    assert!(known / unknown < 4.0 && unknown / known < 4.0, "known {known:.4}s vs unknown {unknown:.4}s");

    // Five failures are free; the sixth attempt must wait, even with the right password.
    for _ in 0..5 {
        assert_eq!(login(&app, ADMIN, "wrong-password").await.0, 401);
    }
    let res = app
        .client
        .post(app.url("/tenant/oauth"))
        .form(&[("grant_type", "PASSWORD"), ("username", ADMIN), ("password", PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_error(res, 429, "security/Too Many Requests", "Too many failed logins; try again in").await;
    app.clock.advance(Duration::seconds(1));
    assert_eq!(login(&app, ADMIN, PASSWORD).await.0, 200, "a correct login after the wait works");
}

#[tokio::test]
async fn admins_manage_users_and_changes_take_effect_at_once() {
    let app = TestApp::spawn().await;
    let users = app.url(&format!("/user/{TENANT}/users"));
    create_user(&app, "op", "op-password-1", "reader").await;
    let (status, body) = json(app.admin(Method::GET, &users).send().await.expect("list")).await;
    assert_eq!(status, 200);
    let names: Vec<&str> =
        body["users"].as_array().expect("users").iter().filter_map(|u| u["userName"].as_str()).collect();
    assert_eq!(names, [ADMIN, "op"]);
    assert!(!body.to_string().contains("password_hash") && !body.to_string().contains("argon2"));

    // Reader: sees, cannot change.
    let as_op = |m: Method, url: &str, pw: &str| {
        app.client.request(m, url).basic_auth(format!("{TENANT}/op"), Some(pw.to_string()))
    };
    assert_eq!(as_op(Method::GET, &app.certs_url(), "op-password-1").send().await.expect("get").status(), 200);
    let res = as_op(Method::POST, &app.certs_url(), "op-password-1").json(&body_of_ca()).send().await.expect("post");
    assert_error(res, 403, "security/Forbidden", "Access is denied").await;

    // Promote, reset the password, disable.
    let one = format!("{users}/op");
    let (_, u) = json(app.admin(Method::PUT, &one).json(&json!({"role": "admin"})).send().await.expect("put")).await;
    assert_eq!(u["role"], "admin");
    assert_eq!(
        as_op(Method::POST, &app.certs_url(), "op-password-1").json(&body_of_ca()).send().await.expect("post").status(),
        201
    );
    assert_eq!(
        app.admin(Method::PUT, &one).json(&json!({"password": "op-password-2"})).send().await.expect("put").status(),
        200
    );
    assert_eq!(as_op(Method::GET, &app.certs_url(), "op-password-1").send().await.expect("get").status(), 401);
    assert_eq!(as_op(Method::GET, &app.certs_url(), "op-password-2").send().await.expect("get").status(), 200);
    let (_, pair, _) = login(&app, "op", "op-password-2").await;
    let (cookie, _) = pair.expect("session");
    assert_eq!(app.admin(Method::PUT, &one).json(&json!({"enabled": false})).send().await.expect("put").status(), 200);
    assert_eq!(as_op(Method::GET, &app.certs_url(), "op-password-2").send().await.expect("get").status(), 401);
    let res = app.client.get(app.url("/user/currentUser")).header("cookie", &cookie).send().await.expect("me");
    assert_eq!(res.status(), 401, "disabling ends the user's sessions");

    // Rules: unique names, a minimum length, the last admin stays.
    let res = app
        .admin(Method::POST, &users)
        .json(&json!({"userName": "op", "password": "whatever-1"}))
        .send()
        .await
        .expect("dup");
    assert_error(res, 409, "user/Conflict", "User with username 'op' already exists.").await;
    let res = app
        .admin(Method::POST, &users)
        .json(&json!({"userName": "short", "password": "1234"}))
        .send()
        .await
        .expect("short");
    assert_error(res, 422, "user/Unprocessable Entity", "password must have at least 8 characters").await;
    let res = app
        .admin(Method::PUT, &format!("{users}/{ADMIN}"))
        .json(&json!({"role": "reader"}))
        .send()
        .await
        .expect("demote");
    assert_error(res, 422, "user/Unprocessable Entity", OWN_ACCOUNT_RULE).await;
}

const OWN_ACCOUNT_RULE: &str = "You cannot change your own role or disable yourself; another admin can.";

#[tokio::test]
async fn admins_cannot_demote_or_disable_themselves_but_another_admin_can() {
    let app = TestApp::spawn().await;
    let users = app.url(&format!("/user/{TENANT}/users"));
    create_user(&app, "second", "second-password", "admin").await;
    let me = format!("{users}/{ADMIN}");
    let audit_before = app.audit_count().await;
    for change in [json!({"role": "reader"}), json!({"enabled": false}), json!({"role": "reader", "enabled": false})] {
        let res = app.admin(Method::PUT, &me).json(&change).send().await.expect("self");
        assert_error(res, 422, "user/Unprocessable Entity", OWN_ACCOUNT_RULE).await;
    }
    let (_, u) = json(app.admin(Method::GET, &me).send().await.expect("get")).await;
    assert_eq!((u["role"].as_str(), u["enabled"].as_bool()), (Some("admin"), Some(true)), "nothing changed");
    assert_eq!(app.audit_count().await, audit_before, "a refused change records nothing");
    // Restating one's own role and state changes nothing and is fine (a form sends them all).
    let res = app.admin(Method::PUT, &me).json(&json!({"role": "admin", "enabled": true})).send().await.expect("same");
    assert_eq!(res.status(), 200);

    // Another admin can: the second admin demotes the first, then the first is a reader.
    let as_second = |m: Method, url: &str| {
        app.client.request(m, url).basic_auth(format!("{TENANT}/second"), Some("second-password"))
    };
    let res = as_second(Method::PUT, &me).json(&json!({"role": "reader"})).send().await.expect("demote other");
    assert_eq!(json(res).await.1["role"], "reader");
    let res = as_second(Method::PUT, &format!("{users}/second")).json(&json!({"enabled": false})).send().await;
    assert_error(res.expect("self"), 422, "user/Unprocessable Entity", OWN_ACCOUNT_RULE).await;
}

#[tokio::test]
async fn readers_change_their_own_password_and_their_other_sessions_end() {
    let app = TestApp::spawn().await;
    create_user(&app, "reader1", "reader-password", "reader").await;
    let url = app.url("/user/currentUser/password");
    let (_, pair, _) = login(&app, "reader1", "reader-password").await;
    let (cookie, xsrf) = pair.expect("session");
    let (_, other, _) = login(&app, "reader1", "reader-password").await;
    let (other_cookie, _) = other.expect("other session");
    let change = |current: &str, new: &str| {
        app.client
            .put(&url)
            .header("cookie", &cookie)
            .header("X-XSRF-TOKEN", &xsrf)
            .json(&json!({"currentUserPassword": current, "newPassword": new}))
            .send()
    };

    // Refused, nothing changed: a wrong current password, a new one against the rules.
    let res = change("wrong-password", "new-reader-password").await.expect("wrong");
    assert_error(res, 422, "user/Unprocessable Entity", "The current password is not correct.").await;
    let res = change("reader-password", "short").await.expect("short");
    assert_error(res, 422, "user/Unprocessable Entity", "password must have at least 8 characters").await;
    let res = change("reader-password", "reader-password").await.expect("same");
    assert_error(res, 422, "user/Unprocessable Entity", "the new password must differ").await;
    let res = app
        .client
        .put(&url)
        .header("cookie", &cookie)
        .header("X-XSRF-TOKEN", &xsrf)
        .json(&json!({"newPassword": "new-reader-password"}))
        .send()
        .await
        .expect("missing");
    assert_eq!(res.status(), 422, "the current password is required");
    assert_eq!(login(&app, "reader1", "reader-password").await.0, 200, "still the old password");

    // Changed: the old password no longer works, the new one does; this session stays, the
    // other one ends.
    assert_eq!(change("reader-password", "new-reader-password").await.expect("change").status(), 204);
    let basic = |pw: &str| {
        app.client
            .get(app.url("/user/currentUser"))
            .basic_auth(format!("{TENANT}/reader1"), Some(pw.to_string()))
            .send()
    };
    assert_eq!(basic("reader-password").await.expect("old").status(), 401);
    assert_eq!(basic("new-reader-password").await.expect("new").status(), 200);
    let me = |c: &str| app.client.get(app.url("/user/currentUser")).header("cookie", c.to_string()).send();
    assert_eq!(me(&cookie).await.expect("this").status(), 200, "the session that changed it stays");
    assert_eq!(me(&other_cookie).await.expect("other").status(), 401, "other sessions end");

    let records = audit(&app, "type=User&user=reader1").await;
    let activities: Vec<&str> = records.iter().filter_map(|r| r["activity"].as_str()).collect();
    assert_eq!(activities, ["Own password change refused", "User password changed"], "{records:?}");
    assert!(!records.iter().any(|r| r.to_string().contains("reader-password")), "no password in the log");

    // Devices have no console password.
    let root = Ca::root("Password Root");
    app.trust(&root, "ENABLED", true).await;
    let token = app.device_token(&root.device("pw-1"), None).await.1["accessToken"].as_str().expect("t").to_string();
    let res = app
        .client
        .put(&url)
        .bearer_auth(&token)
        .json(&json!({"currentUserPassword": "x", "newPassword": "new-password-1"}))
        .send()
        .await
        .expect("device");
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn wrong_current_passwords_are_throttled_and_counted_not_logged_one_by_one() {
    let app = TestApp::spawn().await;
    let url = app.url("/user/currentUser/password");
    let body = json!({"currentUserPassword": "not-the-password", "newPassword": "new-admin-password"});
    let before = app.audit_count().await;
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(app.admin(Method::PUT, &url).json(&body).send().await.expect("guess").status().as_u16());
    }
    assert!(statuses[..20].iter().all(|s| *s == 422), "{statuses:?}");
    assert!(statuses[20..].iter().all(|s| *s == 429), "beyond the address's budget: {statuses:?}");
    // Over the budget no guess is checked at all: the right password is refused too (it
    // would have changed the password, 204, before the check came first).
    let right = json!({"currentUserPassword": PASSWORD, "newPassword": "new-admin-password"});
    let res = app.admin(Method::PUT, &url).json(&right).send().await.expect("right password");
    assert_eq!(res.status(), 429);
    assert_eq!(app.audit_count().await, before + 1, "repeats are aggregated into the first record's window");
    app.clock.advance(Duration::minutes(11));
    app.maintain_now().await;
    assert_eq!(app.audit_count().await, before + 2, "one record counts the repeats");
}

#[tokio::test]
async fn an_operator_can_hide_their_own_logins_from_the_audit_list() {
    let app = TestApp::spawn().await;
    create_user(&app, "other", "other-password", "reader").await;
    assert_eq!(login(&app, ADMIN, PASSWORD).await.0, 200);
    assert_eq!(login(&app, "other", "other-password").await.0, 200);
    let logins = |query: &str| {
        let query = query.to_string();
        let app = &app;
        async move {
            audit(app, &format!("type=UserAuthentication&{query}"))
                .await
                .iter()
                .filter_map(|r| r["user"].as_str().map(str::to_string))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(logins("").await, [ADMIN, "other"]);
    assert_eq!(logins(&format!("hideLoginsOf={ADMIN}")).await, ["other"]);
    let all = audit(&app, &format!("hideLoginsOf={ADMIN}")).await;
    assert!(all.iter().any(|r| r["type"] == "User"), "other records of the user stay: {all:?}");
}

fn body_of_ca() -> Value {
    json!({"name": "x", "certInPemFormat": ca_pem("Some CA"), "status": "DISABLED"})
}

#[tokio::test]
async fn every_action_leaves_exactly_one_audit_record() {
    let app = TestApp::spawn().await;
    let root = Ca::root("Audit Root");
    let fp = fingerprint(&root.pem);
    let one = format!("{}/{fp}", app.certs_url());
    app.trust(&root, "DISABLED", false).await;
    for patch in [
        json!({"status": "ENABLED"}),
        json!({"status": "DISABLED"}),
        json!({"name": "Renamed"}),
        json!({"autoRegistrationEnabled": true}),
        json!({"name": "Renamed"}),
    ] {
        assert_eq!(app.admin(Method::PUT, &one).json(&patch).send().await.expect("put").status(), 200);
    }
    app.set_certificate(&root, json!({"status": "ENABLED"})).await;
    let activities: Vec<String> =
        audit(&app, "type=Tenant").await.iter().filter_map(|r| r["activity"].as_str().map(str::to_string)).collect();
    assert_eq!(
        activities,
        [
            "Trusted certificate added",
            "Trusted certificate enabled",
            "Trusted certificate disabled",
            "Trusted certificate renamed",
            "Trusted certificate auto-registration enabled",
            "Trusted certificate enabled"
        ],
        "a PUT that changes nothing records nothing"
    );
    let added = &audit(&app, "type=Tenant").await[0];
    assert_eq!(added["user"], ADMIN);
    assert!(added["text"].as_str().is_some_and(|t| {
        t.starts_with(&format!("Trusted certificate added to '{TENANT}'. Certificate fingerprint: '{fp}'."))
    }));
    assert_eq!(added["anchorage_Details"]["clientAddress"], "127.0.0.1");

    // Device tokens: issued and refused, with serial and fingerprint.
    let device = root.device("audited-1");
    assert_eq!(app.device_token(&device, None).await.0, 200);
    assert_eq!(app.device_token(&device, None).await.0, 200, "the same token again is not a new issue");
    let stranger = Ca::root("Stranger").device("audited-2");
    assert_eq!(app.device_token(&stranger, None).await.0, 401);
    let tokens = audit(&app, "type=DeviceAccessToken").await;
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    let info = anchorage_common::cert::inspect(
        &anchorage_common::pem::decode_certificates(&device.cert_pem).expect("pem")[0],
        now(),
    )
    .expect("parse")
    .info;
    assert_eq!(
        (tokens[0]["activity"].as_str(), tokens[0]["user"].as_str()),
        (Some("Device token issued"), Some("device_audited-1"))
    );
    let d = &tokens[0]["anchorage_Details"];
    assert_eq!(
        (d["certificateSerialNumber"].as_str(), d["certificateFingerprint"].as_str()),
        (Some(info.serial_number.as_str()), Some(info.fingerprint.as_str()))
    );
    assert_eq!(
        (d["trustedCertificateFingerprint"].as_str(), d["result"].as_str()),
        (Some(fp.as_str()), Some("ISSUED"))
    );
    assert_eq!(
        (tokens[1]["activity"].as_str(), tokens[1]["severity"].as_str()),
        (Some("Device token refused"), Some("warning"))
    );
    assert_eq!(tokens[1]["anchorage_Details"]["result"], "REFUSED");
    assert!(tokens[1]["anchorage_Details"]["certificateFingerprint"].as_str().is_some_and(|f| f.len() == 40));

    // Options, bulk registration, users, logins.
    assert_eq!(
        app.admin(Method::PUT, &app.url("/tenant/options/oauth.internal/device-token.lifespan.seconds"))
            .json(&json!({"value": "600"}))
            .send()
            .await
            .expect("opt")
            .status(),
        200
    );
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(b"ID;AUTH_TYPE\nb-1;CERTIFICATES\n".to_vec()).file_name("f.csv"));
    assert_eq!(
        app.admin(Method::POST, &app.url("/devicecontrol/bulkNewDeviceRequests"))
            .multipart(form)
            .send()
            .await
            .expect("bulk")
            .status(),
        201
    );
    create_user(&app, "aud", "aud-password", "reader").await;
    assert_eq!(login(&app, "aud", "aud-password").await.0, 200);
    assert_eq!(login(&app, "aud", "not-the-password").await.0, 401);
    // A bulk import is the one action with two: when it started (with its first rows) and its
    // counts at the end.
    for (kind, activities) in [
        ("Option", &["Option created"][..]),
        ("BulkRegistration", &["Bulk device registration started", "Bulk device registration"][..]),
        ("User", &["User created"][..]),
    ] {
        let records = audit(&app, &format!("type={kind}")).await;
        let got: Vec<&str> = records.iter().filter_map(|r| r["activity"].as_str()).collect();
        assert_eq!(got, activities, "{kind}: {records:?}");
    }
    let logins: Vec<String> = audit(&app, "type=UserAuthentication&user=aud")
        .await
        .iter()
        .filter_map(|r| r["activity"].as_str().map(str::to_string))
        .collect();
    assert_eq!(logins, ["Login", "Login failed"]);

    // Filters and order.
    let newest = audit(&app, "revert=true").await;
    assert_eq!(newest[0]["activity"], "Login failed");
    let later = anchorage_common::timefmt::platform(app.clock.now() + Duration::days(1));
    assert!(audit(&app, &format!("dateFrom={later}")).await.is_empty());

    // Records cannot be changed or deleted, through the API or beneath it.
    let first = format!("/audit/auditRecords/{}", newest[0]["id"].as_str().expect("id"));
    for m in [Method::PUT, Method::DELETE, Method::POST] {
        let res = app.admin(m.clone(), &app.url(&first)).json(&json!({"text": "x"})).send().await.expect("write");
        assert_eq!(res.status(), 405, "{m} {first}");
    }
    let db = app.raw_db().await;
    assert!(sqlx::query("UPDATE audit_records SET text = 'x'").execute(&db).await.is_err());
    assert!(sqlx::query("DELETE FROM audit_records").execute(&db).await.is_err());
}

#[tokio::test]
async fn security_headers_are_on_every_answer_and_no_cors() {
    let app = TestApp::spawn().await;
    std::fs::write(app.assets().join("index.html"), "<!doctype html>").expect("write");
    for path in ["/", "/trusted-certificates", "/tenant/currentTenant"] {
        let res = app.client.get(app.url(path)).header("Origin", "https://evil.example").send().await.expect("get");
        let h = res.headers();
        let csp = h.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert_eq!(h.get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"));
        assert_eq!(h.get("referrer-policy").and_then(|v| v.to_str().ok()), Some("no-referrer"));
        assert!(h.get("access-control-allow-origin").is_none(), "{path} must not allow other origins");
    }
}
