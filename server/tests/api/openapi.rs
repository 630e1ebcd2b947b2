//! The OpenAPI document (`GET /openapi.json`, `server/openapi.json`) against the route table and
//! the running server:
//!
//! 1. every (method, path) of `routes::endpoints()` is an operation of the served document with
//!    the same access (`x-anchorage-access`), and every operation of the document is in the
//!    table (or is one of the few routes `lib.rs` serves outside it);
//! 2. the document is OpenAPI 3.1 in structure, every `$ref` resolves, and its schemas use only
//!    the JSON Schema keywords the validator below understands (so nothing is silently
//!    unchecked);
//! 3. the server's answers conform: for every GET of the table and the main changes, the status
//!    is one the operation lists, the media type one the response lists, and a JSON body
//!    validates against the documented schema.
//!
//! The validator is a small JSON Schema subset written here (docs/decisions.md, "OpenAPI
//! document (issue 16)", says why there is no validator crate or schemathesis).

use std::collections::{BTreeMap, BTreeSet};

use anchorage_server::routes::{Access, endpoints};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use time::Duration;

use crate::support::*;

/// Routes `lib.rs` serves outside the access table: public, and not API paths.
const OUTSIDE_THE_TABLE: &[(&str, &str)] = &[("GET", "/health"), ("GET", "/ready"), ("GET", "/openapi.json")];

/// The HTTP methods a path item can hold.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// The JSON Schema keywords the validator checks.
const ASSERTIONS: &[&str] = &[
    "$ref",
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "anyOf",
    "oneOf",
    "allOf",
];
/// Keywords that only annotate (nothing to check).
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "format",
    "default",
    "examples",
    "contentMediaType",
    "readOnly",
    "writeOnly",
    "deprecated",
];

fn access_name(a: Access) -> &'static str {
    match a {
        Access::Public => "public",
        Access::Authenticated => "authenticated",
        Access::Read => "read",
        Access::Admin => "admin",
    }
}

/// The document as the server serves it.
async fn served_document(app: &TestApp) -> Value {
    let res = app.client.get(app.url("/openapi.json")).send().await.expect("openapi.json");
    assert_eq!(res.status(), 200);
    res.json().await.expect("the document is JSON")
}

/// Every operation of the document: (METHOD, path) → operation.
fn operations(doc: &Value) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.insert((method.to_ascii_uppercase(), path.clone()), op.clone());
            }
        }
    }
    out
}

#[tokio::test]
async fn every_route_of_the_access_table_is_documented_with_its_access_and_the_reverse() {
    let app = TestApp::spawn().await;
    let doc = served_document(&app).await;
    let documented = operations(&doc);
    let table: BTreeMap<(String, String), &str> =
        endpoints().iter().map(|e| ((e.method.to_string(), e.path.to_string()), access_name(e.access))).collect();
    let outside: BTreeSet<(String, String)> =
        OUTSIDE_THE_TABLE.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();

    let mut problems = Vec::new();
    for ((method, path), access) in &table {
        match documented.get(&(method.clone(), path.clone())) {
            None => problems.push(format!("in the table, not in the document: {method} {path} ({access})")),
            Some(op) if op["x-anchorage-access"] != *access => problems.push(format!(
                "{method} {path}: the table says {access}, the document's x-anchorage-access says {}",
                op["x-anchorage-access"]
            )),
            Some(_) => {}
        }
    }
    for key @ (method, path) in documented.keys() {
        if !table.contains_key(key) && !outside.contains(key) {
            problems.push(format!("in the document, not in the table: {method} {path}"));
        }
    }
    // The few routes outside the table are documented as public and served to anyone.
    for key @ (method, path) in &outside {
        match documented.get(key) {
            Some(op) if op["x-anchorage-access"] == "public" => {}
            _ => problems.push(format!("{method} {path} (served by lib.rs) is not documented as public")),
        }
        let res = app.client.request(method.parse().expect("method"), app.url(path)).send().await.expect("request");
        if res.status() != 200 {
            problems.push(format!("{method} {path} without credentials answered {}", res.status()));
        }
    }
    assert!(problems.is_empty(), "the document and the access table differ:\n{}", problems.join("\n"));
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_every_reference_resolves() {
    let app = TestApp::spawn().await;
    let doc = served_document(&app).await;
    let embedded: Value = serde_json::from_str(anchorage_server::openapi::DOCUMENT).expect("JSON");
    assert_eq!(doc, embedded, "the server serves the embedded document");

    let mut problems = Vec::new();
    structure(&doc, &mut problems);
    each_ref(&doc, "#", &mut |at, target| {
        let resolves = target.strip_prefix('#').is_some_and(|pointer| doc.pointer(pointer).is_some());
        if !resolves {
            problems.push(format!("{at}: $ref {target} does not resolve"));
        }
    });
    for (at, schema) in schemas(&doc) {
        check_keywords(schema, &at, &mut problems);
    }
    // The refusal codes are the ones the server records.
    let documented: Vec<&str> = doc["components"]["schemas"]["RefusalReason"]["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let codes: Vec<&str> = anchorage_common::refusal::Reason::ALL.iter().map(|r| r.code()).collect();
    if documented != codes {
        problems.push(format!("RefusalReason lists {documented:?}, the server's codes are {codes:?}"));
    }
    assert!(problems.is_empty(), "the document is not valid:\n{}", problems.join("\n"));
}

#[tokio::test]
async fn the_document_is_public_cacheable_json() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/openapi.json")).send().await.expect("openapi.json");
    assert_eq!(res.status(), 200);
    let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(header("content-type"), "application/json");
    assert!(header("cache-control").contains("max-age="), "{}", header("cache-control"));
    let etag = header("etag");
    assert_eq!(etag, anchorage_server::openapi::etag());
    let again = app.client.get(app.url("/openapi.json")).header("If-None-Match", &etag).send().await.expect("again");
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.expect("body").is_empty());
    let other =
        app.client.get(app.url("/openapi.json")).header("If-None-Match", "\"other\"").send().await.expect("other");
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn the_servers_answers_conform_to_the_document() {
    let app = TestApp::spawn().await;
    let doc = served_document(&app).await;
    let check = Conformance { doc: &doc };
    let admin = |method: Method, path: &str| app.admin(method, &app.url(path));

    // Trusted certificates: create, duplicate, refused, update, bulk, proof-of-possession code.
    let root = Ca::root("OpenAPI Root");
    let certs = format!("/tenant/tenants/{TENANT}/trusted-certificates");
    let certs_t = "/tenant/tenants/{tenant_id}/trusted-certificates";
    let one_t = "/tenant/tenants/{tenant_id}/trusted-certificates/{fingerprint}";
    let new_root = json!({"name": "OpenAPI Root", "certInPemFormat": root.pem, "status": "ENABLED", "autoRegistrationEnabled": true});
    check.answer("POST", certs_t, admin(Method::POST, &certs).json(&new_root), 201).await;
    check.answer("POST", certs_t, admin(Method::POST, &certs).json(&new_root), 409).await;
    let bad = json!({"certInPemFormat": "not a certificate", "status": "ENABLED"});
    check.answer("POST", certs_t, admin(Method::POST, &certs).json(&bad), 422).await;
    let fp = fingerprint(&root.pem);
    let one = format!("{certs}/{fp}");
    check
        .answer("PUT", one_t, admin(Method::PUT, &one).json(&json!({"fingerprint": fp, "name": "Renamed"})), 200)
        .await;
    let bulk = json!({"certificates": [body("OpenAPI Bulk", &ca_pem("OpenAPI Bulk"), "DISABLED")]});
    let bulk_t = "/tenant/tenants/{tenant_id}/trusted-certificates/bulk";
    check.answer("POST", bulk_t, admin(Method::POST, &format!("{certs}/bulk")).json(&bulk), 201).await;
    let code_t = "/tenant/tenants/{tenant_id}/trusted-certificates-pop/{fingerprint}/verification-code";
    let code = format!("/tenant/tenants/{TENANT}/trusted-certificates-pop/{fp}/verification-code");
    check.answer("POST", code_t, admin(Method::POST, &code), 200).await;

    // The device token: issued over mutual TLS, refused for an unknown issuer, and 404 on the
    // plain API listener.
    let token_t = "/devicecontrol/deviceAccessToken";
    let device = root.device("openapi-1");
    let token = device.client(&app.local_ca_pem()).post(app.device_url(token_t)).header("Accept", "application/json");
    check.answer("POST", token_t, token, 200).await;
    let stranger = Ca::root("OpenAPI Stranger").device("openapi-2");
    let refused = stranger.client(&app.local_ca_pem()).post(app.device_url(token_t));
    let (_, body) = check.answer("POST", token_t, refused, 401).await;
    assert_eq!(body["reason"], "UNKNOWN_ISSUER", "{body}");
    check.answer("POST", token_t, app.client.post(app.url(token_t)), 404).await;

    // Tenant options.
    let options_t = "/tenant/options";
    let option_t = "/tenant/options/{category}/{key}";
    let category_t = "/tenant/options/{category}";
    let option = json!({"category": "openapi", "key": "k1", "value": "v1"});
    check.answer("POST", options_t, admin(Method::POST, options_t).json(&option), 200).await;
    check.answer("POST", options_t, admin(Method::POST, options_t).json(&json!({"key": "k1"})), 422).await;
    check
        .answer("PUT", option_t, admin(Method::PUT, "/tenant/options/openapi/k2").json(&json!({"value": true})), 200)
        .await;
    check
        .answer("PUT", category_t, admin(Method::PUT, "/tenant/options/openapi").json(&json!({"k3": "v3"})), 200)
        .await;
    check.answer("DELETE", option_t, admin(Method::DELETE, "/tenant/options/openapi/k3"), 204).await;
    check.answer("GET", option_t, admin(Method::GET, "/tenant/options/openapi/k3"), 404).await;

    // Users.
    let users_t = "/user/{tenant_id}/users";
    let user_t = "/user/{tenant_id}/users/{user_name}";
    let users = format!("/user/{TENANT}/users");
    let reader = json!({"userName": "openapi-reader", "password": "reader-password-1", "role": "reader"});
    check.answer("POST", users_t, admin(Method::POST, &users).json(&reader), 201).await;
    check.answer("POST", users_t, admin(Method::POST, &users).json(&reader), 409).await;
    let change = json!({"password": "reader-password-2"});
    check.answer("PUT", user_t, admin(Method::PUT, &format!("{users}/openapi-reader")).json(&change), 200).await;
    let device_user = format!("{users}/device_openapi-1?withCertificates=true");
    let (_, body) = check.answer("GET", user_t, admin(Method::GET, &device_user), 200).await;
    assert_eq!(body["deviceId"], "openapi-1", "{body}");

    // Devices: a new device request, bulk registration.
    let requests_t = "/devicecontrol/newDeviceRequests";
    let request = json!({"id": "openapi-req-1", "enrollmentToken": "one-time-password-1"});
    check.answer("POST", requests_t, admin(Method::POST, requests_t).json(&request), 201).await;
    check.answer("POST", requests_t, admin(Method::POST, requests_t).json(&json!({"id": "bad id"})), 422).await;
    let csv = "ID;AUTH_TYPE;CREDENTIALS\nopenapi-bulk-1;CERTIFICATES;\nbad id;CERTIFICATES;\n";
    let file = Part::bytes(csv.as_bytes().to_vec()).file_name("bulk.csv").mime_str("text/csv").expect("mime");
    let bulk_t = "/devicecontrol/bulkNewDeviceRequests";
    check.answer("POST", bulk_t, admin(Method::POST, bulk_t).multipart(Form::new().part("file", file)), 201).await;

    // Devices: which ids are registered already, disable and enable a device's user (a disabled
    // device is refused a token), delete a device with its user.
    let existing_t = "/anchorage/bulk-registration/existing";
    let ids = json!({"ids": ["openapi-1", "openapi-unknown", "openapi-1"]});
    let (_, body) = check.answer("POST", existing_t, admin(Method::POST, existing_t).json(&ids), 200).await;
    assert_eq!(body["existing"], json!(["openapi-1"]), "{body}");
    let bad_ids = json!({"ids": ["openapi-1", "bad id"]});
    check.answer("POST", existing_t, admin(Method::POST, existing_t).json(&bad_ids), 422).await;
    let too_many = json!({"ids": (0..10_001).map(|i| format!("d{i}")).collect::<Vec<_>>()});
    check.answer("POST", existing_t, admin(Method::POST, existing_t).json(&too_many), 422).await;
    let huge = format!("{{\"ids\": [\"{}\"]}}", "x".repeat(6 * 1024 * 1024));
    let huge = admin(Method::POST, existing_t).header("Content-Type", "application/json").body(huge);
    check.answer("POST", existing_t, huge, 413).await;
    let text = admin(Method::POST, existing_t).header("Content-Type", "text/plain").body("openapi-1");
    check.answer("POST", existing_t, text, 415).await;
    let mo = |external: &str| {
        let url = app.url(&format!("/identity/externalIds/c8y_Serial/{external}"));
        let req = app.admin(Method::GET, &url);
        async move {
            let (status, body) = json(req.send().await.expect("external id")).await;
            assert_eq!(status, 200, "{body}");
            body["managedObject"]["id"].as_str().expect("a managed object id").to_string()
        }
    };
    let device_mo = mo("openapi-1").await;
    let user_t = "/inventory/managedObjects/{id}/user";
    let device_user = format!("/inventory/managedObjects/{device_mo}/user");
    let off = admin(Method::PUT, &device_user).json(&json!({"enabled": false}));
    let (_, body) = check.answer("PUT", user_t, off, 200).await;
    assert_eq!(body["enabled"], false, "{body}");
    let token = device.client(&app.local_ca_pem()).post(app.device_url(token_t)).header("Accept", "application/json");
    check.answer("POST", token_t, token, 401).await;
    let (_, body) =
        json(admin(Method::GET, &format!("/inventory/managedObjects/{device_mo}")).send().await.expect("get")).await;
    assert_eq!(body["anchorage_Registration"]["enabled"], false, "{body}");
    let on = admin(Method::PUT, &device_user).json(&json!({"enabled": true}));
    let (_, body) = check.answer("PUT", user_t, on, 200).await;
    assert_eq!(body["enabled"], true, "{body}");
    let wrong = admin(Method::PUT, &device_user).json(&json!({"enabled": "no"}));
    check.answer("PUT", user_t, wrong, 422).await;
    let nobody = admin(Method::PUT, "/inventory/managedObjects/999999/user").json(&json!({"enabled": false}));
    check.answer("PUT", user_t, nobody, 404).await;
    let mo_t = "/inventory/managedObjects/{id}";
    let bulk_mo = format!("/inventory/managedObjects/{}", mo("openapi-bulk-1").await);
    check.answer("DELETE", mo_t, admin(Method::DELETE, &format!("{bulk_mo}?withDeviceUser=maybe")), 422).await;
    check.answer("DELETE", mo_t, admin(Method::DELETE, &format!("{bulk_mo}?withDeviceUser=true")), 204).await;
    check.answer("DELETE", mo_t, admin(Method::DELETE, &bulk_mo), 404).await;
    check.answer("GET", mo_t, admin(Method::GET, &bulk_mo), 404).await;

    // Devices that last got a token through a trusted certificate.
    let count_t = "/tenant/tenants/{tenant_id}/trusted-certificates/{fingerprint}/devices/count";
    let (_, body) = check.answer("GET", count_t, admin(Method::GET, &format!("{one}/devices/count")), 200).await;
    assert_eq!(body["count"], 1, "{body}");
    let unknown = format!("{certs}/{}/devices/count", "0".repeat(40));
    check.answer("GET", count_t, admin(Method::GET, &unknown), 404).await;

    // Expiry alarms: a CA 10 days from its end raises one; filters; acknowledge, clear.
    let expiring = Ca::root_with("OpenAPI Expiring", |p| p.not_after = now() + Duration::days(10));
    let new_expiring = json!({"name": "OpenAPI Expiring", "certInPemFormat": expiring.pem, "status": "ENABLED"});
    check.answer("POST", certs_t, admin(Method::POST, &certs).json(&new_expiring), 201).await;
    let alarms_t = "/alarm/alarms";
    let filtered = "/alarm/alarms?status=ACTIVE,ACKNOWLEDGED&severity=MINOR,MAJOR&type=anchorage_CaCertificateExpiring\
                    &resolved=false&dateFrom=2000-01-01T00:00:00.000Z&withTotalPages=true&withTotalElements=true";
    let (_, list) = check.answer("GET", alarms_t, admin(Method::GET, filtered), 200).await;
    let alarms = list["alarms"].as_array().cloned().unwrap_or_default();
    assert_eq!(alarms.len(), 1, "{list}");
    assert_eq!(alarms[0]["severity"], "MINOR", "{list}");
    assert_eq!(alarms[0]["source"]["id"], fingerprint(&expiring.pem), "{list}");
    let alarm_id = alarms[0]["id"].as_str().expect("an alarm id").to_string();
    for bad in ["/alarm/alarms?severity=SEVERE", "/alarm/alarms?resolved=maybe", "/alarm/alarms?dateTo=yesterday"] {
        check.answer("GET", alarms_t, admin(Method::GET, bad), 422).await;
    }
    let alarm_t = "/alarm/alarms/{id}";
    let alarm = format!("/alarm/alarms/{alarm_id}");
    let ack = admin(Method::PUT, &alarm).json(&json!({"status": "ACKNOWLEDGED"}));
    let (_, body) = check.answer("PUT", alarm_t, ack, 200).await;
    assert_eq!(body["status"], "ACKNOWLEDGED", "{body}");
    let mut whole = alarms[0].clone();
    whole["status"] = json!("CLEARED");
    let clear = admin(Method::PUT, &alarm).header("Content-Type", "application/vnd.com.nsn.cumulocity.alarm+json");
    let (_, body) = check.answer("PUT", alarm_t, clear.body(whole.to_string()), 200).await;
    assert_eq!(body["status"], "CLEARED", "{body}");
    let reword = admin(Method::PUT, &alarm).json(&json!({"status": "ACTIVE", "text": "Not anchorage's"}));
    check.answer("PUT", alarm_t, reword, 422).await;
    let unknown = admin(Method::PUT, &alarm).json(&json!({"status": "DONE"}));
    check.answer("PUT", alarm_t, unknown, 422).await;
    let missing = admin(Method::PUT, "/alarm/alarms/999999").json(&json!({"status": "CLEARED"}));
    check.answer("PUT", alarm_t, missing, 404).await;
    check.answer("GET", alarm_t, admin(Method::GET, "/alarm/alarms/999999"), 404).await;

    // Revocation list, the tenant's CA, the chain doctor.
    let crl_t = "/tenant/trusted-certificates/settings/crl";
    check
        .answer("PUT", crl_t, admin(Method::PUT, crl_t).json(&json!({"crls": [{"serialNumberInHex": "1a2b"}]})), 204)
        .await;
    check.answer("PUT", crl_t, admin(Method::PUT, crl_t).json(&json!({"crls": []})), 422).await;
    check.answer("GET", crl_t, admin(Method::GET, crl_t).header("Accept", "application/pkix-crl"), 200).await;
    check.answer("POST", "/certificate-authority", admin(Method::POST, "/certificate-authority"), 201).await;
    check.answer("POST", "/certificate-authority", admin(Method::POST, "/certificate-authority"), 409).await;
    check
        .answer("POST", "/certificate-authority/renew", admin(Method::POST, "/certificate-authority/renew"), 422)
        .await;
    let doctor_t = "/tenant/trusted-certificates/verify-cert-chain";
    let chain = device.cert_pem.replace(['\r', '\n'], " ");
    let doctor = admin(Method::POST, doctor_t).header("X-Cumulocity-Client-Cert-Chain", chain);
    let (_, body) = check.answer("POST", doctor_t, doctor, 200).await;
    assert_eq!(body["tokenWouldBeIssued"], true, "{body}");

    // Sessions: a Bearer token, a cookie session and its logout.
    let form = [("grant_type", "PASSWORD"), ("username", ADMIN), ("password", PASSWORD)];
    let token_login = app.client.post(app.url(&format!("/tenant/oauth/token?tenant_id={TENANT}"))).form(&form);
    check.answer("POST", "/tenant/oauth/token", token_login, 200).await;
    let wrong = [("grant_type", "PASSWORD"), ("username", ADMIN), ("password", "wrong-password")];
    let refused = app.client.post(app.url(&format!("/tenant/oauth/token?tenant_id={TENANT}"))).form(&wrong);
    check.answer("POST", "/tenant/oauth/token", refused, 401).await;
    let cookie_login = app.client.post(app.url(&format!("/tenant/oauth?tenant_id={TENANT}"))).form(&form);
    let res = cookie_login.send().await.expect("login");
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .collect();
    check.response("POST", "/tenant/oauth", res, 200).await;
    let xsrf = cookies.iter().find_map(|c| c.strip_prefix("XSRF-TOKEN=")).expect("XSRF cookie").to_string();
    let logout =
        app.client.post(app.url("/user/logout")).header("cookie", cookies.join("; ")).header("X-XSRF-TOKEN", xsrf);
    check.answer("POST", "/user/logout", logout, 204).await;

    // Refusals of the access rules.
    check.answer("GET", "/tenant/currentTenant", app.client.get(app.url("/tenant/currentTenant")), 401).await;
    let as_reader =
        app.client.post(app.url(&certs)).basic_auth(format!("{TENANT}/openapi-reader"), Some("reader-password-2"));
    check.answer("POST", certs_t, as_reader.json(&new_root), 403).await;

    // A reader changes their own password: a wrong current one and a short new one are refused;
    // after the change the old password no longer works, the new one does.
    let password_t = "/user/currentUser/password";
    let as_reader = |password: &str| {
        app.client.put(app.url(password_t)).basic_auth(format!("{TENANT}/openapi-reader"), Some(password.to_string()))
    };
    let guess = json!({"currentUserPassword": "not-the-password", "newPassword": "reader-password-3"});
    check.answer("PUT", password_t, as_reader("reader-password-2").json(&guess), 422).await;
    let short = json!({"currentUserPassword": "reader-password-2", "newPassword": "short"});
    check.answer("PUT", password_t, as_reader("reader-password-2").json(&short), 422).await;
    let change = json!({"currentUserPassword": "reader-password-2", "newPassword": "reader-password-3"});
    check.answer("PUT", password_t, as_reader("reader-password-2").json(&change), 204).await;
    check.answer("PUT", password_t, as_reader("reader-password-2").json(&change), 401).await;
    let me = app.client.get(app.url("/user/currentUser"));
    let me = me.basic_auth(format!("{TENANT}/openapi-reader"), Some("reader-password-3"));
    check.answer("GET", "/user/currentUser", me, 200).await;

    // Every GET of the table, with the resources made above; each must succeed.
    let (_, devices) =
        json(admin(Method::GET, "/inventory/managedObjects?pageSize=1").send().await.expect("list")).await;
    let device_id = devices["managedObjects"][0]["id"].as_str().expect("a device").to_string();
    let (_, records) = json(admin(Method::GET, "/audit/auditRecords?pageSize=1").send().await.expect("list")).await;
    let record_id = records["auditRecords"][0]["id"].as_str().expect("a record").to_string();
    // (A GET missing from the document is the first test's failure; here the documented ones.)
    let documented = operations(&doc);
    let mut problems = Vec::new();
    let gets = endpoints().into_iter().filter(|e| e.method == Method::GET);
    for e in gets.filter(|e| documented.contains_key(&("GET".to_string(), e.path.to_string()))) {
        let id = match e.path {
            p if p.starts_with("/audit/") => record_id.as_str(),
            p if p.starts_with("/alarm/") => alarm_id.as_str(),
            p if p.starts_with("/inventory/") => device_id.as_str(),
            p if p.starts_with("/devicecontrol/newDeviceRequests") => "openapi-req-1",
            _ => "unknown",
        };
        let path = e
            .path
            .replace("{tenant_id}", TENANT)
            .replace("{fingerprint}", &fp)
            .replace("{user_name}", ADMIN)
            .replace("{category}", "openapi")
            .replace("{key}", "k1")
            .replace("{id_type}", "c8y_Serial")
            .replace("{external_id}", "openapi-1")
            .replace("{id}", id);
        let res = admin(Method::GET, &path).send().await.expect("request");
        let status = res.status().as_u16();
        if !(200..300).contains(&status) {
            problems.push(format!("GET {path} (an admin, after set-up) answered {status}"));
        }
        if let Err(e) = check.check("GET", e.path, res, status).await {
            problems.push(e);
        }
    }
    assert!(problems.is_empty(), "answers that do not conform:\n{}", problems.join("\n"));
}

/// Checks answers against the document.
struct Conformance<'a> {
    doc: &'a Value,
}

impl Conformance<'_> {
    /// Sends `req`, expects `status`, and checks the answer against the operation `method template`.
    async fn answer(&self, method: &str, template: &str, req: reqwest::RequestBuilder, status: u16) -> (u16, Value) {
        let res = req.send().await.expect("request");
        self.response(method, template, res, status).await
    }

    /// Checks `res` (expected: `status`) against the operation `method template`: a documented
    /// status, a documented media type, and a JSON body valid against its schema. The status
    /// and the JSON body (`null` for other bodies).
    async fn response(&self, method: &str, template: &str, res: reqwest::Response, status: u16) -> (u16, Value) {
        self.check(method, template, res, status).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Self::response`], with what does not conform as the error.
    async fn check(
        &self,
        method: &str,
        template: &str,
        res: reqwest::Response,
        status: u16,
    ) -> Result<(u16, Value), String> {
        let what = format!("{method} {template}");
        let got = res.status().as_u16();
        let media_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
        let bytes = res.bytes().await.map_err(|e| format!("{what}: reading the body: {e}"))?;
        let text = String::from_utf8_lossy(&bytes);
        if got != status {
            return Err(format!("{what} answered {got}, not {status}: {text}"));
        }
        let op = self.doc["paths"].get(template).and_then(|p| p.get(method.to_ascii_lowercase()));
        let op = op.ok_or_else(|| format!("{what} is not in the document"))?;
        let documented = op["responses"].get(got.to_string()).or_else(|| op["responses"].get("default"));
        let documented =
            documented.ok_or_else(|| format!("{what} answered {got}, which the document does not list"))?;
        let Some(content) = self.resolve(documented).get("content").and_then(Value::as_object) else {
            if !bytes.is_empty() {
                return Err(format!("{what} {got}: the document lists no body, the server sent {text}"));
            }
            return Ok((got, Value::Null));
        };
        let media_type = media_type.ok_or_else(|| format!("{what} {got}: no Content-Type"))?;
        let Some(media) = content.get(&media_type) else {
            return Err(format!("{what} {got}: {media_type} is not among {:?}", content.keys().collect::<Vec<_>>()));
        };
        if !(media_type == "application/json" || media_type.ends_with("+json")) {
            return Ok((got, Value::Null));
        }
        let body: Value =
            serde_json::from_slice(&bytes).map_err(|e| format!("{what} {got}: not JSON ({e}): {text}"))?;
        let mut errors = Vec::new();
        self.validate(&media["schema"], &body, "body", &mut errors);
        if !errors.is_empty() {
            return Err(format!(
                "{what} {got}: the body does not match the document:\n{}\n{body:#}",
                errors.join("\n")
            ));
        }
        Ok((got, body))
    }

    /// `v`, or what its `$ref` points at.
    fn resolve<'v>(&'v self, v: &'v Value) -> &'v Value {
        match v.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => self.doc.pointer(pointer).unwrap_or_else(|| panic!("$ref #{pointer} does not resolve")),
            None => v,
        }
    }

    /// Validates `value` against `schema` (the subset of JSON Schema in [`ASSERTIONS`]).
    fn validate(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => return errors.push(format!("{at}: not allowed here")),
            Value::Object(o) => o,
            other => return errors.push(format!("{at}: the schema {other} is not an object")),
        };
        for (keyword, arg) in schema {
            match keyword.as_str() {
                "$ref" => match arg.as_str().and_then(|r| r.strip_prefix('#')).and_then(|p| self.doc.pointer(p)) {
                    Some(target) => self.validate(target, value, at, errors),
                    None => errors.push(format!("{at}: $ref {arg} does not resolve")),
                },
                "type" => {
                    let types: Vec<&str> = match arg {
                        Value::String(s) => vec![s.as_str()],
                        other => other.as_array().into_iter().flatten().filter_map(Value::as_str).collect(),
                    };
                    if !types.iter().any(|t| has_type(value, t)) {
                        errors.push(format!("{at}: {value} is not of type {arg}"));
                    }
                }
                "enum" if !arg.as_array().is_some_and(|a| a.contains(value)) => {
                    errors.push(format!("{at}: {value} is not one of {arg}"))
                }
                "const" if arg != value => errors.push(format!("{at}: {value} is not {arg}")),
                "properties" => {
                    for (name, sub) in arg.as_object().into_iter().flatten() {
                        if let Some(v) = value.get(name).filter(|_| value.is_object()) {
                            self.validate(sub, v, &format!("{at}.{name}"), errors);
                        }
                    }
                }
                "required" => {
                    for name in arg.as_array().into_iter().flatten().filter_map(Value::as_str) {
                        if value.as_object().is_some_and(|o| !o.contains_key(name)) {
                            errors.push(format!("{at}: {name} is missing"));
                        }
                    }
                }
                "additionalProperties" => {
                    let known = schema.get("properties").and_then(Value::as_object);
                    for (name, v) in value.as_object().into_iter().flatten() {
                        if !known.is_some_and(|k| k.contains_key(name)) {
                            match arg {
                                Value::Bool(false) => errors.push(format!("{at}: {name} is not documented")),
                                sub => self.validate(sub, v, &format!("{at}.{name}"), errors),
                            }
                        }
                    }
                }
                "items" => {
                    for (i, v) in value.as_array().into_iter().flatten().enumerate() {
                        self.validate(arg, v, &format!("{at}[{i}]"), errors);
                    }
                }
                "minItems" | "maxItems" | "minLength" | "maxLength" | "minimum" | "maximum" => {
                    let size = match keyword.as_str() {
                        "minItems" | "maxItems" => value.as_array().map(|a| a.len() as f64),
                        "minLength" | "maxLength" => value.as_str().map(|s| s.chars().count() as f64),
                        _ => value.as_f64(),
                    };
                    let bound = arg.as_f64().unwrap_or_default();
                    let ok = match keyword.as_str() {
                        "minItems" | "minLength" | "minimum" => size.is_none_or(|s| s >= bound),
                        _ => size.is_none_or(|s| s <= bound),
                    };
                    if !ok {
                        errors.push(format!("{at}: {value} breaks {keyword} {arg}"));
                    }
                }
                "anyOf" | "oneOf" | "allOf" => {
                    let results: Vec<Vec<String>> = arg
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|sub| {
                            let mut e = Vec::new();
                            self.validate(sub, value, at, &mut e);
                            e
                        })
                        .collect();
                    let passed = results.iter().filter(|e| e.is_empty()).count();
                    let ok = match keyword.as_str() {
                        "anyOf" => passed >= 1,
                        "oneOf" => passed == 1,
                        _ => passed == results.len(),
                    };
                    if !ok {
                        errors.push(format!("{at}: {passed} of the {keyword} alternatives match: {results:?}"));
                    }
                }
                k if ASSERTIONS.contains(&k) || ANNOTATIONS.contains(&k) => {}
                other => errors.push(format!("{at}: the validator does not know the keyword {other}")),
            }
        }
    }
}

/// Whether `value` is of the JSON Schema type `t`.
fn has_type(value: &Value, t: &str) -> bool {
    match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

/// Calls `f(location, target)` for every `$ref` in `v`.
fn each_ref(v: &Value, at: &str, f: &mut impl FnMut(&str, &str)) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                match (k.as_str(), x) {
                    ("$ref", Value::String(target)) => f(at, target),
                    _ => each_ref(x, &format!("{at}/{k}"), f),
                }
            }
        }
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| each_ref(x, &format!("{at}/{i}"), f)),
        _ => {}
    }
}

/// Every schema object the document holds at the top of a schema position (components,
/// parameters, headers, media types), with where it is.
fn schemas(doc: &Value) -> Vec<(String, &Value)> {
    let mut out: Vec<(String, &Value)> = Vec::new();
    for (name, s) in doc["components"]["schemas"].as_object().into_iter().flatten() {
        out.push((format!("components.schemas.{name}"), s));
    }
    fn walk<'v>(v: &'v Value, at: &str, out: &mut Vec<(String, &'v Value)>) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    if k == "schema" {
                        out.push((format!("{at}.schema"), x));
                    } else if k != "schemas" {
                        walk(x, &format!("{at}.{k}"), out);
                    }
                }
            }
            Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| walk(x, &format!("{at}[{i}]"), out)),
            _ => {}
        }
    }
    walk(&doc["paths"], "paths", &mut out);
    walk(&doc["components"], "components", &mut out);
    out
}

/// Every keyword of `schema` and its subschemas is one the validator checks or an annotation.
fn check_keywords(schema: &Value, at: &str, problems: &mut Vec<String>) {
    let Some(o) = schema.as_object() else {
        if !schema.is_boolean() {
            problems.push(format!("{at}: a schema must be an object or a boolean"));
        }
        return;
    };
    for (k, v) in o {
        match k.as_str() {
            "properties" => {
                for (name, sub) in v.as_object().into_iter().flatten() {
                    check_keywords(sub, &format!("{at}.{name}"), problems);
                }
            }
            "items" | "additionalProperties" => check_keywords(v, &format!("{at}.{k}"), problems),
            "anyOf" | "oneOf" | "allOf" => {
                for (i, sub) in v.as_array().into_iter().flatten().enumerate() {
                    check_keywords(sub, &format!("{at}.{k}[{i}]"), problems);
                }
            }
            "type" => {
                let known = ["null", "boolean", "object", "array", "string", "number", "integer"];
                let types: Vec<&Value> =
                    if v.is_array() { v.as_array().into_iter().flatten().collect() } else { vec![v] };
                if !types.iter().all(|t| t.as_str().is_some_and(|t| known.contains(&t))) {
                    problems.push(format!("{at}: unknown type {v}"));
                }
            }
            "required" if !v.as_array().is_some_and(|a| a.iter().all(Value::is_string)) => {
                problems.push(format!("{at}: required must list names"))
            }
            "enum" if v.as_array().is_none_or(|a| a.is_empty()) => {
                problems.push(format!("{at}: enum must list values"))
            }
            k if ASSERTIONS.contains(&k) || ANNOTATIONS.contains(&k) => {}
            other => problems.push(format!("{at}: keyword {other} is not checked by the test's validator")),
        }
    }
}

/// The structure of an OpenAPI 3.1 document, as far as anchorage's uses it: the required
/// fields, known fields only (besides `x-` extensions) where the specification closes an
/// object, path parameters declared, responses described, unique operation ids, known
/// security schemes and tags.
fn structure(doc: &Value, problems: &mut Vec<String>) {
    let mut problem = |p: String| problems.push(p);
    let fields = |v: &Value, at: &str, allowed: &[&str], problem: &mut dyn FnMut(String)| match v.as_object() {
        None => problem(format!("{at} must be an object")),
        Some(o) => {
            for k in o.keys().filter(|k| !k.starts_with("x-") && !allowed.contains(&k.as_str())) {
                problem(format!("{at}: unknown field {k}"));
            }
        }
    };
    fields(
        doc,
        "document",
        &[
            "openapi",
            "info",
            "jsonSchemaDialect",
            "servers",
            "paths",
            "webhooks",
            "components",
            "security",
            "tags",
            "externalDocs",
        ],
        &mut problem,
    );
    if !doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")) {
        problem(format!("openapi must be 3.1.x, not {}", doc["openapi"]));
    }
    fields(
        &doc["info"],
        "info",
        &["title", "summary", "description", "termsOfService", "contact", "license", "version"],
        &mut problem,
    );
    if !doc["info"]["title"].is_string() || !doc["info"]["version"].is_string() {
        problem("info needs a title and a version".into());
    }
    let schemes: BTreeSet<&str> =
        doc["components"]["securitySchemes"].as_object().into_iter().flatten().map(|(k, _)| k.as_str()).collect();
    for (name, s) in doc["components"]["securitySchemes"].as_object().into_iter().flatten() {
        let ok = match s["type"].as_str() {
            Some("http") => s["scheme"].is_string(),
            Some("apiKey") => {
                s["name"].is_string() && ["query", "header", "cookie"].contains(&s["in"].as_str().unwrap_or(""))
            }
            Some("mutualTLS") => true,
            Some("oauth2") => s["flows"].is_object(),
            Some("openIdConnect") => s["openIdConnectUrl"].is_string(),
            _ => false,
        };
        if !ok {
            problem(format!("security scheme {name} is not valid"));
        }
    }
    let check_security = |sec: &Value, at: &str, problem: &mut dyn FnMut(String)| {
        for requirement in sec.as_array().into_iter().flatten() {
            for (name, scopes) in requirement.as_object().into_iter().flatten() {
                if !schemes.contains(name.as_str()) || !scopes.is_array() {
                    problem(format!("{at}: security requirement {name} names no scheme"));
                }
            }
        }
    };
    check_security(&doc["security"], "document", &mut problem);
    let tags: BTreeSet<&str> =
        doc["tags"].as_array().into_iter().flatten().filter_map(|t| t["name"].as_str()).collect();
    let mut operation_ids = BTreeSet::new();
    let Some(paths) = doc["paths"].as_object() else { return problem("paths must be an object".into()) };
    for (path, item) in paths {
        if !path.starts_with('/') {
            problem(format!("path {path} must start with /"));
        }
        fields(
            item,
            path,
            &["$ref", "summary", "description", "servers", "parameters"]
                .iter()
                .chain(METHODS.iter())
                .copied()
                .collect::<Vec<_>>(),
            &mut problem,
        );
        let templated: BTreeSet<&str> = path.split('{').skip(1).filter_map(|s| s.split('}').next()).collect();
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let at = format!("{} {path}", method.to_ascii_uppercase());
            fields(
                op,
                &at,
                &[
                    "tags",
                    "summary",
                    "description",
                    "externalDocs",
                    "operationId",
                    "parameters",
                    "requestBody",
                    "responses",
                    "callbacks",
                    "deprecated",
                    "security",
                    "servers",
                ],
                &mut problem,
            );
            match op["operationId"].as_str() {
                Some(id) if !operation_ids.insert(id.to_string()) => {
                    problem(format!("{at}: operationId {id} is used twice"))
                }
                Some(_) => {}
                None => problem(format!("{at}: no operationId")),
            }
            if !op["summary"].is_string() {
                problem(format!("{at}: no summary"));
            }
            for tag in op["tags"].as_array().into_iter().flatten() {
                if !tag.as_str().is_some_and(|t| tags.contains(t)) {
                    problem(format!("{at}: tag {tag} is not declared"));
                }
            }
            if !["public", "authenticated", "read", "admin"].contains(&op["x-anchorage-access"].as_str().unwrap_or(""))
            {
                problem(format!("{at}: x-anchorage-access must be public, authenticated, read or admin"));
            }
            check_security(&op["security"], &at, &mut problem);
            let mut declared = BTreeSet::new();
            for p in op["parameters"].as_array().into_iter().flatten() {
                let p = p.get("$ref").and_then(Value::as_str).and_then(|r| doc.pointer(&r[1..])).unwrap_or(p);
                fields(
                    p,
                    &format!("{at} parameter"),
                    &[
                        "name",
                        "in",
                        "description",
                        "required",
                        "deprecated",
                        "allowEmptyValue",
                        "style",
                        "explode",
                        "allowReserved",
                        "schema",
                        "example",
                        "examples",
                        "content",
                    ],
                    &mut problem,
                );
                let (Some(name), Some(place)) = (p["name"].as_str(), p["in"].as_str()) else {
                    problem(format!("{at}: a parameter needs name and in"));
                    continue;
                };
                if !["query", "header", "path", "cookie"].contains(&place)
                    || !(p["schema"].is_object() || p["content"].is_object())
                {
                    problem(format!("{at}: parameter {name} is not valid"));
                }
                if place == "path" {
                    if p["required"] != true {
                        problem(format!("{at}: path parameter {name} must be required"));
                    }
                    declared.insert(name);
                }
            }
            if declared != templated {
                problem(format!("{at}: path parameters {declared:?} differ from the template's {templated:?}"));
            }
            if let Some(body) = op.get("requestBody") {
                let body = body.get("$ref").and_then(Value::as_str).and_then(|r| doc.pointer(&r[1..])).unwrap_or(body);
                fields(body, &format!("{at} requestBody"), &["description", "content", "required"], &mut problem);
                if body["content"].as_object().is_none_or(|c| c.is_empty()) {
                    problem(format!("{at}: requestBody needs content"));
                }
            }
            let Some(responses) = op["responses"].as_object().filter(|r| !r.is_empty()) else {
                problem(format!("{at}: no responses"));
                continue;
            };
            for (code, r) in responses {
                let valid_code = code == "default"
                    || (code.len() == 3
                        && code.starts_with(['1', '2', '3', '4', '5'])
                        && (code[1..].bytes().all(|b| b.is_ascii_digit()) || &code[1..] == "XX"));
                if !valid_code {
                    problem(format!("{at}: response code {code} is not valid"));
                }
                let r = r.get("$ref").and_then(Value::as_str).and_then(|t| doc.pointer(&t[1..])).unwrap_or(r);
                fields(r, &format!("{at} {code}"), &["description", "headers", "content", "links"], &mut problem);
                if !r["description"].is_string() {
                    problem(format!("{at} {code}: a response needs a description"));
                }
                for (media_type, m) in r["content"].as_object().into_iter().flatten() {
                    fields(
                        m,
                        &format!("{at} {code} {media_type}"),
                        &["schema", "example", "examples", "encoding"],
                        &mut problem,
                    );
                }
            }
        }
    }
}
