//! `POST /devicecontrol/deviceAccessToken` over real mutual TLS: the trust matrix, device
//! registration, the token's lifetime and renewal (with the server's clock moved, not slept),
//! and what the token is good for.

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};
use time::Duration;

use crate::support::*;

fn token_of(body: &Value) -> String {
    body["accessToken"].as_str().unwrap_or_else(|| panic!("no accessToken in {body}")).to_string()
}

/// The claims of a JWT (not verified: the server's JWKS test does that).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("b64"))
        .expect("json")
}

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_documented_curl_call_gets_a_token() {
    let app = TestApp::spawn().await;
    let root = Ca::root("Curl Root");
    app.trust(&root, "ENABLED", true).await;
    let device = root.device("curl-device-1");
    let dir = tempfile::tempdir().expect("tmp");
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    };
    let (cert, key, ca) =
        (file("dev.pem", &device.cert_pem), file("dev.key", &device.key_pem), file("ca.pem", &app.local_ca_pem()));
    let chain = device.cert_pem.replace('\n', " ");
    let url = app.device_url("/devicecontrol/deviceAccessToken");
    // curl blocks; run it off the test's runtime thread, which also serves anchorage.
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "20",
                "--cacert",
                &ca,
                "--cert",
                &cert,
                "--key",
                &key,
                "-H",
                "Accept: application/json",
            ])
            .args(["-H", &format!("X-Ssl-Cert-Chain: {chain}"), "-X", "POST", "-w", "\n%{http_code}"])
            .arg(url)
            .output()
            .expect("curl runs")
    })
    .await
    .expect("curl task");
    let text = String::from_utf8_lossy(&out.stdout);
    let (body, status) = text.rsplit_once('\n').expect("status line");
    assert_eq!(status, "200", "{text} {}", String::from_utf8_lossy(&out.stderr));
    let body: Value = serde_json::from_str(body).expect("json");
    let c = claims(&token_of(&body));
    assert_eq!((c["sub"].as_str(), c["ten"].as_str()), (Some("device_curl-device-1"), Some(TENANT)));
}

#[tokio::test]
async fn only_a_chain_to_an_enabled_trusted_certificate_gets_a_token_and_changes_apply_at_once() {
    let app = TestApp::spawn().await;
    let root = Ca::root("Matrix Root");
    let device = root.device("matrix-1");

    // Unknown CA.
    let (status, body) = app.device_token(&device, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(message(&body).contains("no trusted certificate issued it"), "{body}");

    // Uploaded but disabled, then enabled, disabled, re-enabled: each applies on the next
    // handshake, no restart.
    app.trust(&root, "DISABLED", true).await;
    let (status, body) = app.device_token(&device, None).await;
    assert_eq!(status, 401);
    assert!(message(&body).contains("'Matrix Root'") && message(&body).contains("is disabled"), "{body}");
    app.set_certificate(&root, json!({"status": "ENABLED"})).await;
    assert_eq!(app.device_token(&device, None).await.0, 200);
    app.set_certificate(&root, json!({"status": "DISABLED"})).await;
    assert_eq!(app.device_token(&device, None).await.0, 401);
    app.set_certificate(&root, json!({"status": "ENABLED"})).await;
    assert_eq!(app.device_token(&device, None).await.0, 200);

    // Deleted.
    let url = format!("{}/{}", app.certs_url(), fingerprint(&root.pem));
    assert_eq!(app.admin(Method::DELETE, &url).send().await.expect("delete").status(), 204);
    assert_eq!(app.device_token(&device, None).await.0, 401);

    // No client certificate at all; the plain API listener does not serve tokens at all (and
    // records nothing).
    let plain = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(app.local_ca_pem().as_bytes()).expect("ca"))
        .build()
        .expect("client");
    let res = plain.post(app.device_url("/devicecontrol/deviceAccessToken")).send().await.expect("request");
    assert_error(res, 401, "security/Unauthorized", "No client certificate was presented").await;
    let audit_before = app.audit_count().await;
    for _ in 0..20 {
        let res = app.client.post(app.url("/devicecontrol/deviceAccessToken")).send().await.expect("request");
        assert_error(
            res,
            404,
            "devicecontrol/Not Found",
            "POST /devicecontrol/deviceAccessToken is served on the device listener",
        )
        .await;
    }
    assert_eq!(app.audit_count().await, audit_before);
}

#[tokio::test]
async fn expired_and_not_yet_valid_device_certificates_are_refused() {
    let app = TestApp::spawn().await;
    let root = Ca::root("Dates Root");
    app.trust(&root, "ENABLED", true).await;
    let expired = root.device_valid("old-device", now() - Duration::days(30), now() - Duration::days(1));
    let (status, body) = app.device_token(&expired, None).await;
    assert_eq!(status, 401);
    assert!(message(&body).contains("expired"), "{body}");
    let future = root.device_valid("new-device", now() + Duration::days(1), now() + Duration::days(30));
    let (status, body) = app.device_token(&future, None).await;
    assert_eq!(status, 401);
    assert!(message(&body).contains("not valid yet"), "{body}");
    // The server's clock decides: a day later the second one works.
    app.clock.advance(Duration::days(2));
    assert_eq!(app.device_token(&future, None).await.0, 200);
}

#[tokio::test]
async fn intermediates_come_from_the_header_or_the_handshake() {
    let app = TestApp::spawn().await;
    let root = Ca::root("Chain Root");
    let intermediate = root.intermediate("Chain Intermediate", true);
    app.trust(&root, "ENABLED", true).await;
    let device = intermediate.device("chained-1");

    let (status, body) = app.device_token(&device, None).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = app.device_token(&device, Some(&[&device.cert_pem, &intermediate.pem])).await;
    assert_eq!(status, 200, "{body}");

    // The header's leaf must be the TLS client certificate.
    let other = intermediate.device("someone-else");
    let (status, body) = app.device_token(&device, Some(&[&other.cert_pem, &intermediate.pem])).await;
    assert_eq!(status, 401);
    assert!(message(&body).contains("is not the certificate the device authenticated with"), "{body}");

    // Intermediates sent in the TLS handshake work as well.
    let in_tls = intermediate.device("chained-2").with_tls_intermediates(&[&intermediate.pem]);
    assert_eq!(app.device_token(&in_tls, None).await.0, 200);

    // An unreadable header is a 400.
    let client = device.client(&app.local_ca_pem());
    let res = client
        .post(app.device_url("/devicecontrol/deviceAccessToken"))
        .header("X-Ssl-Cert-Chain", "-----BEGIN CERTIFICATE----- !!! -----END CERTIFICATE-----")
        .send()
        .await
        .expect("request");
    assert_error(res, 400, "devicecontrol/Bad Request", "The X-Ssl-Cert-Chain header cannot be read").await;
}

#[tokio::test]
async fn an_intermediate_with_ca_false_does_not_anchor_a_chain() {
    let app = TestApp::spawn().await;
    let root = Ca::root("Strict Root");
    let not_a_ca = root.intermediate("Not A CA", false);
    app.trust(&root, "ENABLED", true).await;
    let device = not_a_ca.device("sneaky-1");
    let (status, body) = app.device_token(&device, Some(&[&device.cert_pem, &not_a_ca.pem])).await;
    assert_eq!(status, 401);
    assert!(message(&body).contains("not a CA"), "{body}");
}

#[tokio::test]
async fn unknown_devices_need_auto_registration_and_are_created_once() {
    let app = TestApp::spawn().await;
    let root = Ca::root("Registration Root");
    app.trust(&root, "ENABLED", false).await;
    let device = root.device("reg-1");
    let (status, body) = app.device_token(&device, None).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "devicecontrol/Unprocessable Entity");
    assert!(
        message(&body).starts_with("The verification was not successful: device 'reg-1' is not registered"),
        "{body}"
    );

    app.set_certificate(&root, json!({"autoRegistrationEnabled": true})).await;
    assert_eq!(app.device_token(&device, None).await.0, 200);
    app.clock.advance(Duration::hours(1));
    assert_eq!(app.device_token(&device, None).await.0, 200);

    let db = app.raw_db().await;
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT user_name, auth_type, registered_by FROM device_users")
            .fetch_all(&db)
            .await
            .expect("query");
    assert_eq!(rows, vec![("device_reg-1".to_string(), "CERTIFICATES".to_string(), "AUTO_REGISTRATION".to_string())]);
}

#[tokio::test]
async fn lifetime_follows_the_option_and_renewal_waits_for_half_life() {
    let app = TestApp::spawn().await;
    let root = Ca::root("Lifetime Root");
    app.trust(&root, "ENABLED", true).await;
    let device = root.device("life-1");

    let (_, body) = app.device_token(&device, None).await;
    let first = token_of(&body);
    let c = claims(&first);
    assert_eq!(c["exp"].as_i64().expect("exp") - c["iat"].as_i64().expect("iat"), 3600, "default lifetime");
    for claim in ["sub", "ten", "iss", "aud", "iat", "nbf", "exp", "jti", "xsrfToken", "tfa"] {
        assert!(c.get(claim).is_some(), "claim {claim} missing in {c}");
    }

    // Before half-life: the same token.
    app.clock.advance(Duration::seconds(1799));
    assert_eq!(token_of(&app.device_token(&device, None).await.1), first);

    // The option changes; it applies to the next new token only.
    let res = app
        .admin(Method::POST, &app.url("/tenant/options"))
        .json(&json!({"category": "oauth.internal", "key": "device-token.lifespan.seconds", "value": "600"}))
        .send()
        .await
        .expect("option");
    assert_eq!(res.status(), 200);
    assert_eq!(token_of(&app.device_token(&device, None).await.1), first);

    // At half-life: a new token with the new lifetime.
    app.clock.advance(Duration::seconds(1));
    let second = token_of(&app.device_token(&device, None).await.1);
    assert_ne!(second, first);
    let c2 = claims(&second);
    assert_eq!(c2["exp"].as_i64().expect("exp") - c2["iat"].as_i64().expect("iat"), 600);

    // Its own half-life (300 s) governs the next renewal.
    app.clock.advance(Duration::seconds(299));
    assert_eq!(token_of(&app.device_token(&device, None).await.1), second);
    app.clock.advance(Duration::seconds(1));
    assert_ne!(token_of(&app.device_token(&device, None).await.1), second);
}

#[tokio::test]
async fn the_token_authenticates_the_device_until_logout_and_never_reaches_admin_apis() {
    let app = TestApp::spawn().await;
    let root = Ca::root("Bearer Root");
    app.trust(&root, "ENABLED", true).await;
    let token = token_of(&app.device_token(&root.device("bearer-1"), None).await.1);

    let me = app.client.get(app.url("/user/currentUser")).bearer_auth(&token).send().await.expect("me");
    let (status, body) = json(me).await;
    assert_eq!((status, body["userName"].as_str()), (200, Some("device_bearer-1")));

    for (method, path) in [
        (Method::GET, format!("/tenant/tenants/{TENANT}/trusted-certificates")),
        (Method::POST, format!("/tenant/tenants/{TENANT}/trusted-certificates")),
        (Method::GET, "/tenant/options".to_string()),
        (Method::PUT, "/tenant/options/oauth.internal/device-token.lifespan.seconds".to_string()),
    ] {
        let res = app
            .client
            .request(method.clone(), app.url(&path))
            .bearer_auth(&token)
            .json(&json!({}))
            .send()
            .await
            .expect("admin");
        assert_error(res, 403, "security/Forbidden", "Access is denied").await;
    }

    let res = app.client.post(app.url("/user/logout")).bearer_auth(&token).send().await.expect("logout");
    assert_eq!(res.status(), 204);
    let res = app.client.get(app.url("/user/currentUser")).bearer_auth(&token).send().await.expect("me");
    assert_error(res, 401, "security/Unauthorized", "Invalid token: it was revoked.").await;

    // And an expired token is refused by the server's clock.
    let fresh = token_of(&app.device_token(&root.device("bearer-2"), None).await.1);
    app.clock.advance(Duration::seconds(3600));
    let res = app.client.get(app.url("/user/currentUser")).bearer_auth(&fresh).send().await.expect("me");
    assert_error(res, 401, "security/Unauthorized", "Invalid token: the token has expired.").await;
}

#[tokio::test]
async fn tokens_verify_with_the_published_jwks_and_the_key_survives_a_restart() {
    let mut app = TestApp::spawn().await;
    let root = Ca::root("Jwks Root");
    app.trust(&root, "ENABLED", true).await;
    let token = token_of(&app.device_token(&root.device("jwks-1"), None).await.1);
    let (status, jwks) = json(app.client.get(app.url("/.well-known/jwks.json")).send().await.expect("jwks")).await;
    assert_eq!(status, 200);
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str()),
        (Some("EC"), Some("P-256"), Some("ES256"))
    );

    // Another instance on the same database (a restart here) accepts the token.
    app.restart(Some(PASSWORD)).await;
    let res = app.client.get(app.url("/user/currentUser")).bearer_auth(&token).send().await.expect("me");
    assert_eq!(res.status(), 200);
    let (_, again) = json(app.client.get(app.url("/.well-known/jwks.json")).send().await.expect("jwks")).await;
    assert_eq!(again, jwks);
}
