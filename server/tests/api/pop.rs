//! `/tenant/tenants/{tenantId}/trusted-certificates-pop/{fingerprint}/…`: proof of possession
//! of a trusted certificate's private key, signed by the openssl CLI exactly as the platform's
//! docs (and the console) tell users to, with keys openssl makes at test time; the platform's
//! messages and statuses; the admin's override; and the tenant option that makes a proof a
//! condition of enabling.

use std::path::Path;

use anchorage_common::pop::{self, EcCurve, KeyKind};
use anchorage_server::clock::Clock as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::{Value, json};
use time::Duration;

use crate::support::local_and_proxied;
use crate::support::*;

/// Runs openssl in `dir`, asserting success.
fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl").current_dir(dir).args(args).output().expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A self-signed CA made by `openssl req -x509` with the key options `newkey`; its key is
/// `<dir>/<name>.key`. Returns the certificate's PEM.
fn openssl_ca(dir: &Path, name: &str, newkey: &[&str]) -> String {
    let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
    let subject = format!("/O=anchorage tests/CN={name}");
    let mut args = vec!["req", "-x509"];
    args.extend_from_slice(newkey);
    args.extend_from_slice(&["-nodes", "-keyout", &key, "-out", &pem, "-days", "30", "-subj", &subject]);
    args.extend_from_slice(&["-addext", "basicConstraints=critical,CA:true"]);
    openssl(dir, &args);
    std::fs::read_to_string(dir.join(pem)).expect("read")
}

const RSA: &[&str] = &["-newkey", "rsa:2048"];
const P256: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
const P384: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"];
const P521: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"];
const ED25519: &[&str] = &["-newkey", "ed25519"];

/// Writes `code` to `<dir>/<name>.txt` without a trailing newline (as the console's download
/// does) and signs it with `<dir>/<name>.key` by running the line the console shows for
/// `kind`. Returns openssl's output: one line of base64.
fn sign(dir: &Path, name: &str, kind: KeyKind, code: &str) -> String {
    let code_file = format!("{name}.txt");
    std::fs::write(dir.join(&code_file), code).expect("write code");
    let line = pop::openssl_sign_command(kind, &code_file, &format!("{name}.key"));
    let out = std::process::Command::new("sh").current_dir(dir).args(["-c", &line]).output().expect("sh runs");
    assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("base64 is ASCII")
}

fn pop_url(app: &TestApp, fingerprint: &str, what: &str) -> String {
    app.url(&format!("/tenant/tenants/{TENANT}/trusted-certificates-pop/{fingerprint}/{what}"))
}

/// `POST …/verification-code` as the admin, with no body (as `@c8y/client` sends it).
async fn generate(app: &TestApp, fingerprint: &str) -> Value {
    let res = app
        .admin(Method::POST, &pop_url(app, fingerprint, "verification-code"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .send()
        .await
        .expect("post");
    let (status, body) = json(res).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn prove(app: &TestApp, fingerprint: &str, signed: &str) -> reqwest::Response {
    app.admin(Method::POST, &pop_url(app, fingerprint, "pop"))
        .json(&json!({"proofOfPossessionSignedVerificationCode": signed}))
        .send()
        .await
        .expect("post")
}

async fn get(app: &TestApp, fingerprint: &str) -> Value {
    let (status, body) =
        json(app.admin(Method::GET, &format!("{}/{fingerprint}", app.certs_url())).send().await.expect("get")).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Uploads `pem` DISABLED (named `name`) and returns its fingerprint.
async fn upload(app: &TestApp, name: &str, pem: &str) -> String {
    let res = app.create(&body(name, pem, "DISABLED")).await;
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
    fingerprint(pem)
}

async fn audit_records(app: &TestApp) -> Vec<Value> {
    let (_, body) = json(
        app.admin(Method::GET, &app.url("/audit/auditRecords?pageSize=2000&type=Tenant")).send().await.expect("audit"),
    )
    .await;
    body["auditRecords"].as_array().cloned().unwrap_or_default()
}

local_and_proxied!(an_openssl_signature_of_the_code_proves_possession_for_rsa_ec_and_ed25519_keys, app, {
    let dir = tempfile::tempdir().expect("tmp");
    let cases = [
        ("pop-rsa", RSA, KeyKind::Rsa),
        ("pop-p256", P256, KeyKind::Ecdsa(EcCurve::P256)),
        ("pop-p384", P384, KeyKind::Ecdsa(EcCurve::P384)),
        ("pop-p521", P521, KeyKind::Ecdsa(EcCurve::P521)),
        ("pop-ed25519", ED25519, KeyKind::Ed25519),
    ];
    let pems: Vec<String> = cases.iter().map(|(name, newkey, _)| openssl_ca(dir.path(), name, newkey)).collect();
    // openssl dates its certificates from the second it makes them; the server's clock stands
    // still from the start of the test.
    app.clock.advance(Duration::minutes(1));
    for ((name, _, kind), pem) in cases.iter().zip(&pems) {
        assert_eq!(pop::key_kind_of(pem), *kind, "{name}");
        let fp = upload(&app, name, pem).await;
        let fresh = get(&app, &fp).await;
        assert_eq!(fresh["proofOfPossessionValid"], false, "{fresh}");
        assert!(fresh.get("proofOfPossessionUnsignedVerificationCode").is_none(), "{fresh}");

        let c = generate(&app, &fp).await;
        // The full certificate, with a code of 96 random bytes in base64 (128 characters)
        // usable for an hour.
        assert_eq!((c["fingerprint"].as_str(), c["name"].as_str()), (Some(fp.as_str()), Some(*name)));
        assert_eq!(c["proofOfPossessionValid"], false);
        let code = c["proofOfPossessionUnsignedVerificationCode"].as_str().expect("code").to_string();
        assert_eq!(code.len(), 128, "{code}");
        assert_eq!(STANDARD.decode(&code).expect("base64").len(), 96);
        let until = anchorage_common::timefmt::platform(app.clock.now() + Duration::hours(1));
        assert_eq!(c["proofOfPossessionVerificationCodeUsableUntil"], until.as_str());
        assert_eq!(get(&app, &fp).await["proofOfPossessionUnsignedVerificationCode"], code.as_str());

        let signed = sign(dir.path(), name, *kind, &code);
        let (status, proven) = json(prove(&app, &fp, &signed).await).await;
        assert_eq!(status, 200, "{name}: {proven}");
        assert_eq!(proven["proofOfPossessionValid"], true, "{proven}");
        assert_eq!(proven["fingerprint"], fp.as_str());
        // The code is used once.
        assert!(proven.get("proofOfPossessionUnsignedVerificationCode").is_none(), "{proven}");
        assert_eq!(get(&app, &fp).await["proofOfPossessionValid"], true);
    }
    let (_, list) = json(app.admin(Method::GET, &app.certs_url()).send().await.expect("list")).await;
    let proven: Vec<&Value> =
        list["certificates"].as_array().expect("list").iter().map(|c| &c["proofOfPossessionValid"]).collect();
    assert_eq!(proven, [&json!(true); 5]);
    let verified = audit_records(&app)
        .await
        .iter()
        .filter(|r| r["activity"] == "Trusted certificate proof of possession verified")
        .count();
    assert_eq!(verified, 5);
});

#[tokio::test]
async fn a_wrong_signature_is_400_with_the_platforms_message_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("tmp");
    let pem = openssl_ca(dir.path(), "wrong", P256);
    openssl_ca(dir.path(), "other", P256);
    app.clock.advance(Duration::minutes(1));
    let fp = upload(&app, "wrong", &pem).await;
    let code =
        generate(&app, &fp).await["proofOfPossessionUnsignedVerificationCode"].as_str().expect("code").to_string();
    let message = format!(
        "Wrong proof of possession verification code used for tenant {TENANT}. Certificate {fp}, usage not granted."
    );
    let kind = KeyKind::Ecdsa(EcCurve::P256);
    let cases = [
        // The code signed by another key.
        sign(dir.path(), "other", kind, &code),
        // Another text signed by the right key (the code with a trailing newline, as an editor
        // would save it).
        sign(dir.path(), "wrong", kind, &format!("{code}\n")),
        // Base64 that is no signature at all.
        STANDARD.encode(b"not a signature"),
    ];
    for signed in cases {
        let b = assert_error(prove(&app, &fp, &signed).await, 400, "tenant/Bad Request", "").await;
        assert_eq!(b["message"], message.as_str());
    }
    let c = get(&app, &fp).await;
    assert_eq!(c["proofOfPossessionValid"], false);
    assert_eq!(c["proofOfPossessionUnsignedVerificationCode"], code.as_str());

    // A code regenerated replaces the earlier one: a signature of the earlier one is wrong.
    let new_code =
        generate(&app, &fp).await["proofOfPossessionUnsignedVerificationCode"].as_str().expect("code").to_string();
    assert_ne!(new_code, code);
    let old_signed = sign(dir.path(), "wrong", kind, &code);
    let b = assert_error(prove(&app, &fp, &old_signed).await, 400, "tenant/Bad Request", "").await;
    assert_eq!(b["message"], message.as_str());
    // The signed text pasted with line breaks and spaces around it is read.
    let signed = sign(dir.path(), "wrong", kind, &new_code);
    let wrapped = format!("\n  {}\r\n{}\n", &signed[..40], &signed[40..]);
    assert_eq!(json(prove(&app, &fp, &wrapped).await).await.1["proofOfPossessionValid"], true);
    let refusals = audit_records(&app)
        .await
        .iter()
        .filter(|r| r["activity"] == "Trusted certificate proof of possession refused" && r["severity"] == "warning")
        .count();
    assert_eq!(refusals, 4);
}

#[tokio::test]
async fn an_expired_code_is_422_with_the_platforms_message() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("tmp");
    let pem = openssl_ca(dir.path(), "late", RSA);
    app.clock.advance(Duration::minutes(1));
    let fp = upload(&app, "late", &pem).await;
    let code =
        generate(&app, &fp).await["proofOfPossessionUnsignedVerificationCode"].as_str().expect("code").to_string();
    let signed = sign(dir.path(), "late", KeyKind::Rsa, &code);
    app.clock.advance(Duration::seconds(pop::CODE_TTL_SECONDS + 1));
    let b = assert_error(prove(&app, &fp, &signed).await, 422, "tenant/Unprocessable Entity", "").await;
    assert_eq!(
        b["message"],
        format!(
            "Proof of possession verification code used for tenant {TENANT} expired. Certificate {fp}, usage not granted."
        )
    );
    // The expired code is still shown, with its date; a new one can be proven.
    let c = get(&app, &fp).await;
    assert_eq!(
        (c["proofOfPossessionValid"].as_bool(), c["proofOfPossessionUnsignedVerificationCode"].as_str()),
        (Some(false), Some(code.as_str()))
    );
    let code =
        generate(&app, &fp).await["proofOfPossessionUnsignedVerificationCode"].as_str().expect("code").to_string();
    app.clock.advance(Duration::seconds(pop::CODE_TTL_SECONDS - 1));
    let signed = sign(dir.path(), "late", KeyKind::Rsa, &code);
    assert_eq!(json(prove(&app, &fp, &signed).await).await.1["proofOfPossessionValid"], true);
}

#[tokio::test]
async fn an_unknown_fingerprint_is_404_with_the_platforms_message_on_every_endpoint() {
    let app = TestApp::spawn().await;
    let fp = "0123456789abcdef0123456789abcdef01234567";
    for what in ["verification-code", "pop", "confirmed"] {
        let res = app
            .admin(Method::POST, &pop_url(&app, fp, what))
            .json(&json!({"proofOfPossessionSignedVerificationCode": "AQID"}))
            .send()
            .await
            .expect("post");
        let b = assert_error(res, 404, "tenant/Not Found", "").await;
        assert_eq!(b["message"], format!("Cannot find certificate with fingerprint {fp}."), "{what}");
    }
    // Another tenant's path is not found either.
    let res = app
        .admin(Method::POST, &app.url(&format!("/tenant/tenants/t0/trusted-certificates-pop/{fp}/verification-code")))
        .send()
        .await
        .expect("post");
    assert_error(res, 404, "tenant/Not Found", "Tenant with id t0 not found.").await;
}

#[tokio::test]
async fn proofs_that_cannot_be_read_or_come_before_a_code_are_refused_in_words() {
    let app = TestApp::spawn().await;
    let pem = ca_pem("Early");
    let fp = upload(&app, "early", &pem).await;
    // No code yet.
    let b = assert_error(prove(&app, &fp, "AQID").await, 422, "tenant/Unprocessable Entity", "").await;
    assert_eq!(b["message"], pop::no_code_message(TENANT, &fp).as_str());
    generate(&app, &fp).await;
    for (signed, message) in [
        ("  \n", "proofOfPossessionSignedVerificationCode is empty"),
        ("not base64!", "proofOfPossessionSignedVerificationCode is not base64"),
        ("AQ-_", "proofOfPossessionSignedVerificationCode is not base64"),
    ] {
        assert_error(prove(&app, &fp, signed).await, 400, "tenant/Bad Request", message).await;
    }
    let long = "A".repeat(pop::MAX_SIGNATURE_TEXT_BYTES + 1);
    assert_error(
        prove(&app, &fp, &long).await,
        400,
        "tenant/Bad Request",
        "proofOfPossessionSignedVerificationCode is too long",
    )
    .await;
    let large = STANDARD.encode(vec![1u8; pop::MAX_SIGNATURE_BYTES + 1]);
    assert_error(
        prove(&app, &fp, &large).await,
        400,
        "tenant/Bad Request",
        "proofOfPossessionSignedVerificationCode decodes to 1025 bytes",
    )
    .await;
    for body in [json!({}), json!({"proofOfPossessionSignedVerificationCode": 12})] {
        let res = app.admin(Method::POST, &pop_url(&app, &fp, "pop")).json(&body).send().await.expect("post");
        assert_error(res, 422, "tenant/Unprocessable Entity", "proofOfPossessionSignedVerificationCode ").await;
    }
    assert_eq!(get(&app, &fp).await["proofOfPossessionValid"], false);
}

#[tokio::test]
async fn an_admin_may_confirm_without_a_signature_and_it_is_audited_as_an_override() {
    let app = TestApp::spawn().await;
    let pem = ca_pem("Confirmed");
    let fp = upload(&app, "confirmed", &pem).await;
    generate(&app, &fp).await;
    let res = app.admin(Method::POST, &pop_url(&app, &fp, "confirmed")).send().await.expect("post");
    let (status, c) = json(res).await;
    assert_eq!((status, c["proofOfPossessionValid"].as_bool()), (200, Some(true)), "{c}");
    assert!(c.get("proofOfPossessionUnsignedVerificationCode").is_none(), "{c}");
    assert_eq!(get(&app, &fp).await["proofOfPossessionValid"], true);
    let records = audit_records(&app).await;
    let r = records
        .iter()
        .find(|r| r["activity"] == "Trusted certificate proof of possession confirmed")
        .expect("override audited");
    assert_eq!((r["user"].as_str(), r["severity"].as_str()), (Some(ADMIN), Some("warning")));
    assert!(r["text"].as_str().is_some_and(|t| t.contains("without a signature (override)") && t.contains(&fp)), "{r}");
    assert_eq!(r["anchorage_Details"]["override"], true, "{r}");
}

#[tokio::test]
async fn readers_see_the_state_but_neither_the_code_nor_the_actions() {
    let app = TestApp::spawn().await;
    let res = app
        .admin(Method::POST, &app.url(&format!("/user/{TENANT}/users")))
        .json(&json!({"userName": "rita", "password": "rita-password-1", "role": "reader"}))
        .send()
        .await
        .expect("create user");
    assert_eq!(res.status(), 201);
    let pem = ca_pem("Read only");
    let fp = upload(&app, "read only", &pem).await;
    generate(&app, &fp).await;
    let reader = |method: Method, url: &str| {
        app.client.request(method, url).basic_auth(format!("{TENANT}/rita"), Some("rita-password-1"))
    };
    for what in ["verification-code", "pop", "confirmed"] {
        let res = reader(Method::POST, &pop_url(&app, &fp, what))
            .json(&json!({"proofOfPossessionSignedVerificationCode": "AQID"}))
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 403, "{what}");
    }
    let (_, one) = json(reader(Method::GET, &format!("{}/{fp}", app.certs_url())).send().await.expect("get")).await;
    let (_, list) = json(reader(Method::GET, &app.certs_url()).send().await.expect("list")).await;
    for c in [&one, &list["certificates"][0]] {
        assert_eq!(c["proofOfPossessionValid"], false, "{c}");
        assert!(c.get("proofOfPossessionUnsignedVerificationCode").is_none(), "{c}");
        assert!(c.get("proofOfPossessionVerificationCodeUsableUntil").is_none(), "{c}");
    }
    // Nothing changed: the admin still sees the code, unproven.
    let c = get(&app, &fp).await;
    assert!(c["proofOfPossessionUnsignedVerificationCode"].is_string());
    assert_eq!(c["proofOfPossessionValid"], false);
}

#[tokio::test]
async fn with_the_required_option_a_certificate_is_enabled_only_after_its_proof() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("tmp");
    let pem = openssl_ca(dir.path(), "gated", ED25519);
    let before_option = ca_pem("Enabled before");
    app.clock.advance(Duration::minutes(1));
    assert_eq!(app.create(&body("old", &before_option, "ENABLED")).await.status(), 201);

    let res = app
        .admin(Method::PUT, &app.url("/tenant/options/configuration/trusted-certificates.pop.required.enabled"))
        .json(&json!({"value": "true"}))
        .send()
        .await
        .expect("put option");
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let fp = fingerprint(&pem);
    let option = "configuration/trusted-certificates.pop.required.enabled";

    // Create ENABLED, single or in bulk: refused, naming the option; nothing stored.
    let b =
        assert_error(app.create(&body("gated", &pem, "ENABLED")).await, 422, "tenant/Unprocessable Entity", "").await;
    assert_eq!(b["message"], pop::enable_refused_message(&fp, true).as_str());
    assert!(b["message"].as_str().is_some_and(|m| m.contains(option)));
    let other = ca_pem("Bulk other");
    let res = app
        .admin(Method::POST, &format!("{}/bulk", app.certs_url()))
        .json(&json!({"certificates": [body("a", &other, "DISABLED"), body("b", &pem, "ENABLED")]}))
        .send()
        .await
        .expect("bulk");
    let b = assert_error(res, 422, "tenant/Unprocessable Entity", "Certificate 2 of 2: Cannot add certificate ").await;
    assert!(b["message"].as_str().is_some_and(|m| m.contains(option)), "{b}");
    let (_, list) = json(app.admin(Method::GET, &app.certs_url()).send().await.expect("list")).await;
    assert_eq!(list["certificates"].as_array().map(Vec::len), Some(1));

    // DISABLED is fine; enabling is refused until the proof.
    upload(&app, "gated", &pem).await;
    let one = format!("{}/{fp}", app.certs_url());
    let res = app.admin(Method::PUT, &one).json(&json!({"status": "ENABLED"})).send().await.expect("put");
    let b = assert_error(res, 422, "tenant/Unprocessable Entity", "").await;
    assert_eq!(b["message"], pop::enable_refused_message(&fp, false).as_str());
    assert_eq!(get(&app, &fp).await["status"], "DISABLED");
    // Other changes are not affected.
    let res = app.admin(Method::PUT, &one).json(&json!({"name": "renamed", "status": "DISABLED"})).send().await;
    assert_eq!(res.expect("put").status(), 200);

    let code =
        generate(&app, &fp).await["proofOfPossessionUnsignedVerificationCode"].as_str().expect("code").to_string();
    let signed = sign(dir.path(), "gated", KeyKind::Ed25519, &code);
    assert_eq!(json(prove(&app, &fp, &signed).await).await.1["proofOfPossessionValid"], true);
    let (status, c) =
        json(app.admin(Method::PUT, &one).json(&json!({"status": "ENABLED"})).send().await.expect("put")).await;
    assert_eq!((status, c["status"].as_str()), (200, Some("ENABLED")), "{c}");

    // A certificate ENABLED before the option was turned on stays enabled, and may be sent
    // `status: ENABLED` again (as clients that send the whole object do).
    let old_fp = fingerprint(&before_option);
    assert_eq!(get(&app, &old_fp).await["status"], "ENABLED");
    let res = app
        .admin(Method::PUT, &format!("{}/{old_fp}", app.certs_url()))
        .json(&json!({"status": "ENABLED", "name": "old, still enabled"}))
        .send()
        .await
        .expect("put");
    assert_eq!(res.status(), 200);
    // Disabled, it cannot come back without a proof.
    let res = app
        .admin(Method::PUT, &format!("{}/{old_fp}", app.certs_url()))
        .json(&json!({"status": "DISABLED"}))
        .send()
        .await;
    assert_eq!(res.expect("put").status(), 200);
    let res = app
        .admin(Method::PUT, &format!("{}/{old_fp}", app.certs_url()))
        .json(&json!({"status": "ENABLED"}))
        .send()
        .await;
    assert_eq!(res.expect("put").status(), 422);

    // Turned off, the option no longer gates.
    let res = app
        .admin(Method::PUT, &app.url("/tenant/options/configuration/trusted-certificates.pop.required.enabled"))
        .json(&json!({"value": "false"}))
        .send()
        .await
        .expect("put option");
    assert_eq!(res.status(), 200);
    let res = app
        .admin(Method::PUT, &format!("{}/{old_fp}", app.certs_url()))
        .json(&json!({"status": "ENABLED"}))
        .send()
        .await;
    assert_eq!(res.expect("put").status(), 200);
}
