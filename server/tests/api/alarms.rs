//! Certificate expiry alarms (`/alarm/alarms`): raised for CAs and device certificates within
//! the tenant's window, one row per certificate whose severity follows the injected clock,
//! cleared when the certificate is deleted or replaced; filters, paging, access and bad input.

use reqwest::Method;
use serde_json::{Value, json};
use time::Duration;

use crate::support::*;

const ALARMS: &str = "/alarm/alarms";

/// A CA valid from yesterday until `days` from now.
fn ca_expiring_in(name: &str, days: i64) -> Ca {
    Ca::root_with(name, |p| p.not_after = now() + Duration::days(days))
}

async fn alarms(app: &TestApp, query: &str) -> Value {
    let res = app.admin(Method::GET, &app.url(&format!("{ALARMS}?{query}"))).send().await.expect("list");
    assert_eq!(
        res.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/vnd.com.nsn.cumulocity.alarmcollection+json")
    );
    let (status, body) = json(res).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn alarm_rows(app: &TestApp) -> i64 {
    let db = app.raw_db().await;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alarms").fetch_one(&db).await.expect("count");
    db.close().await;
    n
}

fn items(body: &Value) -> Vec<Value> {
    body["alarms"].as_array().cloned().unwrap_or_default()
}

async fn set_window(app: &TestApp, value: Value) -> reqwest::Response {
    let url = app.url("/tenant/options/configuration/alarms.expiry.window.days");
    app.admin(Method::PUT, &url).json(&json!({ "value": value })).send().await.expect("put")
}

#[tokio::test]
async fn a_ca_entering_the_window_raises_one_alarm_whose_severity_follows_the_clock() {
    let app = TestApp::spawn().await;
    let ca = ca_expiring_in("Fleet CA", 40);
    app.trust(&ca, "ENABLED", false).await;
    let fp = fingerprint(&ca.pem);
    assert!(items(&alarms(&app, "").await).is_empty(), "40 days left is outside the default 30-day window");

    app.clock.advance(Duration::days(15));
    let list = items(&alarms(&app, "").await);
    assert_eq!(list.len(), 1, "{list:?}");
    let a = &list[0];
    assert_eq!(a["type"], "anchorage_CaCertificateExpiring");
    assert_eq!(a["severity"], "MINOR");
    assert_eq!(a["status"], "ACTIVE");
    assert_eq!(a["count"], 1);
    assert_eq!(a["source"]["id"], fp);
    assert_eq!(a["source"]["name"], "Fleet CA");
    assert!(a["source"]["self"].as_str().is_some_and(|s| s.ends_with(&format!("/trusted-certificates/{fp}"))));
    let text = a["text"].as_str().unwrap_or_default();
    assert!(text.contains("'Fleet CA'") && text.contains(&fp) && text.contains(&serial_hex(&ca.pem)), "{text}");
    // 25 days less the moments between the clock's start and the certificate's making.
    assert!(text.contains("expires in 24 days, on ") || text.contains("expires in 25 days, on "), "{text}");
    assert_eq!(a["anchorage_Certificate"]["fingerprint"], fp);
    let id = a["id"].as_str().expect("string id").to_string();
    for field in ["self", "creationTime", "time", "lastUpdated", "firstOccurrenceTime"] {
        assert!(a[field].is_string(), "{field} in {a}");
    }

    // One alarm fetched by id, in the platform's media type.
    let res = app.admin(Method::GET, &app.url(&format!("{ALARMS}/{id}"))).send().await.expect("get");
    assert_eq!(
        res.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/vnd.com.nsn.cumulocity.alarm+json")
    );
    assert_eq!(json(res).await.1["id"], id.as_str());

    // Days pass: the text follows, the severity too once within a week, then expired.
    app.clock.advance(Duration::days(20));
    let a = items(&alarms(&app, "").await).remove(0);
    assert_eq!(
        (a["id"].as_str(), a["severity"].as_str(), a["count"].as_u64()),
        (Some(id.as_str()), Some("MAJOR"), Some(2))
    );
    app.clock.advance(Duration::days(6));
    let a = items(&alarms(&app, "").await).remove(0);
    assert_eq!(
        (a["id"].as_str(), a["severity"].as_str(), a["count"].as_u64()),
        (Some(id.as_str()), Some("CRITICAL"), Some(3))
    );
    assert!(a["text"].as_str().is_some_and(|t| t.contains("expired")), "{a}");
    // The periodic maintenance evaluates too; neither adds a row.
    app.maintain_now().await;
    items(&alarms(&app, "").await);
    assert_eq!(alarm_rows(&app).await, 1);
    assert_eq!(items(&alarms(&app, "").await)[0]["count"], 3, "re-evaluating the same state changes nothing");
}

#[tokio::test]
async fn deleting_disabling_or_leaving_the_window_clears_the_alarm() {
    let app = TestApp::spawn().await;
    let (a, b) = (ca_expiring_in("CA A", 20), ca_expiring_in("CA B", 20));
    app.trust(&a, "ENABLED", false).await;
    app.trust(&b, "ENABLED", false).await;
    assert_eq!(items(&alarms(&app, "status=ACTIVE").await).len(), 2);

    let res = app.admin(Method::DELETE, &format!("{}/{}", app.certs_url(), fingerprint(&a.pem))).send().await;
    assert_eq!(res.expect("delete").status(), 204);
    let cleared = items(&alarms(&app, "status=CLEARED").await);
    assert_eq!(cleared.len(), 1);
    assert_eq!(cleared[0]["source"]["id"], fingerprint(&a.pem));
    assert_eq!(items(&alarms(&app, "resolved=false").await).len(), 1);

    // A smaller window: B (20 days left) is no longer in it.
    assert_eq!(set_window(&app, json!(10)).await.status(), 200);
    assert!(items(&alarms(&app, "resolved=false").await).is_empty());
    // A larger one: back, the same row.
    assert_eq!(set_window(&app, json!("60")).await.status(), 200);
    let back = items(&alarms(&app, "resolved=false").await);
    assert_eq!((back.len(), back[0]["count"].as_u64()), (1, Some(2)));
    // Disabled: a disabled CA authenticates nobody.
    app.set_certificate(&b, json!({"status": "DISABLED"})).await;
    assert!(items(&alarms(&app, "resolved=false").await).is_empty());
    assert_eq!(alarm_rows(&app).await, 2);

    // Cleared alarms of deleted certificates go after 30 days; the table stays bounded.
    app.clock.advance(Duration::days(31));
    app.maintain_now().await;
    assert_eq!(alarm_rows(&app).await, 0);

    // The window is a whole number of days from 1 to 365.
    for bad in [json!(0), json!(366), json!("soon"), json!(1.5)] {
        assert_error(set_window(&app, bad).await, 422, "options/Unprocessable Entity", "alarms.expiry.window.days")
            .await;
    }
}

#[tokio::test]
async fn a_device_certificate_alarm_names_the_device_and_clears_when_replaced() {
    let app = TestApp::spawn().await;
    let ca = Ca::root("Device CA");
    app.trust(&ca, "ENABLED", true).await;
    let old = ca.device_valid("meter-7", now() - Duration::days(300), now() + Duration::days(5));
    assert_eq!(app.device_token(&old, None).await.0, 200);
    let list = items(&alarms(&app, "type=anchorage_DeviceCertificateExpiring").await);
    assert_eq!(list.len(), 1, "{list:?}");
    let a = &list[0];
    assert_eq!(a["severity"], "MAJOR");
    assert_eq!(a["source"]["name"], "meter-7");
    let mo = a["source"]["id"].as_str().expect("id");
    assert!(mo.bytes().all(|b| b.is_ascii_digit()), "the device's managed object: {mo}");
    assert!(a["source"]["self"].as_str().is_some_and(|s| s.ends_with(&format!("/inventory/managedObjects/{mo}"))));
    assert_eq!(a["anchorage_Certificate"]["deviceId"], "meter-7");
    assert_eq!(a["anchorage_Certificate"]["serialNumberHex"], serial_hex(&old.cert_pem));
    assert!(a["text"].as_str().is_some_and(|t| t.contains("device 'meter-7'")), "{a}");
    // The source filter finds it by its managed object.
    assert_eq!(items(&alarms(&app, &format!("source={mo}")).await).len(), 1);

    // The device presents a renewed certificate: the old one's alarm is cleared, no new one.
    let renewed = ca.device("meter-7");
    assert_eq!(app.device_token(&renewed, None).await.0, 200);
    assert!(items(&alarms(&app, "resolved=false").await).is_empty());
    let cleared = items(&alarms(&app, "resolved=true").await);
    assert_eq!(cleared.len(), 1);
    assert_eq!(cleared[0]["id"], a["id"]);
}

#[tokio::test]
async fn filters_and_paging() {
    let app = TestApp::spawn().await;
    for (name, days) in [("C1", 3), ("C2", 20), ("C3", 25)] {
        app.trust(&ca_expiring_in(name, days), "ENABLED", false).await;
    }
    let all = alarms(&app, "pageSize=2&withTotalPages=true&withTotalElements=true").await;
    assert_eq!(items(&all).len(), 2);
    assert_eq!(all["statistics"]["totalPages"], 2);
    assert_eq!(all["statistics"]["totalElements"], 3);
    assert!(all["next"].as_str().is_some_and(|n| n.contains("currentPage=2")), "{all}");
    let second = alarms(&app, "pageSize=2&currentPage=2").await;
    assert_eq!(items(&second).len(), 1);
    assert!(second["prev"].as_str().is_some_and(|p| p.contains("currentPage=1")));

    assert_eq!(items(&alarms(&app, "severity=MAJOR").await).len(), 1);
    assert_eq!(items(&alarms(&app, "severity=MINOR,MAJOR").await).len(), 3);
    assert_eq!(items(&alarms(&app, "status=ACTIVE,ACKNOWLEDGED&type=anchorage_CaCertificateExpiring").await).len(), 3);
    assert!(items(&alarms(&app, "type=c8y_UnavailabilityAlarm").await).is_empty());
    assert!(items(&alarms(&app, "dateTo=2000-01-01T00:00:00Z").await).is_empty());
    assert_eq!(items(&alarms(&app, "dateFrom=2000-01-01T00:00:00Z").await).len(), 3);

    // Acknowledged: out of status=ACTIVE, still unresolved; it stays acknowledged while its
    // severity stays the same.
    let id = items(&alarms(&app, "severity=MINOR&pageSize=1").await)[0]["id"].as_str().expect("id").to_string();
    let res = app.admin(Method::PUT, &app.url(&format!("{ALARMS}/{id}"))).json(&json!({"status": "ACKNOWLEDGED"}));
    let (status, body) = json(res.send().await.expect("put")).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ACKNOWLEDGED")), "{body}");
    assert_eq!(items(&alarms(&app, "status=ACTIVE").await).len(), 2);
    assert_eq!(items(&alarms(&app, "resolved=false").await).len(), 3);
}

#[tokio::test]
async fn readers_read_admins_change_and_a_cleared_alarm_stays_cleared_until_it_gets_worse() {
    let app = TestApp::spawn().await;
    app.trust(&ca_expiring_in("Edge CA", 20), "ENABLED", false).await;
    let res = app
        .admin(Method::POST, &app.url(&format!("/user/{TENANT}/users")))
        .json(&json!({"userName": "olga", "password": "olga-password-1", "role": "reader"}))
        .send()
        .await
        .expect("reader");
    assert_eq!(res.status(), 201);
    let reader = |method: Method, path: &str| {
        app.client.request(method, app.url(path)).basic_auth(format!("{TENANT}/olga"), Some("olga-password-1"))
    };
    let (status, body) = json(reader(Method::GET, ALARMS).send().await.expect("list")).await;
    assert_eq!(status, 200);
    let id = body["alarms"][0]["id"].as_str().expect("id").to_string();
    let path = format!("{ALARMS}/{id}");
    let res = reader(Method::PUT, &path).json(&json!({"status": "CLEARED"})).send().await.expect("put");
    assert_eq!(res.status(), 403);

    let audit_before = app.audit_count().await;
    let res = app.admin(Method::PUT, &app.url(&path)).json(&json!({"status": "CLEARED"})).send().await;
    let (status, body) = json(res.expect("put")).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("CLEARED")), "{body}");
    assert_eq!(app.audit_count().await, audit_before + 1, "a user's change is audited");
    // Still expiring, same severity: stays cleared.
    app.clock.advance(Duration::days(2));
    assert!(items(&alarms(&app, "resolved=false").await).is_empty());
    // Within a week: worse, so raised again (the same alarm).
    app.clock.advance(Duration::days(12));
    let back = items(&alarms(&app, "resolved=false").await);
    assert_eq!(
        (back.len(), back[0]["id"].as_str(), back[0]["severity"].as_str()),
        (1, Some(id.as_str()), Some("MAJOR"))
    );
}

#[tokio::test]
async fn bad_queries_and_bodies_get_the_platforms_errors() {
    let app = TestApp::spawn().await;
    app.trust(&ca_expiring_in("Bad input CA", 20), "ENABLED", false).await;
    let get = |q: &str| app.admin(Method::GET, &app.url(&format!("{ALARMS}?{q}"))).send();
    for (q, message) in [
        ("status=OPEN", "status must be"),
        ("status=active", "status must be"),
        ("severity=HIGH", "severity must be"),
        ("resolved=maybe", "resolved must be"),
        ("dateFrom=yesterday", "dateFrom must be"),
        ("dateTo=2026-13-01T00:00:00Z", "dateTo must be"),
    ] {
        assert_error(get(q).await.expect("get"), 422, "alarm/Unprocessable Entity", message).await;
    }
    assert_error(get("pageSize=abc").await.expect("get"), 422, "general/Unprocessable Entity", "pageSize").await;
    assert_error(get("currentPage=0").await.expect("get"), 422, "general/Unprocessable Entity", "currentPage").await;
    let long = "t".repeat(300);
    assert_error(get(&format!("type={long}")).await.expect("get"), 422, "alarm/Unprocessable Entity", "type").await;
    assert_eq!(get("pageSize=100000").await.expect("get").status(), 200, "above the maximum, the maximum is served");

    for id in ["abc", "0", "-1", "99999999999999999999", "424242"] {
        let res = app.admin(Method::GET, &app.url(&format!("{ALARMS}/{id}"))).send().await.expect("get");
        assert_error(res, 404, "alarm/Not Found", "Finding alarm").await;
    }
    let id = items(&alarms(&app, "").await)[0]["id"].as_str().expect("id").to_string();
    let url = app.url(&format!("{ALARMS}/{id}"));
    let put = |body: &str| {
        app.admin(Method::PUT, &url).header("Content-Type", "application/json").body(body.to_string()).send()
    };
    assert_error(put("{").await.expect("put"), 400, "general/Bad Request", "Malformed JSON").await;
    assert_error(put(r#"{"status":"SNOOZED"}"#).await.expect("put"), 422, "alarm/Unprocessable Entity", "status").await;
    assert_error(put(r#"{"status":7}"#).await.expect("put"), 422, "alarm/Unprocessable Entity", "status").await;
    assert_error(put("{}").await.expect("put"), 422, "alarm/Unprocessable Entity", "status is required").await;
    assert_error(
        put(r#"{"status":"ACKNOWLEDGED","severity":"WARNING"}"#).await.expect("put"),
        422,
        "alarm/Unprocessable Entity",
        "The severity and text",
    )
    .await;
    // Nothing changed by the refused bodies; the whole alarm sent back is accepted.
    let mut whole = items(&alarms(&app, "").await).remove(0);
    assert_eq!(whole["status"], "ACTIVE");
    whole["status"] = json!("ACKNOWLEDGED");
    let res = app.admin(Method::PUT, &url).json(&whole).send().await.expect("put");
    assert_eq!(res.status(), 200);
    let res = app.admin(Method::POST, &app.url(ALARMS)).json(&json!({"type": "x"})).send().await.expect("post");
    assert_eq!(res.status(), 405, "alarms are raised by anchorage only");
}

/// A key and a CSR for CN `cn` (base64 DER), as a device sends it over EST.
fn est_csr(cn: &str) -> (rcgen::KeyPair, String) {
    use base64::Engine as _;
    let key = rcgen::KeyPair::generate().expect("key");
    let mut p = rcgen::CertificateParams::default();
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    let der = p.serialize_request(&key).expect("csr").der().to_vec();
    (key, base64::engine::general_purpose::STANDARD.encode(der))
}

/// The certificate (PEM) of a successful EST answer.
async fn est_certificate(res: reqwest::Response) -> String {
    use base64::Engine as _;
    assert_eq!(res.status(), 200);
    let text: String = res.text().await.expect("body").split_whitespace().collect();
    let der = base64::engine::general_purpose::STANDARD.decode(text).expect("base64");
    anchorage_common::pem::to_pem(&anchorage_common::pkcs7::certificates(&der).expect("pkcs7")[0])
}

#[tokio::test]
async fn a_certificate_the_tenant_ca_issued_raises_its_alarm_until_re_enrollment_replaces_it() {
    let app = TestApp::spawn().await;
    let res = app.admin(Method::POST, &app.url("/certificate-authority")).send().await.expect("ca");
    assert_eq!(res.status(), 201);
    let url = app.url("/devicecontrol/newDeviceRequests");
    let res = app.admin(Method::POST, &url).json(&json!({"id": "est-9", "enrollmentToken": "one-time-pw-1"}));
    assert_eq!(res.send().await.expect("request").status(), 201);
    let (key, csr) = est_csr("est-9");
    let res = app
        .client
        .post(app.url(anchorage_common::est::SIMPLE_ENROLL_PATH))
        .basic_auth("est-9", Some("one-time-pw-1"))
        .header("Content-Type", "application/pkcs10")
        .body(csr)
        .send()
        .await
        .expect("enroll");
    let first = est_certificate(res).await;
    assert!(items(&alarms(&app, "").await).is_empty(), "a year left");

    // Never used for a token: the issued certificate is the device's current one.
    app.clock.advance(Duration::days(345));
    let list = items(&alarms(&app, "type=anchorage_DeviceCertificateExpiring").await);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["anchorage_Certificate"]["fingerprint"], fingerprint(&first));
    assert_eq!(list[0]["anchorage_Certificate"]["deviceId"], "est-9");
    assert_eq!(list[0]["source"]["name"], "est-9");

    // Re-enrolled over mutual TLS with that certificate: the new one replaces it.
    let device = Device { cert_pem: first, key_pem: key.serialize_pem(), intermediates: Vec::new() };
    let (_, csr) = est_csr("est-9");
    let res = device
        .client(&app.local_ca_pem())
        .post(app.device_url(anchorage_common::est::SIMPLE_REENROLL_PATH))
        .header("Content-Type", "application/pkcs10")
        .body(csr)
        .send()
        .await
        .expect("reenroll");
    est_certificate(res).await;
    assert!(items(&alarms(&app, "resolved=false").await).is_empty());
    assert_eq!(items(&alarms(&app, "resolved=true").await).len(), 1);

    // The re-enrolled certificate's turn; then the device is deleted with its user: its
    // certificates raise nothing any more, and the alarm clears.
    app.clock.advance(Duration::days(360));
    let list = items(&alarms(&app, "resolved=false").await);
    assert_eq!(list.len(), 1, "{list:?}");
    let id = list[0]["source"]["id"].as_str().expect("source id").to_string();
    let url = app.url(&format!("/inventory/managedObjects/{id}?withDeviceUser=true"));
    assert_eq!(app.admin(Method::DELETE, &url).send().await.expect("delete").status(), 204);
    assert!(items(&alarms(&app, "resolved=false").await).is_empty(), "a deleted device's certificate");
}
