//! Revocation at token time over real mutual TLS (the offline list), tokens tied to their
//! certificate, the reason code of every refusal, the chain doctor (`verify-cert-chain`), and
//! the provisioned certificates of a device.

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::support::*;

fn fingerprint_of(pem: &str) -> String {
    let der = anchorage_common::pem::decode_certificates(pem).expect("pem").remove(0);
    anchorage_common::cert::inspect(&der, now()).expect("inspect").info.fingerprint
}

async fn revoke(app: &TestApp, serial: &str) {
    let url = app.url("/tenant/trusted-certificates/settings/crl");
    let body = json!({"crls": [{"serialNumberInHex": serial}]});
    let res = app.admin(Method::PUT, &url).json(&body).send().await.expect("put");
    assert_eq!(res.status(), 204, "{:?}", res.text().await);
}

async fn bearer_status(app: &TestApp, token: &str) -> u16 {
    app.client.get(app.url("/user/currentUser")).bearer_auth(token).send().await.expect("currentUser").status().as_u16()
}

/// The token-endpoint audit records, newest first.
async fn token_records(app: &TestApp) -> Vec<Value> {
    app.maintain_now().await;
    let res = app
        .admin(Method::GET, &app.url("/audit/auditRecords?type=DeviceAccessToken&pageSize=100"))
        .send()
        .await
        .expect("audit");
    let (status, page) = json(res).await;
    assert_eq!(status, 200);
    page["auditRecords"].as_array().cloned().unwrap_or_default()
}

async fn reasons(app: &TestApp) -> Vec<String> {
    token_records(app)
        .await
        .iter()
        .filter_map(|r| r["anchorage_Details"]["reason"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn a_revoked_serial_is_refused_at_once_and_its_tokens_stop_working() {
    let app = TestApp::spawn().await;
    let root = Ca::root("Revocation Root");
    app.trust(&root, "ENABLED", true).await;
    let stolen = root.device("stolen-1");
    let other = root.device("honest-1");
    let (status, body) = app.device_token(&stolen, None).await;
    assert_eq!(status, 200, "{body}");
    let token = body["accessToken"].as_str().expect("token").to_string();
    let (status, _) = app.device_token(&other, None).await;
    assert_eq!(status, 200);
    assert_eq!(bearer_status(&app, &token).await, 200);

    // Listed, with colons and upper case, while the offline check is off: nothing changes yet.
    let serial = serial_hex(&stolen.cert_pem);
    let coloned: Vec<String> = format!("{serial:0>width$}", width = serial.len() + serial.len() % 2)
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_uppercase())
        .collect();
    revoke(&app, &coloned.join(":")).await;
    assert_eq!(bearer_status(&app, &token).await, 200);
    let (status, again) = app.device_token(&stolen, None).await;
    assert_eq!((status, again["accessToken"].as_str()), (200, Some(token.as_str())), "the same token before half-life");

    // The switch on: the existing token stops at its next use, the endpoint refuses (revocation
    // first), and the same token is not handed out again.
    app.switch("crl.offline.check.enabled", true).await;
    assert_eq!(bearer_status(&app, &token).await, 401);
    let (status, refused) = app.device_token(&stolen, None).await;
    assert_eq!(status, 401, "{refused}");
    assert_eq!(refused["reason"], "REVOKED");
    let message = refused["message"].as_str().unwrap_or_default();
    assert!(message.contains("revoked") && message.contains(&serial), "{message}");
    // A stranger's self-made certificate naming the same CA and carrying the same serial learns
    // nothing of the list: only a chain that verifies is checked against it.
    let impostor_key = rcgen::KeyPair::generate().expect("key");
    let impostor_params = params("Revocation Root", rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained));
    impostor_params.self_signed(&impostor_key).expect("sign");
    let impostor = rcgen::Issuer::new(impostor_params, impostor_key);
    let forged_key = rcgen::KeyPair::generate().expect("key");
    let mut forged = params("stolen-1", rcgen::IsCa::ExplicitNoCa);
    forged.serial_number = Some(rcgen::SerialNumber::from(
        hex::decode(format!("{serial:0>width$}", width = serial.len() + serial.len() % 2)).expect("hex"),
    ));
    forged.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let forged = Device {
        cert_pem: forged.signed_by(&forged_key, &impostor).expect("sign").pem(),
        key_pem: forged_key.serialize_pem(),
        intermediates: Vec::new(),
    };
    assert_eq!(serial_hex(&forged.cert_pem), serial);
    let (status, body) = app.device_token(&forged, None).await;
    assert_eq!(status, 401, "{body}");
    assert_ne!(body["reason"], "REVOKED", "{body}");
    // Another device of the same CA is not affected.
    let (status, _) = app.device_token(&other, None).await;
    assert_eq!(status, 200);
    assert!(reasons(&app).await.contains(&"REVOKED".to_string()));

    // Off again: the list is not enforced (the tokens come back to life only until they expire).
    app.switch("crl.offline.check.enabled", false).await;
    let (status, _) = app.device_token(&stolen, None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn every_refusal_records_its_reason_and_the_certificate() {
    let app = TestApp::spawn().await;
    let root = Ca::root("Reasons Root");
    let unknown = Ca::root("Unknown Root").device("nobody-1");
    let (status, body) = app.device_token(&unknown, None).await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("UNKNOWN_ISSUER")), "{body}");

    app.trust(&root, "DISABLED", false).await;
    let device = root.device("reasons-1");
    let (status, body) = app.device_token(&device, None).await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("CA_DISABLED")), "{body}");

    app.set_certificate(&root, json!({"status": "ENABLED"})).await;
    let (status, body) = app.device_token(&device, None).await;
    assert_eq!((status, body["reason"].as_str()), (422, Some("NOT_REGISTERED")), "{body}");

    let stranger = root.device("reasons-2");
    let (status, body) = app.device_token(&stranger, Some(&[&device.cert_pem])).await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("HEADER_CHAIN_MISMATCH")), "{body}");

    let records = token_records(&app).await;
    let of = |reason: &str| {
        records
            .iter()
            .find(|r| r["anchorage_Details"]["reason"] == reason)
            .unwrap_or_else(|| panic!("no {reason} in {records:?}"))
    };
    let not_registered = of("NOT_REGISTERED");
    assert_eq!(not_registered["anchorage_Details"]["certificateFingerprint"], fingerprint_of(&device.cert_pem));
    assert_eq!(not_registered["anchorage_Details"]["certificateSerialNumberInHex"], serial_hex(&device.cert_pem));
    assert_eq!(not_registered["anchorage_Details"]["trustedCertificateFingerprint"], fingerprint(&root.pem));
    assert_eq!(not_registered["anchorage_Details"]["device"], "device_reasons-1");
    assert!(
        not_registered["anchorage_Details"]["certificateIssuer"].as_str().is_some_and(|i| i.contains("Reasons Root"))
    );
    for reason in ["UNKNOWN_ISSUER", "CA_DISABLED", "HEADER_CHAIN_MISMATCH"] {
        of(reason);
    }

    // The console's summary: per device and per trusted certificate, counts per reason.
    for _ in 0..3 {
        let (status, _) = app.device_token(&device, None).await;
        assert_eq!(status, 422);
    }
    let summary = |query: String| {
        let app = &app;
        async move {
            let (status, body) = json(
                app.admin(Method::GET, &app.url(&format!("/anchorage/refusals?{query}"))).send().await.expect("r"),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let count = |body: &Value, reason: &str| {
        body["counts"].as_array().and_then(|c| c.iter().find(|c| c["reason"] == reason)).map(|c| c["count"].clone())
    };
    // The repeats are counted once their window closes.
    app.clock.advance(time::Duration::minutes(11));
    app.maintain_now().await;
    let by_device = summary("device=device_reasons-1".into()).await;
    assert_eq!(count(&by_device, "NOT_REGISTERED"), Some(json!(4)), "{by_device}");
    assert_eq!(count(&by_device, "UNKNOWN_ISSUER"), None);
    let last = &by_device["refusals"][0];
    assert_eq!(last["certificate"]["fingerprint"], fingerprint_of(&device.cert_pem));
    let by_ca = summary(format!("trustedCertificate={}", fingerprint(&root.pem))).await;
    assert_eq!(count(&by_ca, "CA_DISABLED"), Some(json!(1)), "{by_ca}");
    // A day later the counts are empty, the last refusals still listed.
    app.clock.advance(time::Duration::hours(25));
    let later = summary("device=device_reasons-1".into()).await;
    assert_eq!(later["counts"], json!([]));
    assert!(!later["refusals"].as_array().expect("refusals").is_empty());
}

fn chain_form(pems: &[&str]) -> Form {
    Form::new().part("file", Part::bytes(pems.concat().into_bytes()).file_name("chain.pem"))
}

async fn verify(app: &TestApp, form: Form) -> (u16, Value) {
    let url = app.url("/tenant/trusted-certificates/verify-cert-chain");
    json(app.admin(Method::POST, &url).multipart(form).send().await.expect("verify")).await
}

#[tokio::test]
async fn the_chain_doctor_answers_what_a_device_would_get() {
    let app = TestApp::spawn().await;
    let root = Ca::root("Doctor Root");
    let intermediate = root.intermediate("Doctor Intermediate", true);
    let device = intermediate.device("doctor-1");
    app.trust(&root, "ENABLED", false).await;

    // Any order: the device certificate is found; the device is not registered.
    let (status, body) = verify(&app, chain_form(&[&intermediate.pem, &device.cert_pem])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["successfullyValidated"], true);
    assert_eq!(body["tenantId"], TENANT);
    assert_eq!(body["trustedCertificate"]["fingerprint"], fingerprint(&root.pem));
    assert_eq!(body["tokenWouldBeIssued"], false);
    assert_eq!(body["reason"], "NOT_REGISTERED");
    assert_eq!(body["deviceUser"], "device_doctor-1");

    app.set_certificate(&root, json!({"autoRegistrationEnabled": true})).await;
    // The header form: PEMs separated by ",", line breaks as spaces.
    let header = format!("{},{}", device.cert_pem, intermediate.pem).replace(['\r', '\n'], " ");
    let res = app
        .admin(Method::POST, &app.url("/tenant/trusted-certificates/verify-cert-chain"))
        .header("X-Cumulocity-Client-Cert-Chain", header)
        .send()
        .await
        .expect("verify");
    let (status, body) = json(res).await;
    assert_eq!((status, body["tokenWouldBeIssued"].as_bool()), (200, Some(true)), "{body}");
    // Nothing was written: the doctor registers no device.
    let (status, _) =
        json(app.admin(Method::GET, &app.url("/identity/externalIds/c8y_Serial/doctor-1")).send().await.expect("id"))
            .await;
    assert_eq!(status, 404);

    // A missing intermediate.
    let (status, body) = verify(&app, chain_form(&[&device.cert_pem])).await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("UNKNOWN_ISSUER")), "{body}");
    // A disabled anchor.
    app.set_certificate(&root, json!({"status": "DISABLED"})).await;
    let (status, body) = verify(&app, chain_form(&[&device.cert_pem, &intermediate.pem])).await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("CA_DISABLED")), "{body}");
    // Revocation is checked first, before the disabled anchor.
    app.switch("crl.offline.check.enabled", true).await;
    revoke(&app, &serial_hex(&device.cert_pem)).await;
    let (status, body) = verify(&app, chain_form(&[&device.cert_pem, &intermediate.pem])).await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("REVOKED")), "{body}");

    // Unreadable chains, too many certificates, another tenant.
    let (status, body) = verify(&app, chain_form(&["not a certificate"])).await;
    assert_eq!((status, body["reason"].as_str()), (400, Some("UNREADABLE_CHAIN")), "{body}");
    let six = [device.cert_pem.as_str(); 6].join(",").replace(['\r', '\n'], " ");
    let res = app
        .admin(Method::POST, &app.url("/tenant/trusted-certificates/verify-cert-chain"))
        .header("X-Cumulocity-Client-Cert-Chain", six)
        .send()
        .await
        .expect("verify");
    assert_error(res, 400, "tenant/Bad Request", "The X-Cumulocity-Client-Cert-Chain header holds 6").await;
    let res = app
        .admin(Method::POST, &app.url("/tenant/trusted-certificates/verify-cert-chain"))
        .send()
        .await
        .expect("verify");
    assert_eq!(res.status(), 400);
    let form = chain_form(&[&device.cert_pem]).text("tenantId", "t999");
    let (status, _) = verify(&app, form).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_device_keeps_its_last_five_certificates_and_a_new_one_gets_a_new_token() {
    let app = TestApp::spawn().await;
    let root = Ca::root("Provisioned Root");
    app.trust(&root, "ENABLED", true).await;
    let first = root.device("rotating-1");
    let (status, body) = app.device_token(&first, None).await;
    assert_eq!(status, 200);
    let first_token = body["accessToken"].as_str().expect("token").to_string();
    // A renewed certificate (new key, same CN) before the half-life: a new token, tied to it.
    let second = root.device("rotating-1");
    let (status, body) = app.device_token(&second, None).await;
    assert_eq!(status, 200);
    assert_ne!(body["accessToken"].as_str(), Some(first_token.as_str()));

    let url = app.url(&format!("/user/{TENANT}/users/device_rotating-1?withCertificates=true"));
    let (status, user) = json(app.admin(Method::GET, &url).send().await.expect("user")).await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["userName"], "device_rotating-1");
    let certs = user["provisionedCertificates"].as_array().cloned().unwrap_or_default();
    assert_eq!(certs.len(), 2, "{user}");
    for c in &certs {
        for field in ["serialNumber", "notBefore", "notAfter", "subject", "issuer", "fingerprint"] {
            assert!(c[field].as_str().is_some_and(|v| !v.is_empty()), "{field} in {c}");
        }
    }
    let fingerprints: Vec<&str> = certs.iter().filter_map(|c| c["fingerprint"].as_str()).collect();
    assert!(fingerprints.contains(&fingerprint_of(&first.cert_pem).as_str()));

    for _ in 0..5 {
        app.clock.advance(time::Duration::seconds(1));
        let (status, _) = app.device_token(&root.device("rotating-1"), None).await;
        assert_eq!(status, 200);
    }
    let (_, user) = json(app.admin(Method::GET, &url).send().await.expect("user")).await;
    let certs = user["provisionedCertificates"].as_array().cloned().unwrap_or_default();
    assert_eq!(certs.len(), 5, "only the last five are kept");
    assert!(!certs.iter().any(|c| c["fingerprint"] == fingerprint_of(&first.cert_pem).as_str()));
    // The platform UI's way there: the managed object's user, then the user with certificates.
    let (_, id) =
        json(app.admin(Method::GET, &app.url("/identity/externalIds/c8y_Serial/rotating-1")).send().await.expect("id"))
            .await;
    let mo = id["managedObject"]["id"].as_str().expect("mo id").to_string();
    let (status, owner) = json(
        app.admin(Method::GET, &app.url(&format!("/inventory/managedObjects/{mo}/user"))).send().await.expect("u"),
    )
    .await;
    assert_eq!((status, owner["userName"].as_str()), (200, Some("device_rotating-1")), "{owner}");
    // Without the parameter, no certificates.
    let (_, user) = json(
        app.admin(Method::GET, &app.url(&format!("/user/{TENANT}/users/device_rotating-1"))).send().await.expect("u"),
    )
    .await;
    assert!(user.get("provisionedCertificates").is_none());
}
