//! `/tenant/tenants/{tenantId}/trusted-certificates`: every status code and error body the
//! platform documents, computed fields, paging, all-or-nothing bulk, and persistence.

use anchorage_common::pem;
use rcgen::{BasicConstraints, IsCa};
use reqwest::Method;
use serde_json::{Value, json};
use time::Duration;

use crate::support::local_and_proxied;
use crate::support::*;

local_and_proxied!(create_answers_201_with_every_field_computed_as_the_platform_does, app, {
    let pem_text = ca_pem("Fields CA");
    let der = pem::decode_certificates(&pem_text).expect("pem").remove(0);
    let res = app.create(&json!({"name": "Fields", "certInPemFormat": pem_text, "status": "ENABLED", "autoRegistrationEnabled": true})).await;
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
    let (status, c) = json(res).await;
    assert_eq!(status, 201, "{c}");
    let fp = fingerprint(&pem_text);
    assert_eq!(c["fingerprint"], fp.as_str());
    assert_eq!(c["name"], "Fields");
    assert_eq!(c["status"], "ENABLED");
    assert_eq!(c["autoRegistrationEnabled"], true);
    assert_eq!(c["version"], 3);
    assert_eq!(c["algorithmName"], "SHA256withECDSA");
    assert_eq!(c["subject"], "CN=Fields CA, O=anchorage tests");
    assert_eq!(c["issuer"], "CN=Fields CA, O=anchorage tests");
    assert_eq!(c["certInPemFormat"], pem::to_single_line_base64(&der).as_str());
    let info = anchorage_common::cert::inspect(&der, now()).expect("parses").info;
    assert_eq!(c["serialNumber"], info.serial_number.as_str());
    assert!(c["serialNumber"].as_str().is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit())));
    for field in ["notBefore", "notAfter"] {
        let v = c[field].as_str().expect("date");
        assert!(v.len() == 24 && v.ends_with(".000Z") && v.as_bytes()[10] == b'T', "{field} = {v}");
    }
    // Links name the server that made them (behind a proxy: the upstream, unchanged).
    let self_path = format!("/tenant/tenants/{TENANT}/trusted-certificates/{fp}");
    assert!(c["self"].as_str().is_some_and(|s| s.starts_with("http") && s.ends_with(&self_path)), "{c}");
    assert_eq!(location.as_deref(), c["self"].as_str());
});

local_and_proxied!(bare_base64_input_and_string_booleans_are_accepted_and_name_defaults_to_the_cn, app, {
    let pem_text = ca_pem("Base64 CA");
    let b64 = pem::to_single_line_base64(&pem::decode_certificates(&pem_text).expect("pem").remove(0));
    let (status, c) = json(
        app.create(&json!({"certInPemFormat": b64, "status": "DISABLED", "autoRegistrationEnabled": "true"})).await,
    )
    .await;
    assert_eq!(status, 201, "{c}");
    assert_eq!((c["name"].as_str(), c["autoRegistrationEnabled"].as_bool()), (Some("Base64 CA"), Some(true)));
});

local_and_proxied!(duplicate_is_409_with_the_platform_message, app, {
    let pem_text = ca_pem("Twice");
    assert_eq!(app.create(&body("a", &pem_text, "ENABLED")).await.status(), 201);
    let fp = fingerprint(&pem_text);
    let b = assert_error(app.create(&body("b", &pem_text, "DISABLED")).await, 409, "tenant/Conflict", "").await;
    assert_eq!(
        b["message"],
        format!(
            "Cannot add certificate - certificate with {fp} fingerprint already exists. : Certificate with {fp} fingerprint already exists."
        )
    );
});

local_and_proxied!(unacceptable_certificates_are_422_with_the_reason_and_nothing_is_stored, app, {
    let mut expired = params("old", IsCa::Ca(BasicConstraints::Unconstrained));
    expired.not_before = now() - Duration::days(10);
    expired.not_after = now() - Duration::days(1);
    let mut future = params("future", IsCa::Ca(BasicConstraints::Unconstrained));
    future.not_before = now() + Duration::days(1);
    let cases = [
        (
            self_signed_pem(params("leaf", IsCa::ExplicitNoCa)),
            "Cannot add certificate - its BasicConstraints say CA:false",
        ),
        (self_signed_pem(params("no-bc", IsCa::NoCa)), "Cannot add certificate - it has no BasicConstraints extension"),
        (self_signed_pem(expired), "Cannot add certificate - it expired on "),
        (self_signed_pem(future), "Cannot add certificate - it is not valid before "),
        (
            ca_with_unknown_critical_extension(),
            "Cannot add certificate - it has a critical extension anchorage does not understand (1.3.6.1.4.1.55555.7)",
        ),
        ("not a certificate".to_string(), "Cannot parse X509 certificate. : Could not parse certificate: "),
        (
            "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n".to_string(),
            "Cannot parse X509 certificate. : Could not parse certificate: this is not a certificate (its DER could not be read)",
        ),
    ];
    for (pem_text, message) in cases {
        assert_error(app.create(&body("x", &pem_text, "ENABLED")).await, 422, "tenant/Unprocessable Entity", message)
            .await;
    }
    let (_, list) = json(app.admin(Method::GET, &app.certs_url()).send().await.expect("list")).await;
    assert_eq!(list["certificates"], json!([]));
});

local_and_proxied!(a_version_1_certificate_is_422, app, {
    let dir = tempfile::tempdir().expect("tmp");
    let run = |args: &[&str]| openssl(dir.path(), args);
    run(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "k.pem",
        "-subj",
        "/CN=v1",
        "-out",
        "r.csr",
    ]);
    run(&["x509", "-req", "-in", "r.csr", "-signkey", "k.pem", "-days", "2", "-out", "v1.pem"]);
    let v1 = std::fs::read_to_string(dir.path().join("v1.pem")).expect("read");
    assert_error(
        app.create(&body("v1", &v1, "ENABLED")).await,
        422,
        "tenant/Unprocessable Entity",
        "Cannot add certificate - it is X.509 version 1",
    )
    .await;
});

local_and_proxied!(malformed_requests_get_clear_errors, app, {
    let pem_text = ca_pem("Fields");
    let cases = [
        (json!({"name": "x", "status": "ENABLED"}), "certInPemFormat is required"),
        (json!({"name": "x", "certInPemFormat": pem_text}), "status is required"),
        (
            json!({"name": "x", "certInPemFormat": pem_text, "status": "ON"}),
            "status must be \"ENABLED\" or \"DISABLED\"",
        ),
        (
            json!({"name": "x", "certInPemFormat": pem_text, "status": "ENABLED", "autoRegistrationEnabled": 3}),
            "autoRegistrationEnabled must be true or false",
        ),
        (json!({"name": "", "certInPemFormat": pem_text, "status": "ENABLED"}), "name must not be empty"),
        (json!("just a string"), "Invalid request body"),
    ];
    for (b, message) in cases {
        assert_error(app.create(&b).await, 422, "", message).await;
    }
    let res = app
        .admin(Method::POST, &app.certs_url())
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_error(res, 400, "general/Bad Request", "Malformed JSON").await;
    let res = app
        .admin(Method::POST, &app.certs_url())
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_error(res, 415, "general/Unsupported Media Type", "Send the body as JSON").await;
    let huge = json!({"name": "x", "certInPemFormat": "A".repeat(1024 * 1024 + 1), "status": "ENABLED"});
    assert_error(
        app.create(&huge).await,
        413,
        "general/Payload Too Large",
        "The request body is larger than the limit of 1048576 bytes",
    )
    .await;
});

local_and_proxied!(bulk_create_is_201_and_all_or_nothing, app, {
    let bulk = app.url(&format!("/tenant/tenants/{TENANT}/trusted-certificates/bulk"));
    let (a, b, c) = (ca_pem("Bulk A"), ca_pem("Bulk B"), ca_pem("Bulk C"));
    let res = app
        .admin(Method::POST, &bulk)
        .json(&json!({"certificates": [body("A", &a, "ENABLED"), body("B", &b, "DISABLED")]}))
        .send()
        .await
        .expect("request");
    let (status, created) = json(res).await;
    assert_eq!(status, 201, "{created}");
    let names: Vec<&str> =
        created["certificates"].as_array().expect("array").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["A", "B"]);

    // One bad entry: 422 naming it, and the good one is not stored either.
    let leaf = self_signed_pem(params("leaf", IsCa::ExplicitNoCa));
    let res = app
        .admin(Method::POST, &bulk)
        .json(&json!({"certificates": [body("C", &c, "ENABLED"), body("leaf", &leaf, "ENABLED")]}))
        .send()
        .await
        .expect("request");
    assert_error(
        res,
        422,
        "tenant/Unprocessable Entity",
        "Certificate 2 of 2: Cannot add certificate - its BasicConstraints say CA:false",
    )
    .await;
    // A duplicate (already stored): 409, and the new one is rolled back.
    let res = app
        .admin(Method::POST, &bulk)
        .json(&json!({"certificates": [body("C", &c, "ENABLED"), body("A again", &a, "ENABLED")]}))
        .send()
        .await
        .expect("request");
    assert_error(
        res,
        409,
        "tenant/Conflict",
        &format!("Cannot add certificate - certificate with {} fingerprint", fingerprint(&a)),
    )
    .await;
    // The same certificate twice in one request: 409.
    let res = app
        .admin(Method::POST, &bulk)
        .json(&json!({"certificates": [body("C", &c, "ENABLED"), body("C2", &c, "ENABLED")]}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 409);
    let res = app.admin(Method::POST, &bulk).json(&json!({"certificates": []})).send().await.expect("request");
    assert_error(res, 422, "tenant/Unprocessable Entity", "certificates must hold at least one").await;

    let (_, list) =
        json(app.admin(Method::GET, &format!("{}?pageSize=100", app.certs_url())).send().await.expect("list")).await;
    assert_eq!(list["certificates"].as_array().map(Vec::len), Some(2), "{list}");
});

local_and_proxied!(get_update_and_delete_by_fingerprint, app, {
    let pem_text = ca_pem("Lifecycle");
    let fp = fingerprint(&pem_text);
    assert_eq!(app.create(&body("Life", &pem_text, "DISABLED")).await.status(), 201);
    let one = format!("{}/{fp}", app.certs_url());

    let (status, c) = json(app.admin(Method::GET, &one).send().await.expect("get")).await;
    assert_eq!((status, c["status"].as_str()), (200, Some("DISABLED")));
    // Fingerprints are matched case-insensitively.
    let upper = format!("{}/{}", app.certs_url(), fp.to_uppercase());
    assert_eq!(app.admin(Method::GET, &upper).send().await.expect("get").status(), 200);

    // The platform UI sends the fingerprint back; docs send booleans as strings; read-only
    // fields are ignored.
    for (patch, field, want) in [
        (json!({"fingerprint": fp, "status": "ENABLED"}), "status", json!("ENABLED")),
        (json!({"fingerprint": fp, "autoRegistrationEnabled": "true"}), "autoRegistrationEnabled", json!(true)),
        (json!({"fingerprint": fp, "autoRegistrationEnabled": false}), "autoRegistrationEnabled", json!(false)),
        (
            json!({"fingerprint": fp, "name": "Renamed", "subject": "CN=ignored", "certInPemFormat": "ignored"}),
            "name",
            json!("Renamed"),
        ),
    ] {
        let (status, c) = json(app.admin(Method::PUT, &one).json(&patch).send().await.expect("put")).await;
        assert_eq!((status, &c[field]), (200, &want), "{patch} → {c}");
        assert_eq!(c["subject"], "CN=Lifecycle, O=anchorage tests");
    }
    let (_, c) = json(app.admin(Method::GET, &one).send().await.expect("get")).await;
    assert_eq!(
        (c["name"].as_str(), c["status"].as_str(), c["autoRegistrationEnabled"].as_bool()),
        (Some("Renamed"), Some("ENABLED"), Some(false))
    );

    let res = app.admin(Method::PUT, &one).json(&json!({"status": "MAYBE"})).send().await.expect("put");
    assert_error(res, 422, "tenant/Unprocessable Entity", "status must be").await;
    let missing = format!("{}/{}", app.certs_url(), "0".repeat(40));
    let res = app.admin(Method::PUT, &missing).json(&json!({"name": "x"})).send().await.expect("put");
    assert_error(
        res,
        404,
        "tenant/Not Found",
        &format!("Cannot find certificate with fingerprint {}.", "0".repeat(40)),
    )
    .await;

    let res = app.admin(Method::DELETE, &one).send().await.expect("delete");
    assert_eq!(res.status(), 204);
    assert!(res.bytes().await.expect("body").is_empty());
    assert_error(
        app.admin(Method::GET, &one).send().await.expect("get"),
        404,
        "tenant/Not Found",
        &format!("Cannot find certificate with fingerprint {fp}."),
    )
    .await;
    assert_eq!(app.admin(Method::DELETE, &one).send().await.expect("delete").status(), 404);
});

local_and_proxied!(paging_follows_the_platform_envelope, app, {
    let mut fps = Vec::new();
    for i in 0..7 {
        let p = ca_pem(&format!("Page {i}"));
        fps.push(fingerprint(&p));
        assert_eq!(app.create(&body(&format!("P{i}"), &p, "ENABLED")).await.status(), 201);
    }
    let get = |q: String| {
        let req = app.admin(Method::GET, &format!("{}?{q}", app.certs_url()));
        async move { json(req.send().await.expect("list")).await }
    };
    // Default page size is 5, no totals unless asked.
    let (_, first) = get(String::new()).await;
    assert_eq!(first["statistics"], json!({"currentPage": 1, "pageSize": 5}));
    assert_eq!(first["certificates"].as_array().map(Vec::len), Some(5));
    assert!(first["next"].as_str().is_some_and(|n| n.contains("currentPage=2")), "{first}");
    assert!(first.get("prev").is_none());

    let (_, p2) = get("pageSize=3&currentPage=2&withTotalPages=true&withTotalElements=true".into()).await;
    assert_eq!(p2["statistics"], json!({"currentPage": 2, "pageSize": 3, "totalPages": 3, "totalElements": 7}));
    let got: Vec<&str> =
        p2["certificates"].as_array().expect("a").iter().filter_map(|c| c["fingerprint"].as_str()).collect();
    assert_eq!(got, fps[3..6].iter().map(String::as_str).collect::<Vec<_>>());
    assert!(p2["next"].as_str().is_some_and(|n| n.contains("currentPage=3") && n.contains("pageSize=3")));
    assert!(p2["prev"].as_str().is_some_and(|n| n.contains("currentPage=1")));
    assert!(p2["self"].as_str().is_some_and(|n| n.contains("currentPage=2")));

    let (_, last) = get("pageSize=3&currentPage=3&withTotalPages=true".into()).await;
    assert_eq!(last["certificates"].as_array().map(Vec::len), Some(1));
    assert!(last.get("next").is_none(), "{last}");

    // Above the maximum, the maximum is served.
    let (_, big) = get("pageSize=5000".into()).await;
    assert_eq!(big["statistics"]["pageSize"], 2000);
    for q in ["currentPage=0", "pageSize=-1", "pageSize=abc", "withTotalPages=yes"] {
        let res = app.admin(Method::GET, &format!("{}?{q}", app.certs_url())).send().await.expect("list");
        assert_error(res, 422, "general/Unprocessable Entity", "").await;
    }
    // The platform's CA filter: anchorage has no tenant CA.
    let (_, ca) = get("certificateAuthority=true".into()).await;
    assert_eq!(ca["certificates"], json!([]));
});

local_and_proxied!(another_tenant_path_is_404, app, {
    let res = app.admin(Method::GET, &app.url("/tenant/tenants/t999/trusted-certificates")).send().await.expect("list");
    assert_error(res, 404, "tenant/Not Found", "Tenant with id t999 not found.").await;
});

local_and_proxied!(everything_survives_a_restart, app, {
    let pem_text = ca_pem("Persistent");
    let fp = fingerprint(&pem_text);
    assert_eq!(
        app.create(
            &json!({"name": "Keep", "certInPemFormat": pem_text, "status": "ENABLED", "autoRegistrationEnabled": true})
        )
        .await
        .status(),
        201
    );
    app.restart(Some(PASSWORD)).await;
    let (status, c) =
        json(app.admin(Method::GET, &format!("{}/{fp}", app.certs_url())).send().await.expect("get")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (c["name"].as_str(), c["status"].as_str(), c["autoRegistrationEnabled"].as_bool()),
        (Some("Keep"), Some("ENABLED"), Some(true))
    );
});

local_and_proxied!(validity_is_judged_by_the_server_clock, app, {
    let pem_text = ca_pem("Clocked");
    // Two years on, the certificate (valid one year) has expired.
    app.clock.advance(Duration::days(730));
    assert_error(
        app.create(&body("late", &pem_text, "ENABLED")).await,
        422,
        "tenant/Unprocessable Entity",
        "Cannot add certificate - it expired on",
    )
    .await;
    app.clock.advance(Duration::days(-730));
    let created: Value = json(app.create(&body("now", &pem_text, "ENABLED")).await).await.1;
    assert_eq!(created["name"], "now");
});

/// Runs openssl in `dir`, asserting success.
fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl").current_dir(dir).args(args).output().expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A self-signed CA made by `openssl req -x509` with the key options `newkey` and `extra`
/// options; its key is `<dir>/<name>.key`, its certificate `<dir>/<name>.pem` (returned).
fn openssl_ca(dir: &std::path::Path, name: &str, newkey: &[&str], extra: &[&str]) -> String {
    let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
    let mut args = vec!["req", "-x509"];
    args.extend_from_slice(newkey);
    args.extend_from_slice(&["-nodes", "-keyout", &key, "-out", &pem, "-days", "30", "-subj"]);
    let subject = format!("/O=anchorage tests/CN={name}");
    args.extend_from_slice(&[&subject, "-addext", "basicConstraints=critical,CA:true"]);
    args.extend_from_slice(extra);
    openssl(dir, &args);
    std::fs::read_to_string(dir.join(pem)).expect("read")
}

local_and_proxied!(a_ca_devices_chains_could_not_verify_against_is_422_saying_why, app, {
    let dir = tempfile::tempdir().expect("tmp");
    let weak = openssl_ca(dir.path(), "weak", &["-newkey", "rsa:1024"], &[]);
    let k1 = openssl_ca(dir.path(), "k1", &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp256k1"], &[]);
    let sha1 = openssl_ca(dir.path(), "sha1", &["-newkey", "rsa:2048"], &["-sha1"]);
    // openssl dates its certificates from the second it makes them; the server's clock stands
    // still from the start of the test.
    app.clock.advance(Duration::minutes(1));
    let refused =
        assert_error(app.create(&body("weak", &weak, "ENABLED")).await, 422, "tenant/Unprocessable Entity", "").await;
    assert_eq!(
        refused["message"],
        "Cannot add certificate - its RSA key of 1024 bits is too weak: devices' chains would be refused. \
         Use a key of 2048 bits or more."
    );
    let cases = [
        (
            k1,
            "Cannot add certificate - its elliptic-curve key is on the curve secp256k1, which devices' chain \
             verification does not support: devices' chains would be refused. Use a key on P-256 or P-384 (or P-521).",
        ),
        (
            sha1,
            "Cannot add certificate - it is signed with SHA1withRSA: SHA-1 signatures are no longer secure and \
             devices' chain verification refuses them, so certificates this CA signs the same way would be \
             refused. Re-issue the CA signed with SHA-256 or stronger.",
        ),
    ];
    for (pem_text, message) in cases {
        let refused =
            assert_error(app.create(&body("x", &pem_text, "ENABLED")).await, 422, "tenant/Unprocessable Entity", "")
                .await;
        assert_eq!(refused["message"], message);
    }
    // In a bulk request, the entry is named.
    let bulk = app.url(&format!("/tenant/tenants/{TENANT}/trusted-certificates/bulk"));
    let res = app
        .admin(Method::POST, &bulk)
        .json(&json!({"certificates": [body("ok", &ca_pem("Fine"), "ENABLED"), body("weak", &weak, "ENABLED")]}))
        .send()
        .await
        .expect("request");
    assert_error(
        res,
        422,
        "tenant/Unprocessable Entity",
        "Certificate 2 of 2: Cannot add certificate - its RSA key of 1024 bits is too weak",
    )
    .await;
    let (_, list) = json(app.admin(Method::GET, &app.certs_url()).send().await.expect("list")).await;
    assert_eq!(list["certificates"], json!([]));
});

local_and_proxied!(names_with_control_or_bidirectional_characters_are_refused_and_default_names_are_cleaned, app, {
    let pem_text = ca_pem("Named");
    for (name, message) in [
        (
            "Root\u{202e}AC",
            "name must not contain bidirectional formatting characters (found U+202E, right-to-left override): \
             they make text show in another order than it is written",
        ),
        ("a\u{2066}b\u{2069}", "name must not contain bidirectional formatting characters (found U+2066"),
        ("\u{200f}CA", "name must not contain bidirectional formatting characters (found U+200F"),
        ("two\nlines", "name must not contain control characters or line breaks (found U+000A)"),
        ("tab\there", "name must not contain control characters or line breaks (found U+0009)"),
        ("line\u{2028}separator", "name must not contain control characters or line breaks (found U+2028)"),
    ] {
        let b = json!({"name": name, "certInPemFormat": pem_text, "status": "ENABLED"});
        assert_error(app.create(&b).await, 422, "tenant/Unprocessable Entity", message).await;
    }
    // A name defaulted from the CN follows the same rule: the characters go.
    let spoof = ca_pem("Evil\u{202e}gnp.exe");
    let (status, c) = json(app.create(&json!({"certInPemFormat": spoof, "status": "ENABLED"})).await).await;
    assert_eq!((status, c["name"].as_str()), (201, Some("Evilgnp.exe")), "{c}");
    let lines = ca_pem("Line 1\r\nLine 2\u{7}");
    let (status, c) = json(app.create(&json!({"certInPemFormat": lines, "status": "ENABLED"})).await).await;
    assert_eq!((status, c["name"].as_str()), (201, Some("Line 1 Line 2")), "{c}");
    // Renaming is held to the rule too.
    let one = format!("{}/{}", app.certs_url(), fingerprint(&lines));
    let res = app.admin(Method::PUT, &one).json(&json!({"name": "x\u{202d}y"})).send().await.expect("put");
    assert_error(res, 422, "tenant/Unprocessable Entity", "name must not contain bidirectional formatting").await;
    let (status, c) =
        json(app.admin(Method::PUT, &one).json(&json!({"name": " Lines "})).send().await.expect("put")).await;
    assert_eq!((status, c["name"].as_str()), (200, Some("Lines")));
});

/// A device whose CN holds a bidirectional override gets no token (and is not auto-registered),
/// by the same rule as names: the device id would show reordered on every console page.
#[tokio::test]
async fn a_device_id_with_a_bidirectional_override_is_refused() {
    let app = TestApp::spawn().await;
    let root = Ca::root("Bidi Root");
    app.trust(&root, "ENABLED", true).await;
    let (status, body) = app.device_token(&root.device("dev\u{202e}1"), None).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["message"],
        "The verification was not successful: the device id 'dev<U+202E>1' contains a bidirectional formatting \
         character (U+202E, right-to-left override), which is not allowed (no whitespace, '/', '+', '$' or ':')."
    );
    assert_eq!(app.device_token(&root.device("dev-1"), None).await.0, 200);
}

/// The upload rule for keys agrees with the verifier devices meet: for CAs with every kind of
/// key, a device certificate the CA signs (with SHA-256, as openssl does by default) verifies
/// with rustls-webpki and aws-lc-rs, exactly as `server/src/device_trust.rs` verifies it, if and
/// only if `anchorage_common::cert` accepts the CA's key.
#[test]
fn the_key_rule_agrees_with_the_device_side_verifier() {
    use anchorage_common::cert::{Rule, inspect};
    use rustls::pki_types::{CertificateDer, UnixTime};

    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    std::fs::write(d.join("leaf.ext"), "basicConstraints=CA:false\nextendedKeyUsage=clientAuth\n").expect("ext");
    openssl(
        d,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-subj",
            "/CN=agree-1",
            "-out",
            "leaf.csr",
        ],
    );
    let cases: [(&str, &[&str], bool); 12] = [
        ("rsa1024", &["-newkey", "rsa:1024"], false),
        ("rsa2048", &["-newkey", "rsa:2048"], true),
        ("rsa2048e3", &["-newkey", "rsa:2048", "-pkeyopt", "rsa_keygen_pubexp:3"], true),
        ("p256", &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], true),
        ("p384", &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"], true),
        ("p521", &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"], true),
        ("secp256k1", &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp256k1"], false),
        ("brainpool", &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:brainpoolP384r1"], false),
        (
            "explicit",
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-pkeyopt", "ec_param_enc:explicit"],
            false,
        ),
        ("ed25519", &["-newkey", "ed25519"], true),
        ("ed448", &["-newkey", "ed448"], false),
        ("rsapss", &["-newkey", "rsa-pss", "-pkeyopt", "rsa_keygen_bits:2048"], false),
    ];
    let algorithms = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms.all;
    let der_of = |pem: &str| pem::decode_certificates(pem).expect("pem").remove(0);
    for (name, newkey, usable) in cases {
        let ca_pem = openssl_ca(d, name, newkey, &[]);
        let leaf = format!("{name}-leaf.pem");
        let (ca, key) = (format!("{name}.pem"), format!("{name}.key"));
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                &ca,
                "-CAkey",
                &key,
                "-CAcreateserial",
                "-days",
                "10",
                "-extfile",
                "leaf.ext",
                "-out",
                &leaf,
            ],
        );
        // A minute on: openssl dates its certificates from the second it makes them.
        let now = now() + Duration::minutes(1);
        let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(now.unix_timestamp() as u64));
        let ca_der = der_of(&ca_pem);
        let leaf_der = CertificateDer::from(der_of(&std::fs::read_to_string(d.join(&leaf)).expect("leaf")));
        let ca_cert = CertificateDer::from(ca_der.as_slice());
        let anchor = webpki::anchor_from_trusted_cert(&ca_cert).expect("anchor");
        let end_entity = webpki::EndEntityCert::try_from(&leaf_der).expect("leaf");
        let anchors = [anchor];
        let verdict = end_entity
            .verify_for_usage(algorithms, &anchors, &[], time, webpki::KeyUsage::client_auth(), None, None)
            .map(|_| ())
            .map_err(|e| format!("{e:?}"));
        let verified = verdict.is_ok();
        let checks = inspect(&ca_der, now).expect("parses").checks;
        let key_rule = checks.iter().find(|c| c.rule == Rule::UsableKey).expect("rule");
        assert_eq!(verified, usable, "{name}: webpki's verdict changed ({:?}; {key_rule:?})", verdict.err());
        assert_eq!(key_rule.passed, verified, "{name}: anchorage says {key_rule:?}, webpki verified: {verified}");
    }
}

/// anchorage's own `…/trusted-certificates/{fingerprint}/devices/count`: how many devices last
/// got a token through a CA (what the console states before disabling or deleting it).
#[tokio::test]
async fn devices_count_counts_the_devices_that_last_got_a_token_through_the_ca() {
    let app = TestApp::spawn().await;
    let (a, b) = (Ca::root("Count A"), Ca::root("Count B"));
    app.trust(&a, "ENABLED", true).await;
    app.trust(&b, "ENABLED", true).await;
    let count_url = |ca: &Ca| format!("{}/{}/devices/count", app.certs_url(), fingerprint(&ca.pem));
    let count = |ca: &Ca| {
        let url = count_url(ca);
        let app = &app;
        async move {
            let (status, body) = json(app.admin(Method::GET, &url).send().await.expect("count")).await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    assert_eq!(count(&a).await, json!({"count": 0}));
    for id in ["count-1", "count-2"] {
        assert_eq!(app.device_token(&a.device(id), None).await.0, 200);
    }
    assert_eq!(app.device_token(&b.device("count-3"), None).await.0, 200);
    assert_eq!(count(&a).await, json!({"count": 2}));
    assert_eq!(count(&b).await, json!({"count": 1}));
    // A device that moves to another CA counts there only (its last token).
    assert_eq!(app.device_token(&b.device("count-2"), None).await.0, 200);
    assert_eq!((count(&a).await, count(&b).await), (json!({"count": 1}), json!({"count": 2})));
    // Uppercase fingerprints are the same certificate; unknown ones and other tenants are 404.
    let upper = format!("{}/{}/devices/count", app.certs_url(), fingerprint(&a.pem).to_uppercase());
    assert_eq!(json(app.admin(Method::GET, &upper).send().await.expect("count")).await.1, json!({"count": 1}));
    let unknown = format!("{}/{}/devices/count", app.certs_url(), "00".repeat(20));
    assert_error(app.admin(Method::GET, &unknown).send().await.expect("count"), 404, "tenant/Not Found", "").await;
    let other = app.url(&format!("/tenant/tenants/other/trusted-certificates/{}/devices/count", fingerprint(&a.pem)));
    assert_eq!(app.admin(Method::GET, &other).send().await.expect("count").status(), 404);
    // Without credentials: 401.
    let res = reqwest::Client::new().get(count_url(&a)).send().await.expect("count");
    assert_eq!(res.status(), 401);
}
