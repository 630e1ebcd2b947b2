//! The tenant's own CA and EST enrollment (§6): the CA's life (create, renew, rollover,
//! delete), one-time passwords (wrong, used, expired), CSRs (other CN, bad signature),
//! certificates issued and renewed over mutual TLS and with a token, and the refusals.

use anchorage_common::est;
use base64::Engine as _;
use rcgen::{CertificateParams, DnType, KeyPair};
use reqwest::Method;
use serde_json::{Value, json};
use time::Duration;

use anchorage_server::clock::Clock as _;
use x509_parser::prelude::FromDer as _;

use crate::support::*;

const CA: &str = "/certificate-authority";
const OTP: &str = "correct-horse-battery-staple";

/// A device's key and a CSR for CN `cn` made with it (base64 DER, in lines as EST sends it).
fn csr(cn: &str) -> (KeyPair, String) {
    let key = KeyPair::generate().expect("key");
    let csr = csr_with(cn, &key);
    (key, csr)
}

fn csr_with(cn: &str, key: &KeyPair) -> String {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::OrganizationName, "Cumulocity");
    p.distinguished_name.push(DnType::CommonName, cn);
    let der = p.serialize_request(key).expect("csr").der().to_vec();
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    b64.as_bytes().chunks(64).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("\n")
}

impl TestApp {
    async fn make_ca(&self) -> Value {
        let (status, body) = json(self.admin(Method::POST, &self.url(CA)).send().await.expect("post")).await;
        assert_eq!(status, 201, "{body}");
        body
    }

    async fn new_request(&self, id: &str, otp: &str) -> (u16, Value) {
        let url = self.url("/devicecontrol/newDeviceRequests");
        json(
            self.admin(Method::POST, &url).json(&json!({"id": id, "enrollmentToken": otp})).send().await.expect("post"),
        )
        .await
    }

    async fn enroll(&self, id: &str, otp: &str, csr: &str) -> reqwest::Response {
        self.client
            .post(self.url(est::SIMPLE_ENROLL_PATH))
            .basic_auth(id, Some(otp))
            .header("Content-Type", "application/pkcs10")
            .header("Content-Transfer-Encoding", "base64")
            .body(csr.to_string())
            .send()
            .await
            .expect("enroll")
    }

    /// The device user of `id` with its certificates.
    async fn device_user(&self, id: &str) -> Value {
        let url = self.url(&format!("/user/{TENANT}/users/device_{id}?withCertificates=true"));
        let (status, user) = json(self.admin(Method::GET, &url).send().await.expect("user")).await;
        assert_eq!(status, 200, "{user}");
        user
    }

    /// Re-enrolls over the device listener's mutual TLS as `device`.
    async fn reenroll(&self, device: &Device, csr: &str) -> reqwest::Response {
        device
            .client(&self.local_ca_pem())
            .post(self.device_url(est::SIMPLE_REENROLL_PATH))
            .header("Content-Type", "application/pkcs10")
            .body(csr.to_string())
            .send()
            .await
            .expect("reenroll")
    }
}

/// The certificate of a successful EST answer (PEM), checked for media type and form.
async fn issued(res: reqwest::Response) -> String {
    let status = res.status().as_u16();
    let media = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let text = res.text().await.expect("body");
    assert_eq!(status, 200, "{text}");
    assert_eq!(media, "application/pkcs7-mime; smime-type=certs-only");
    let compact: String = text.split_whitespace().collect();
    let der = base64::engine::general_purpose::STANDARD.decode(compact).expect("base64");
    let certs = anchorage_common::pkcs7::certificates(&der).expect("pkcs7");
    assert_eq!(certs.len(), 1);
    anchorage_common::pem::to_pem(&certs[0])
}

fn info(pem: &str) -> anchorage_common::CertificateInfo {
    let der = anchorage_common::pem::decode_certificates(pem).expect("pem").remove(0);
    anchorage_common::cert::inspect(&der, now()).expect("inspect").info
}

fn device(cert_pem: String, key: &KeyPair) -> Device {
    Device { cert_pem, key_pem: key.serialize_pem(), intermediates: Vec::new() }
}

#[tokio::test]
async fn the_tenant_ca_is_made_once_renewed_in_its_last_24_months_and_deleted_with_its_key() {
    let app = TestApp::spawn().await;
    let ca = app.make_ca().await;
    assert_eq!(ca["tenantCertificateAuthority"], true);
    assert_eq!(ca["status"], "ENABLED");
    assert_eq!(ca["autoRegistrationEnabled"], true);
    // Java's order of the platform's name (DER: C, O, CN).
    assert_eq!(ca["subject"], format!("CN={TENANT}, O=Cumulocity, C=United States"));
    assert_eq!(ca["issuer"], ca["subject"]);
    assert_eq!(ca["algorithmName"], "SHA256withECDSA");
    let not_after = anchorage_common::timefmt::parse(ca["notAfter"].as_str().expect("notAfter")).expect("date");
    assert_eq!((not_after - app.clock.now()).whole_days(), 1094, "1095 days from now (to the second)");
    let text = serde_json::to_string(&ca).expect("json");
    assert!(!text.contains("PRIVATE"), "no key in the answer");

    // One per tenant.
    let res = app.admin(Method::POST, &app.url(CA)).send().await.expect("post");
    assert_error(res, 409, "certificate-authority/Conflict", "Certificate Authority already exists").await;
    // Listed with the filter, and among the trusted certificates with its flag.
    let (_, only) = json(
        app.admin(Method::GET, &format!("{}?certificateAuthority=true", app.certs_url())).send().await.expect("get"),
    )
    .await;
    assert_eq!(only["certificates"].as_array().map(Vec::len), Some(1));
    app.trust(&Ca::root("another CA"), "ENABLED", false).await;
    let (_, all) = json(app.admin(Method::GET, &app.certs_url()).send().await.expect("get")).await;
    let flags: Vec<&Value> =
        all["certificates"].as_array().expect("list").iter().map(|c| &c["tenantCertificateAuthority"]).collect();
    assert_eq!(flags, [&json!(true), &json!(false)]);
    let (_, only) = json(
        app.admin(Method::GET, &format!("{}?certificateAuthority=true", app.certs_url())).send().await.expect("get"),
    )
    .await;
    assert_eq!(only["certificates"][0]["fingerprint"], ca["fingerprint"]);

    // The key is sealed at rest.
    let db = app.raw_db().await;
    let sealed: String = sqlx::query_scalar("SELECT private_key FROM tenant_cas").fetch_one(&db).await.expect("row");
    assert!(sealed.starts_with("sealed:v1:"), "{sealed}");

    // Renewal: refused with more than 24 months left, allowed after.
    let renew = app.url("/certificate-authority/renew");
    let res = app.admin(Method::POST, &renew).send().await.expect("renew");
    let message = est::renewal_refused(TENANT);
    assert_error(res, 422, "certificate-authority/Unprocessable Entity", &message).await;
    app.clock.advance(Duration::days(364));
    let res = app.admin(Method::POST, &renew).send().await.expect("renew");
    assert_error(res, 422, "", &message).await;
    app.clock.advance(Duration::days(2));
    let (status, renewed) = json(app.admin(Method::POST, &renew).send().await.expect("renew")).await;
    assert_eq!(status, 200, "{renewed}");
    assert_ne!(renewed["fingerprint"], ca["fingerprint"]);
    assert_eq!(renewed["subject"], ca["subject"]);
    assert_eq!(renewed["tenantCertificateAuthority"], true);
    let renewed_until = anchorage_common::timefmt::parse(renewed["notAfter"].as_str().expect("d")).expect("date");
    assert_eq!((renewed_until - app.clock.now()).whole_days(), 1094);
    // Right after a renewal, another is refused again.
    let res = app.admin(Method::POST, &renew).send().await.expect("renew");
    assert_error(res, 422, "", &message).await;

    // Deleting the CA deletes its key; a new one can be made.
    let one = format!("{}/{}", app.certs_url(), renewed["fingerprint"].as_str().expect("fp"));
    assert_eq!(app.admin(Method::DELETE, &one).send().await.expect("delete").status(), 204);
    let keys: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenant_cas").fetch_one(&db).await.expect("count");
    assert_eq!(keys, 0);
    let res = app.admin(Method::POST, &renew).send().await.expect("renew");
    assert_error(res, 422, "", &message).await;
    app.make_ca().await;

    let audit = app
        .admin(Method::GET, &app.url("/audit/auditRecords?type=TenantCertificateAuthority&pageSize=50"))
        .send()
        .await
        .expect("audit");
    let (_, audit) = json(audit).await;
    let texts: Vec<&str> =
        audit["auditRecords"].as_array().expect("records").iter().filter_map(|r| r["text"].as_str()).collect();
    assert!(texts.contains(&format!("Tenant certificate authority(CA) created on '{TENANT}'").as_str()), "{texts:?}");
    assert!(
        texts.contains(&format!("Tenant certificate authority(CA) was renewed for Tenant: '{TENANT}'").as_str()),
        "{texts:?}"
    );
}

#[tokio::test]
async fn a_device_enrolls_with_its_one_time_password_gets_a_token_and_renews_over_mutual_tls() {
    let app = TestApp::spawn().await;
    let ca = app.make_ca().await;
    let (status, request) = app.new_request("est-01", OTP).await;
    assert_eq!(status, 201, "{request}");
    assert_eq!(request["status"], "WAITING_FOR_CONNECTION");
    assert_eq!(request["enrollmentTokenSet"], true);
    assert!(!request.to_string().contains(OTP), "the password is never returned");
    let (status, again) = app.new_request("est-01", OTP).await;
    assert_eq!((status, &again["error"]), (422, &json!("devicecontrol/Non Unique Result")), "{again}");
    assert_eq!(again["message"], "NewDeviceRequest for id = est-01 already exists.");
    // Only its hash is stored.
    let db = app.raw_db().await;
    let stored: String =
        sqlx::query_scalar("SELECT otp_hash FROM new_device_requests").fetch_one(&db).await.expect("row");
    assert!(!stored.contains(OTP) && stored.len() == 64, "{stored}");

    let (key, good_csr) = csr("est-01");
    // A wrong password, a CSR for another device, a CSR whose signature does not verify: each
    // refused in words, and the password is still there.
    let res = app.enroll("est-01", "wrong-password-1", &good_csr).await;
    assert_error(res, 401, "security/Unauthorized", est::MESSAGE_NO_REQUEST).await;
    let res = app.enroll("unknown-device", OTP, &good_csr).await;
    assert_error(res, 401, "security/Unauthorized", est::MESSAGE_NO_REQUEST).await;
    let (_, other_csr) = csr("est-02");
    let res = app.enroll("est-01", OTP, &other_csr).await;
    assert_error(
        res,
        422,
        "est/Unprocessable Entity",
        "The certificate signing request's common name 'est-02' is not the device id 'est-01'.",
    )
    .await;
    let mut tampered = base64::engine::general_purpose::STANDARD.decode(good_csr.replace('\n', "")).expect("b64");
    let n = tampered.len();
    tampered[n - 1] ^= 1;
    let tampered = base64::engine::general_purpose::STANDARD.encode(tampered);
    let res = app.enroll("est-01", OTP, &tampered).await;
    assert_error(res, 400, "est/Bad Request", "The certificate signing request's signature is not valid").await;
    let res = app.enroll("est-01", OTP, "not base64 at all!").await;
    assert_error(res, 400, "est/Bad Request", "The certificate signing request is not valid base64").await;
    let res = app
        .client
        .post(app.url(est::SIMPLE_ENROLL_PATH))
        .basic_auth("est-01", Some(OTP))
        .header("Content-Type", "text/plain")
        .body(good_csr.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 415);

    // The right password and CSR: a certificate, with a tenant prefix allowed.
    let pem = issued(app.enroll(&format!("{TENANT}/est-01"), OTP, &good_csr).await).await;
    let cert = info(&pem);
    assert_eq!(cert.common_name.as_deref(), Some("est-01"));
    // The CSR's subject as it is (rcgen's default params put CN first).
    assert_eq!(cert.subject, "O=Cumulocity, CN=est-01");
    assert_eq!(cert.issuer, ca["subject"]);
    assert_eq!((cert.not_after - cert.not_before).whole_days(), 365);
    let der = anchorage_common::pem::decode_certificates(&pem).expect("pem").remove(0);
    let (_, parsed) = x509_parser::certificate::X509Certificate::from_der(&der).expect("x509");
    assert!(parsed.extended_key_usage().expect("eku").expect("present").value.client_auth);
    assert!(!parsed.is_ca());

    // Single use: the request is gone.
    let res = app.enroll("est-01", OTP, &good_csr).await;
    assert_error(res, 401, "", est::MESSAGE_NO_REQUEST).await;
    let gone = app.admin(Method::GET, &app.url("/devicecontrol/newDeviceRequests/est-01")).send().await.expect("get");
    assert_eq!(gone.status(), 404);

    // Registered for certificates, with the issued certificate listed and audited.
    let user = app.device_user("est-01").await;
    assert_eq!(user["authType"], "CERTIFICATES");
    assert_eq!(user["issuedCertificates"][0]["serialNumberInHex"], cert.serial_hex);
    assert_eq!(user["issuedCertificates"][0]["how"], "ENROLL");
    let audit = app
        .admin(Method::GET, &app.url("/audit/auditRecords?type=TenantCertificateAuthority&pageSize=50"))
        .send()
        .await
        .expect("audit");
    let (_, audit) = json(audit).await;
    let signed = audit["auditRecords"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["text"] == "Tenant certificate authority(CA) signed certificate for device: est-01.")
        .expect("audited");
    assert_eq!(signed["anchorage_Details"]["certificateSerialNumberInHex"], cert.serial_hex, "{signed}");

    // A token over mutual TLS with it.
    let first = device(pem.clone(), &key);
    let (status, token) = app.device_token(&first, None).await;
    assert_eq!(status, 200, "{token}");

    // Re-enrollment over mutual TLS: a new key is allowed, the subject must stay.
    let (new_key, new_csr) = csr("est-01");
    let renewed_pem = issued(app.reenroll(&first, &new_csr).await).await;
    let renewed = info(&renewed_pem);
    assert_ne!(renewed.serial_hex, cert.serial_hex);
    // Asked again (the answer was lost): the same certificate again, and the old one still works.
    let again_pem = issued(app.reenroll(&first, &new_csr).await).await;
    assert_eq!(info(&again_pem).serial_hex, renewed.serial_hex);
    let (status, _) = app.device_token(&first, None).await;
    assert_eq!(status, 200);
    let second = device(renewed_pem, &new_key);
    app.clock.advance(Duration::hours(2));
    let (status, token) = app.device_token(&second, None).await;
    assert_eq!(status, 200, "{token}");
    let (_, other_csr) = csr("est-02");
    let res = app.reenroll(&second, &other_csr).await;
    assert_error(res, 422, "", "The certificate signing request's common name 'est-02'").await;

    // With the access token instead of the certificate.
    let bearer = token["accessToken"].as_str().expect("token");
    let res = app
        .client
        .post(app.url(est::SIMPLE_REENROLL_PATH))
        .bearer_auth(bearer)
        .header("Content-Type", "application/pkcs10")
        .body(csr_with("est-01", &new_key))
        .send()
        .await
        .expect("post");
    let via_token = info(&issued(res).await);
    assert_eq!(via_token.common_name.as_deref(), Some("est-01"));
    // Neither: refused.
    let res = app
        .client
        .post(app.url(est::SIMPLE_REENROLL_PATH))
        .header("Content-Type", "application/pkcs10")
        .body(new_csr)
        .send()
        .await
        .expect("post");
    assert_error(res, 401, "", "EST re-enrollment needs the device's current certificate").await;
    let user = app.device_user("est-01").await;
    let hows: Vec<&Value> = user["issuedCertificates"].as_array().expect("list").iter().map(|c| &c["how"]).collect();
    assert_eq!(hows, [&json!("REENROLL"), &json!("REENROLL"), &json!("ENROLL")]);

    // A token obtained with a certificate of an uploaded CA cannot re-enroll: only mutual TLS.
    let root = Ca::root("Uploaded root");
    app.trust(&root, "ENABLED", true).await;
    let (status, other) = app.device_token(&root.device("est-01x"), None).await;
    assert_eq!(status, 200, "{other}");
    let res = app
        .client
        .post(app.url(est::SIMPLE_REENROLL_PATH))
        .bearer_auth(other["accessToken"].as_str().expect("token"))
        .header("Content-Type", "application/pkcs10")
        .body(csr("est-01x").1)
        .send()
        .await
        .expect("post");
    assert_error(
        res,
        422,
        "est/Unprocessable Entity",
        "This access token was obtained with a certificate the tenant CA did not issue",
    )
    .await;
}

#[tokio::test]
async fn a_device_gets_at_most_ten_certificates_a_day_by_re_enrollment() {
    let app = TestApp::spawn().await;
    app.make_ca().await;
    app.new_request("busy-01", OTP).await;
    let (key, c) = csr("busy-01");
    let current = device(issued(app.enroll("busy-01", OTP, &c).await).await, &key);
    for _ in 0..10 {
        issued(app.reenroll(&current, &csr("busy-01").1).await).await;
    }
    let res = app.reenroll(&current, &csr("busy-01").1).await;
    assert_eq!(res.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("3600"));
    assert_error(res, 429, "", "Device 'busy-01' got 10 certificates by re-enrollment in the last 24 hours").await;
    app.clock.advance(Duration::hours(25));
    issued(app.reenroll(&current, &csr("busy-01").1).await).await;
}

#[tokio::test]
async fn expired_passwords_missing_or_expired_cas_and_password_devices_are_refused_in_words() {
    let app = TestApp::spawn().await;
    let (_, good_csr) = csr("est-03");
    // No CA: refused, and the password stays usable.
    app.new_request("est-03", OTP).await;
    let res = app.enroll("est-03", OTP, &good_csr).await;
    assert_error(res, 422, "certificate-authority/Unprocessable Entity", est::MESSAGE_CA_UNUSABLE).await;
    let res = app.client.get(app.url(est::CACERTS_PATH)).send().await.expect("cacerts");
    assert_eq!(res.status(), 404);
    app.make_ca().await;
    issued(app.enroll("est-03", OTP, &good_csr).await).await;
    // cacerts: the CA, as PKCS#7, without credentials.
    let cacerts = app.client.get(app.url(est::CACERTS_PATH)).send().await.expect("cacerts");
    let ca_pem = issued(cacerts).await;
    assert!(info(&ca_pem).subject.starts_with(&format!("CN={TENANT}, ")));

    // An expired password: refused, saying so (to whoever knows it).
    app.new_request("est-04", OTP).await;
    app.clock.advance(Duration::days(31));
    let (_, csr4) = csr("est-04");
    let res = app.enroll("est-04", OTP, &csr4).await;
    assert_error(res, 401, "", "The one-time password of device 'est-04' expired on").await;
    let res = app.enroll("est-04", "another-wrong-one", &csr4).await;
    assert_error(res, 401, "", est::MESSAGE_NO_REQUEST).await;

    // A device registered with a password cannot enroll.
    let csv = "ID;CREDENTIALS\nbasic-01;a-long-device-password-01\n";
    let (status, result) = crate::bulk_registration::upload(&app, csv).await;
    assert_eq!(status, 201, "{result}");
    app.new_request("basic-01", OTP).await;
    let (_, csr_b) = csr("basic-01");
    let res = app.enroll("basic-01", OTP, &csr_b).await;
    assert_error(res, 422, "", "Device 'basic-01' is registered for password authentication").await;

    // An expired CA signs nothing.
    app.new_request("est-05", OTP).await;
    app.clock.advance(Duration::days(1095));
    let (_, csr5) = csr("est-05");
    let res = app.enroll("est-05", OTP, &csr5).await;
    // (The password expired too: a new one.)
    assert_error(res, 401, "", "The one-time password of device 'est-05' expired").await;
    let url = app.url("/devicecontrol/newDeviceRequests/est-05");
    assert_eq!(app.admin(Method::DELETE, &url).send().await.expect("delete").status(), 204);
    app.new_request("est-05", OTP).await;
    let res = app.enroll("est-05", OTP, &csr5).await;
    assert_error(res, 422, "", est::MESSAGE_CA_UNUSABLE).await;
}

#[tokio::test]
async fn revoked_or_expired_certificates_cannot_renew() {
    let app = TestApp::spawn().await;
    app.make_ca().await;
    app.new_request("est-06", OTP).await;
    let (key, good_csr) = csr("est-06");
    let current = device(issued(app.enroll("est-06", OTP, &good_csr).await).await, &key);
    let serial = info(&current.cert_pem).serial_hex;

    // Revoked (and the tenant checks its list): refused, saying why.
    let url = app.url("/tenant/trusted-certificates/settings/crl");
    let res =
        app.admin(Method::PUT, &url).json(&json!({"crls": [{"serialNumberInHex": serial}]})).send().await.expect("put");
    assert_eq!(res.status(), 204);
    app.switch("crl.offline.check.enabled", true).await;
    let res = app.reenroll(&current, &good_csr).await;
    let body = assert_error(res, 401, "security/Unauthorized", "").await;
    assert!(body["message"].as_str().is_some_and(|m| m.contains("revoked")), "{body}");
    assert_eq!(body["reason"], "REVOKED", "{body}");
    // The list counts for re-enrollment even with the check off: a revoked certificate never
    // turns into a fresh one.
    app.switch("crl.offline.check.enabled", false).await;
    assert_eq!(app.device_token(&current, None).await.0, 200, "tokens follow the switch");
    let res = app.reenroll(&current, &good_csr).await;
    let body =
        assert_error(res, 401, "", "The device certificate is not trusted: it is in the tenant's revocation list")
            .await;
    assert_eq!(body["reason"], "REVOKED", "{body}");
    app.new_request("est-06b", OTP).await;
    let (key_b, csr_b) = csr("est-06b");
    let current = device(issued(app.enroll("est-06b", OTP, &csr_b).await).await, &key_b);
    let good_csr = csr_b;

    // Expired: refused, saying so.
    app.clock.advance(Duration::days(366));
    let res = app.reenroll(&current, &good_csr).await;
    let body = assert_error(res, 401, "", "").await;
    assert!(body["message"].as_str().is_some_and(|m| m.contains("expired")), "{body}");
}

#[tokio::test]
async fn a_renewed_certificate_once_used_can_revoke_the_ones_it_replaced() {
    let app = TestApp::spawn().await;
    app.make_ca().await;
    app.switch("crl.offline.check.enabled", true).await;
    app.switch(anchorage_common::options::REENROLL_REVOKES_PREVIOUS, true).await;
    app.new_request("est-07", OTP).await;
    let (key, first_csr) = csr("est-07");
    let first = device(issued(app.enroll("est-07", OTP, &first_csr).await).await, &key);
    assert_eq!(app.device_token(&first, None).await.0, 200);
    app.clock.advance(Duration::hours(1));
    let (new_key, new_csr) = csr("est-07");
    let second = device(issued(app.reenroll(&first, &new_csr).await).await, &new_key);
    // Until the new certificate has been used, the old one still works (the answer may be lost).
    assert_eq!(app.device_token(&first, None).await.0, 200);
    // A third, asked for with the first certificate too (by someone else holding its key, say).
    let (third_key, third_csr) = csr("est-07");
    let third = device(issued(app.reenroll(&first, &third_csr).await).await, &third_key);
    app.clock.advance(Duration::hours(1));
    // The second one's first token revokes the line it replaced (the first), not the third.
    assert_eq!(app.device_token(&second, None).await.0, 200);
    let (status, body) = app.device_token(&first, None).await;
    assert_eq!((status, &body["reason"]), (401, &json!("REVOKED")), "{body}");
    assert_eq!(app.device_token(&second, None).await.0, 200);
    assert_eq!(app.device_token(&third, None).await.0, 200);
    // A renewal of the second: its first token revokes the second (and the first again).
    let (fourth_key, fourth_csr) = csr("est-07");
    let fourth = device(issued(app.reenroll(&second, &fourth_csr).await).await, &fourth_key);
    app.clock.advance(Duration::hours(1));
    assert_eq!(app.device_token(&fourth, None).await.0, 200);
    assert_eq!(app.device_token(&second, None).await.0, 401);
    assert_eq!(app.device_token(&third, None).await.0, 200);
}

#[tokio::test]
async fn bulk_registration_sets_enrollment_passwords() {
    let app = TestApp::spawn().await;
    app.make_ca().await;
    let csv = "ID;AUTH_TYPE;CREDENTIALS;ENROLLMENT_OTP\nbulk-est-01;CERTIFICATES;;first-password-01\nbulk-est-02;BASIC;pw-long-enough-02;second-password\nbulk-est-03;CERTIFICATES;;short\n";
    let (status, result) = crate::bulk_registration::upload(&app, csv).await;
    assert_eq!(status, 201, "{result}");
    assert_eq!(result["numberOfCreated"], 1, "{result}");
    let reasons: Vec<&str> = result["failedCreationList"]
        .as_array()
        .expect("failed")
        .iter()
        .filter_map(|f| f["failureReason"].as_str())
        .collect();
    assert!(reasons[0].contains("ENROLLMENT_OTP needs AUTH_TYPE CERTIFICATES"), "{reasons:?}");
    assert!(reasons[1].contains("at least 8 characters"), "{reasons:?}");
    let (status, request) = json(
        app.admin(Method::GET, &app.url("/devicecontrol/newDeviceRequests/bulk-est-01")).send().await.expect("get"),
    )
    .await;
    assert_eq!((status, &request["status"]), (200, &json!("ACCEPTED")), "{request}");
    let (_, list) = json(
        app.admin(Method::GET, &app.url("/devicecontrol/newDeviceRequests?withTotalElements=true"))
            .send()
            .await
            .expect("list"),
    )
    .await;
    assert_eq!(list["statistics"]["totalElements"], 1, "{list}");
    let (key, c) = csr("bulk-est-01");
    let d = device(issued(app.enroll("bulk-est-01", "first-password-01", &c).await).await, &key);
    assert_eq!(app.device_token(&d, None).await.0, 200);
}

#[tokio::test]
async fn a_rollover_keeps_the_earlier_ca_trusted_until_it_is_deleted() {
    let app = TestApp::spawn().await;
    let old = app.make_ca().await;
    app.new_request("roll-01", OTP).await;
    let (key, c) = csr("roll-01");
    let before = device(issued(app.enroll("roll-01", OTP, &c).await).await, &key);
    let (status, new) =
        json(app.admin(Method::POST, &app.url("/certificate-authority/rollover")).send().await.expect("post")).await;
    assert_eq!(status, 201, "{new}");
    assert_ne!(new["fingerprint"], old["fingerprint"]);
    let (_, cas) = json(
        app.admin(Method::GET, &format!("{}?certificateAuthority=true", app.certs_url())).send().await.expect("get"),
    )
    .await;
    assert_eq!(cas["certificates"].as_array().map(Vec::len), Some(2));
    // The device certified by the earlier CA still gets tokens, and renews from the new one.
    assert_eq!(app.device_token(&before, None).await.0, 200);
    let (new_key, new_csr) = csr("roll-01");
    let after = device(issued(app.reenroll(&before, &new_csr).await).await, &new_key);
    let user = app.device_user("roll-01").await;
    assert_eq!(user["issuedCertificates"][0]["caFingerprint"], new["fingerprint"]);
    assert_eq!(user["issuedCertificates"][1]["caFingerprint"], old["fingerprint"]);
    // cacerts: both, the current first.
    let res = app.client.get(app.url(est::CACERTS_PATH)).send().await.expect("get");
    let text = res.text().await.expect("body");
    let der =
        base64::engine::general_purpose::STANDARD.decode(text.split_whitespace().collect::<String>()).expect("b64");
    let certs = anchorage_common::pkcs7::certificates(&der).expect("pkcs7");
    assert_eq!(certs.len(), 2);
    assert_eq!(anchorage_common::cert::inspect(&certs[0], now()).expect("i").info.fingerprint, new["fingerprint"]);
    // Deleting the earlier CA: its devices are cut off, the renewed one is not.
    let url = format!("{}/{}", app.certs_url(), old["fingerprint"].as_str().expect("fp"));
    assert_eq!(app.admin(Method::DELETE, &url).send().await.expect("delete").status(), 204);
    app.clock.advance(Duration::hours(1));
    assert_eq!(app.device_token(&before, None).await.0, 401);
    assert_eq!(app.device_token(&after, None).await.0, 200);
    // A rollover needs a CA to roll from... which there is; a second create is still refused.
    let res = app.admin(Method::POST, &app.url(CA)).send().await.expect("post");
    assert_eq!(res.status(), 409);
}

#[tokio::test]
async fn the_crl_is_signed_by_the_tenant_ca_once_there_is_one() {
    let app = TestApp::spawn().await;
    let signer = app.url("/tenant/trusted-certificates/settings/crl/signer");
    let before = app.admin(Method::GET, &signer).send().await.expect("get").text().await.expect("pem");
    assert!(info(&before).subject.contains("CRL signer"), "{before}");
    let ca = app.make_ca().await;
    let after = app.admin(Method::GET, &signer).send().await.expect("get").text().await.expect("pem");
    assert_eq!(info(&after).fingerprint, ca["fingerprint"]);
    let crl = app
        .admin(Method::GET, &app.url("/tenant/trusted-certificates/settings/crl"))
        .header("Accept", "application/pkix-crl")
        .send()
        .await
        .expect("crl")
        .bytes()
        .await
        .expect("der");
    let (_, parsed) = x509_parser::revocation_list::CertificateRevocationList::from_der(&crl).expect("crl");
    let issuer = anchorage_common::dn::java_string(parsed.issuer());
    assert_eq!(issuer, ca["subject"].as_str().expect("subject"));
}

#[tokio::test]
async fn only_admins_manage_the_ca_and_requests() {
    let app = TestApp::spawn().await;
    app.make_ca().await;
    app.new_request("est-08", OTP).await;
    let res = app
        .admin(Method::POST, &app.url(&format!("/user/{TENANT}/users")))
        .json(&json!({"userName": "reader1", "password": "reader-password", "role": "reader"}))
        .send()
        .await
        .expect("create user");
    assert_eq!(res.status(), 201);
    let reader = (format!("{TENANT}/reader1"), "reader-password".to_string());
    for (method, path) in [
        (Method::POST, "/certificate-authority"),
        (Method::POST, "/certificate-authority/renew"),
        (Method::POST, "/certificate-authority/rollover"),
        (Method::DELETE, "/devicecontrol/newDeviceRequests/est-08"),
    ] {
        let res = app
            .client
            .request(method, app.url(path))
            .basic_auth(&reader.0, Some(&reader.1))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 403, "{path}");
    }
    let res = app
        .client
        .get(app.url("/devicecontrol/newDeviceRequests"))
        .basic_auth(&reader.0, Some(&reader.1))
        .send()
        .await
        .expect("list");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn rotating_the_secret_key_keeps_the_ca_and_tokens_and_names_the_passwords_that_stop_matching() {
    let mut app = TestApp::spawn().await;
    app.make_ca().await;
    app.new_request("rot-01", OTP).await;
    let (key, c) = csr("rot-01");
    let enrolled = device(issued(app.enroll("rot-01", OTP, &c).await).await, &key);
    let (_, token) = app.device_token(&enrolled, None).await;
    let token = token["accessToken"].as_str().expect("token").to_string();
    app.new_request("rot-02", OTP).await;
    let url = app.url("/tenant/options/credentials/credentials.api-key");
    let res = app.admin(Method::PUT, &url).json(&json!({"value": "s3cret-value"})).send().await.expect("put");
    assert_eq!(res.status(), 200);

    app.stop_server().await;
    let path = app.data_dir().join("secret.key");
    let before = std::fs::read_to_string(&path).expect("key");
    let db = anchorage_server::db::open(
        &anchorage_server::db::Location::parse(&app.database_url()).expect("url"),
        anchorage_server::db::PoolSizes { max: 2, min: 0 },
    )
    .await
    .expect("db");
    let report = anchorage_server::secrets::rotate(&db, &path).await.expect("rotated");
    assert_eq!((report.signing_keys, report.tenant_cas, report.crl_signers), (1, 1, 0));
    assert!(report.device_tokens >= 1 && report.options == 1, "{report:?}");
    assert_eq!(report.stale_one_time_passwords, [(TENANT.to_string(), "rot-02".to_string())]);
    assert_ne!(std::fs::read_to_string(&path).expect("key"), before);
    assert_eq!(std::fs::read_to_string(&report.previous_key).expect("old key"), before);
    // Nothing in the database opens with the old key any more.
    let old = anchorage_server::secrets::SecretBox::load_or_create(&report.previous_key).expect("old");
    let sealed: String =
        sqlx::query_scalar("SELECT private_key FROM tenant_cas").fetch_one(&app.raw_db().await).await.expect("row");
    let der: Vec<u8> =
        sqlx::query_scalar("SELECT der FROM trusted_certificates").fetch_one(&app.raw_db().await).await.expect("row");
    let context = anchorage_server::ca::ca_key_context(TENANT, &der).expect("context");
    assert!(old.open(&sealed, &context).is_err());

    // A run that died after committing, before the files were swapped: the next run finishes.
    let new_key = std::fs::read_to_string(&path).expect("key");
    let pending = app.data_dir().join("secret.key.new");
    std::fs::rename(&path, &pending).expect("rename");
    std::fs::copy(&report.previous_key, &path).expect("copy");
    let finished = anchorage_server::secrets::rotate(&db, &path).await.expect("finished");
    assert!(finished.finished_earlier);
    assert_eq!(std::fs::read_to_string(&path).expect("key"), new_key);
    assert!(!pending.exists());
    // A run that died before committing left a key nothing is sealed with: it starts over.
    std::fs::write(&pending, format!("{}\n", "ab".repeat(32))).expect("write");
    let again = anchorage_server::secrets::rotate(&db, &path).await.expect("rotated again");
    assert!(!again.finished_earlier && again.tenant_cas == 1);
    assert_eq!(std::fs::read_to_string(&again.previous_key).expect("old"), new_key);
    assert_eq!(std::fs::read_to_string(&report.previous_key).expect("first old key kept"), before);
    drop(db);

    app.restart(Some(PASSWORD)).await;
    // The token issued before still works (the signing key is the same, re-sealed), the CA
    // still signs, the stale password is refused and a new one works.
    let res = app.client.get(app.url("/user/currentUser")).bearer_auth(&token).send().await.expect("get");
    assert_eq!(res.status(), 200);
    let (k2, c2) = csr("rot-02");
    let res = app.enroll("rot-02", OTP, &c2).await;
    assert_error(res, 401, "", est::MESSAGE_NO_REQUEST).await;
    let one = app.url("/devicecontrol/newDeviceRequests/rot-02");
    assert_eq!(app.admin(Method::DELETE, &one).send().await.expect("delete").status(), 204);
    app.new_request("rot-02", OTP).await;
    let second = device(issued(app.enroll("rot-02", OTP, &c2).await).await, &k2);
    assert_eq!(app.device_token(&second, None).await.0, 200);
}

#[tokio::test]
async fn an_enrolled_device_has_the_name_and_type_of_its_request() {
    let app = TestApp::spawn().await;
    app.make_ca().await;
    let url = app.url("/devicecontrol/newDeviceRequests");
    let body = json!({"id": "named-01", "type": "c8y_Gateway", "name": "Gateway in hall 3", "enrollmentToken": OTP});
    let (status, request) = json(app.admin(Method::POST, &url).json(&body).send().await.expect("post")).await;
    assert_eq!((status, &request["type"]), (201, &json!("c8y_Gateway")), "{request}");
    issued(app.enroll("named-01", OTP, &csr("named-01").1).await).await;
    let list = app.url("/inventory/managedObjects?fragmentType=c8y_IsDevice&text=named-01");
    let (_, devices) = json(app.admin(Method::GET, &list).send().await.expect("get")).await;
    let device = &devices["managedObjects"][0];
    assert_eq!((&device["name"], &device["type"]), (&json!("Gateway in hall 3"), &json!("c8y_Gateway")), "{devices}");
}
