//! Basic authentication as the platform's clients send it.

use reqwest::Method;

use crate::support::*;

#[tokio::test]
async fn api_calls_without_valid_credentials_get_401_in_the_envelope() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.certs_url()).send().await.expect("request");
    assert_eq!(res.headers().get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Basic realm=\"anchorage\""));
    assert_error(res, 401, "security/Unauthorized", "Authentication required").await;

    // @c8y/client sends UseXBasic so that browsers show no pop-up.
    let res = app.client.get(app.certs_url()).header("UseXBasic", "true").send().await.expect("request");
    assert_eq!(res.headers().get("www-authenticate").and_then(|v| v.to_str().ok()), Some("XBasic realm=\"anchorage\""));

    for (user, password) in [
        (format!("{TENANT}/{ADMIN}"), "wrong-password"),
        (format!("{TENANT}/nobody"), PASSWORD),
        (format!("t999/{ADMIN}"), PASSWORD),
    ] {
        let res = app.client.get(app.certs_url()).basic_auth(&user, Some(password)).send().await.expect("request");
        assert_error(res, 401, "security/Unauthorized", "Invalid credentials!").await;
    }
    let res = app.client.get(app.certs_url()).bearer_auth("not-a-token").send().await.expect("request");
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn both_credential_forms_work_and_identify_the_user_and_tenant() {
    let app = TestApp::spawn().await;
    let (status, user) =
        json(app.admin(Method::GET, &app.url("/user/currentUser")).send().await.expect("request")).await;
    assert_eq!((status, user["userName"].as_str()), (200, Some(ADMIN)));
    let res = app
        .client
        .get(app.url("/tenant/currentTenant"))
        .basic_auth(ADMIN, Some(PASSWORD))
        .send()
        .await
        .expect("request");
    let (status, tenant) = json(res).await;
    assert_eq!((status, tenant["name"].as_str()), (200, Some(TENANT)));
    assert_eq!(tenant["domainName"], "127.0.0.1");
}

#[tokio::test]
async fn first_start_without_a_password_generates_one_that_works_and_a_restart_keeps_it() {
    let mut app = TestApp::spawn_with(None).await;
    let AdminBootstrap::CreatedWithGenerated(generated) = app.admin.clone() else { panic!("{:?}", app.admin) };
    assert!(generated.len() >= 16);
    let res =
        app.client.get(app.url("/user/currentUser")).basic_auth(ADMIN, Some(&generated)).send().await.expect("request");
    assert_eq!(res.status(), 200);

    // A restart with a password in the environment changes nothing: the tenant has users.
    app.restart(Some("another-password")).await;
    assert_eq!(app.admin, AdminBootstrap::Existing);
    let res =
        app.client.get(app.url("/user/currentUser")).basic_auth(ADMIN, Some(&generated)).send().await.expect("request");
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .get(app.url("/user/currentUser"))
        .basic_auth(ADMIN, Some("another-password"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_too_short_admin_password_stops_start_up_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), dir.path(), Some("short"));
    let clock = std::sync::Arc::new(anchorage_server::clock::SystemClock);
    let err = anchorage_server::start(cfg, clock).await.err().expect("refused");
    assert!(err.to_string().contains("at least 8 characters"), "{err}");
}

/// A client's first calls, sent in parallel with the right Basic credentials before any was
/// verified: every one is answered 200 (they take turns and the first verification serves the
/// rest), none 429 for looking like more than five failed logins at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_first_calls_with_the_right_password_all_succeed() {
    let app = TestApp::spawn().await;
    let calls: Vec<_> =
        (0..16).map(|_| tokio::spawn(app.admin(Method::GET, &app.url("/user/currentUser")).send())).collect();
    let mut statuses = Vec::new();
    for call in calls {
        statuses.push(call.await.expect("task").expect("answer").status().as_u16());
    }
    assert_eq!(statuses, vec![200; 16]);
    // Wrong passwords in parallel are still each a failure: the sixth and later are throttled.
    let wrong: Vec<_> = (0..8)
        .map(|_| {
            let req = app.client.get(app.url("/user/currentUser"));
            tokio::spawn(req.basic_auth(format!("{TENANT}/{ADMIN}"), Some("not-the-password")).send())
        })
        .collect();
    let mut statuses = Vec::new();
    for call in wrong {
        statuses.push(call.await.expect("task").expect("answer").status().as_u16());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [vec![401; 5], vec![429; 3]].concat());
}
