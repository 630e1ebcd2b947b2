//! What the console's Devices page needs from the inventory: the total count, a server-side
//! search (name, id, serial in hex or decimal, fingerprint) with bounded pages, the CA and the
//! certificate each device last used, disabling a device (refused tokens, its tokens revoked)
//! and deleting it with its device user, as the platform's API does it.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::*;

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    json(app.admin(Method::GET, &app.url(path)).send().await.expect("get")).await
}

async fn list(app: &TestApp, query: &str) -> Value {
    let (status, body) =
        get(app, &format!("/inventory/managedObjects?fragmentType=c8y_IsDevice&withTotalElements=true&{query}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn ids(body: &Value) -> Vec<String> {
    body["managedObjects"]
        .as_array()
        .expect("managedObjects")
        .iter()
        .filter_map(|m| m["anchorage_Registration"]["deviceId"].as_str().map(String::from))
        .collect()
}

/// The managed object id of device `device_id`.
async fn object_id(app: &TestApp, device_id: &str) -> String {
    let (status, body) = get(app, &format!("/identity/externalIds/c8y_Serial/{device_id}")).await;
    assert_eq!(status, 200, "{body}");
    body["managedObject"]["id"].as_str().expect("id").to_string()
}

async fn set_enabled(app: &TestApp, mo: &str, enabled: bool) -> (u16, Value) {
    let url = app.url(&format!("/inventory/managedObjects/{mo}/user"));
    json(app.admin(Method::PUT, &url).json(&json!({"enabled": enabled})).send().await.expect("put")).await
}

#[tokio::test]
async fn devices_are_counted_searched_and_paged_on_the_server_and_show_their_ca() {
    let app = TestApp::spawn().await;
    let root = Ca::root("Fleet Root");
    app.trust(&root, "ENABLED", true).await;
    let devices: Vec<_> = ["pump-001", "pump-002", "valve-001"].iter().map(|id| root.device(id)).collect();
    for d in &devices {
        assert_eq!(app.device_token(d, None).await.0, 200);
    }

    // The count with the first page only.
    let page = list(&app, "pageSize=2&currentPage=1").await;
    assert_eq!(page["statistics"]["totalElements"], 3, "{page}");
    assert_eq!(ids(&page).len(), 2);
    let page2 = list(&app, "pageSize=2&currentPage=2").await;
    assert_eq!(ids(&page2).len(), 1);

    // Search by id or name; the count follows the search.
    let found = list(&app, "text=PUMP").await;
    assert_eq!(ids(&found), ["pump-001", "pump-002"]);
    assert_eq!(found["statistics"]["totalElements"], 2);

    // The registration fragment: enabled, the CA by fingerprint and name, the certificate's
    // serial in hex and its end of validity.
    let valve = list(&app, "text=valve").await;
    let reg = &valve["managedObjects"][0]["anchorage_Registration"];
    assert_eq!(reg["enabled"], true, "{reg}");
    assert_eq!(reg["lastCaFingerprint"], fingerprint(&root.pem));
    assert_eq!(reg["lastCaName"], "Fleet Root");
    let valve_cert = &devices[2].cert_pem;
    assert_eq!(reg["lastCertificateSerialHex"].as_str(), Some(serial_hex(valve_cert).as_str()));
    assert!(reg["lastCertificateNotAfter"].as_str().is_some_and(|t| t.ends_with('Z')), "{reg}");
    assert!(reg["lastTokenTime"].is_string());

    // By serial, as openssl prints it (upper case) or with colons, and by fingerprint.
    let hex = serial_hex(valve_cert).to_ascii_uppercase();
    assert_eq!(ids(&list(&app, &format!("text={hex}")).await), ["valve-001"]);
    let with_colons: Vec<String> = format!("{:0>width$}", hex, width = hex.len().div_ceil(2) * 2)
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    assert_eq!(ids(&list(&app, &format!("text={}", with_colons.join(":"))).await), ["valve-001"]);
    let fp = fingerprint(valve_cert);
    assert_eq!(ids(&list(&app, &format!("text={}", fp.to_ascii_uppercase())).await), ["valve-001"]);
    let none = list(&app, "text=no-such-device").await;
    assert_eq!((ids(&none).len(), none["statistics"]["totalElements"].as_u64()), (0, Some(0)));

    // Bounded: a page above the platform's 2000 is cut to 2000, an overlong search refused.
    let (status, body) = get(&app, "/inventory/managedObjects?pageSize=5000").await;
    assert_eq!((status, body["statistics"]["pageSize"].as_u64()), (200, Some(2000)), "{body}");
    assert_eq!(get(&app, "/inventory/managedObjects?pageSize=0").await.0, 422);
    let (status, body) = get(&app, &format!("/inventory/managedObjects?text={}", "a".repeat(300))).await;
    assert_eq!(status, 422, "{body}");
}

#[tokio::test]
async fn a_disabled_device_is_refused_tokens_and_loses_the_ones_it_has_until_enabled() {
    let app = TestApp::spawn().await;
    let root = Ca::root("Disable Root");
    app.trust(&root, "ENABLED", true).await;
    let device = root.device("disable-me");
    let (status, body) = app.device_token(&device, None).await;
    assert_eq!(status, 200);
    let token = body["accessToken"].as_str().expect("token").to_string();
    let me = || app.client.get(app.url("/user/currentUser")).bearer_auth(&token).send();
    assert_eq!(me().await.expect("me").status(), 200);

    let mo = object_id(&app, "disable-me").await;
    let (status, user) = set_enabled(&app, &mo, false).await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user, json!({"userName": "device_disable-me", "enabled": false, "self": user["self"]}));
    let (_, shown) = get(&app, &format!("/inventory/managedObjects/{mo}/user")).await;
    assert_eq!(shown["enabled"], false);
    let (_, object) = get(&app, &format!("/inventory/managedObjects/{mo}")).await;
    assert_eq!(object["anchorage_Registration"]["enabled"], false);

    // No new token, and the one it holds stops working.
    let (status, body) = app.device_token(&device, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("'disable-me' is disabled")), "{body}");
    assert_eq!(body["reason"], "DEVICE_DISABLED", "{body}");
    assert_eq!(me().await.expect("me").status(), 401);
    // The chain doctor says why.
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(device.cert_pem.clone().into_bytes()).file_name("d.pem"));
    let res = app
        .admin(Method::POST, &app.url("/tenant/trusted-certificates/verify-cert-chain"))
        .multipart(form)
        .send()
        .await
        .expect("doctor");
    let doctor: serde_json::Value = res.json().await.expect("json");
    assert_eq!((doctor["tokenWouldBeIssued"].as_bool(), &doctor["reason"]), (Some(false), &json!("DEVICE_DISABLED")));
    // Recorded: the admin's action and the refusal.
    let (_, audit) = get(&app, "/audit/auditRecords?pageSize=50").await;
    let texts: Vec<&str> =
        audit["auditRecords"].as_array().expect("records").iter().filter_map(|r| r["text"].as_str()).collect();
    assert!(texts.iter().any(|t| t.contains("Device 'disable-me' disabled")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("Device token refused") && t.contains("is disabled")), "{texts:?}");

    // Enabled again: a token again.
    assert_eq!(set_enabled(&app, &mo, true).await.0, 200);
    assert_eq!(app.device_token(&device, None).await.0, 200);

    // Bad input changes nothing; readers cannot change it.
    let url = app.url(&format!("/inventory/managedObjects/{mo}/user"));
    let res = app.admin(Method::PUT, &url).json(&json!({"enabled": "no"})).send().await.expect("put");
    assert!(matches!(res.status().as_u16(), 400 | 422), "{}", res.status());
    assert_eq!(set_enabled(&app, "999999", false).await.0, 404);
    assert_eq!(set_enabled(&app, "not-a-number", false).await.0, 404);
    let res = app
        .admin(Method::POST, &app.url(&format!("/user/{TENANT}/users")))
        .json(&json!({"userName": "dev-reader", "password": "reader-password-1", "role": "reader"}))
        .send()
        .await
        .expect("reader");
    assert_eq!(res.status(), 201);
    let res = app
        .client
        .put(&url)
        .basic_auth(format!("{TENANT}/dev-reader"), Some("reader-password-1"))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .expect("reader put");
    assert_eq!(res.status(), 403);
    assert_eq!(app.device_token(&device, None).await.0, 200);
}

#[tokio::test]
async fn deleting_a_device_with_its_user_removes_its_identity_and_credentials() {
    let app = TestApp::spawn().await;
    let root = Ca::root("Delete Root");
    // Auto-registration off: a deleted device is then not registered any more.
    app.trust(&root, "ENABLED", false).await;
    let (status, body) = crate::bulk_registration::upload(
        &app,
        "ID;AUTH_TYPE;CREDENTIALS;TYPE;NAME\ndel-1;CERTIFICATES;;c8y_Device;Delete me\nkeep-1;CERTIFICATES;;c8y_Device;Keep me\n",
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let device = root.device("del-1");
    let (status, body) = app.device_token(&device, None).await;
    assert_eq!(status, 200, "{body}");
    let token = body["accessToken"].as_str().expect("token").to_string();
    let mo = object_id(&app, "del-1").await;

    let url = app.url(&format!("/inventory/managedObjects/{mo}?withDeviceUser=true"));
    let res = app.admin(Method::DELETE, &url).send().await.expect("delete");
    assert_eq!(res.status(), 204);
    assert_eq!(get(&app, &format!("/inventory/managedObjects/{mo}")).await.0, 404);
    assert_eq!(get(&app, "/identity/externalIds/c8y_Serial/del-1").await.0, 404);
    assert_eq!(get(&app, &format!("/user/{TENANT}/users/device_del-1")).await.0, 404);
    let rest = list(&app, "").await;
    assert_eq!((ids(&rest), rest["statistics"]["totalElements"].as_u64()), (vec!["keep-1".to_string()], Some(1)));
    // Its token is gone, and it is not registered any more.
    let me = app.client.get(app.url("/user/currentUser")).bearer_auth(&token).send().await.expect("me");
    assert_eq!(me.status(), 401);
    let (status, body) = app.device_token(&device, None).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("not registered")), "{body}");
    let (_, audit) = get(&app, "/audit/auditRecords?pageSize=50").await;
    assert!(audit.to_string().contains("Device 'del-1' deleted with its device user"), "{audit}");

    // Again: 404, nothing else changes.
    let res = app.admin(Method::DELETE, &url).send().await.expect("again");
    assert_eq!(res.status(), 404);
    assert_eq!(list(&app, "").await["statistics"]["totalElements"], 1);

    // Without withDeviceUser the device user stays (the platform's default).
    let keep = object_id(&app, "keep-1").await;
    let res =
        app.admin(Method::DELETE, &app.url(&format!("/inventory/managedObjects/{keep}"))).send().await.expect("delete");
    assert_eq!(res.status(), 204);
    assert_eq!(list(&app, "").await["statistics"]["totalElements"], 0);
    assert_eq!(app.device_token(&root.device("keep-1"), None).await.0, 200);
    // A device user left without its managed object is whole, as the platform leaves it.
    let problems = app.check_db().await;
    assert!(problems.is_empty(), "{problems:?}");
}
