//! The offline certificate revocation list: `PUT`/`GET /tenant/trusted-certificates/settings/crl`
//! (JSON and CSV uploads, the paged JSON list, the DER CRL read and verified by the openssl CLI),
//! the signer's certificate, and `anchorage crl remove`.

use std::path::Path;
use std::process::{Command, Stdio};

use anchorage_server::clock::Clock as _;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime, UtcOffset};
use x509_parser::prelude::FromDer as _;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::support::*;

const PATH: &str = "/tenant/trusted-certificates/settings/crl";

fn crl_url(app: &TestApp) -> String {
    app.url(PATH)
}

async fn put_json(app: &TestApp, body: &Value) -> reqwest::Response {
    app.admin(Method::PUT, &crl_url(app)).json(body).send().await.expect("put")
}

async fn put_csv(app: &TestApp, csv: impl Into<Vec<u8>>) -> reqwest::Response {
    let form = Form::new().part("file", Part::bytes(csv.into()).file_name("crl.csv"));
    app.admin(Method::PUT, &crl_url(app)).multipart(form).send().await.expect("put file")
}

/// The JSON list (`query` is the query string after `?`).
async fn list(app: &TestApp, query: &str) -> Value {
    let res = app
        .admin(Method::GET, &format!("{}?{query}", crl_url(app)))
        .header("Accept", "application/json")
        .send()
        .await
        .expect("list");
    let (status, body) = json(res).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The listed `(serial, date)` pairs.
async fn listed(app: &TestApp) -> Vec<(String, String)> {
    list(app, "pageSize=2000").await["crls"]
        .as_array()
        .expect("crls")
        .iter()
        .map(|e| {
            (
                e["serialNumberInHex"].as_str().expect("serial").to_string(),
                e["revocationDate"].as_str().expect("date").to_string(),
            )
        })
        .collect()
}

/// The server's "now" in the platform's format.
fn platform_now(app: &TestApp) -> String {
    anchorage_common::timefmt::platform(app.clock.now())
}

async fn download(app: &TestApp) -> Vec<u8> {
    let res =
        app.admin(Method::GET, &crl_url(app)).header("Accept", "application/pkix-crl").send().await.expect("download");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/pkix-crl"));
    res.bytes().await.expect("body").to_vec()
}

/// Runs openssl in `dir`; its exit status and stdout + stderr.
fn openssl(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().expect("openssl runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

async fn audit_records(app: &TestApp) -> Vec<Value> {
    let (_, body) =
        json(app.admin(Method::GET, &app.url("/audit/auditRecords?pageSize=2000")).send().await.expect("audit")).await;
    body["auditRecords"].as_array().cloned().unwrap_or_default()
}

async fn create_reader(app: &TestApp) {
    let res = app
        .admin(Method::POST, &app.url(&format!("/user/{TENANT}/users")))
        .json(&json!({"userName": "crl-reader", "password": "reader-password-1", "role": "reader"}))
        .send()
        .await
        .expect("create user");
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
}

#[tokio::test]
async fn json_entries_are_added_normalized_and_listed_with_paging_and_search() {
    let app = TestApp::spawn().await;
    let res = put_json(
        &app,
        &json!({"crls": [
            {"serialNumberInHex": "1000", "revocationDate": "2023-01-11T16:12:36.288Z"},
            {"serialNumberInHex": " 0A:1B:2c ", "revocationDate": "2023-01-11T18:12:36+02:00"},
            {"serialNumberInHex": "00FF"}
        ]}),
    )
    .await;
    assert_eq!(res.status(), 204, "{:?}", res.text().await);
    let now = platform_now(&app);
    assert_eq!(
        listed(&app).await,
        vec![
            ("1000".to_string(), "2023-01-11T16:12:36.288Z".to_string()),
            ("a1b2c".to_string(), "2023-01-11T16:12:36.000Z".to_string()),
            ("ff".to_string(), now.clone()),
        ]
    );

    // Paging as the other collections page, with the total on request.
    let page = list(&app, "pageSize=2&currentPage=1&withTotalElements=true").await;
    assert_eq!(page["crls"].as_array().expect("crls").len(), 2);
    assert_eq!(page["statistics"]["totalElements"], 3);
    assert_eq!(page["statistics"]["pageSize"], 2);
    assert!(page["next"].as_str().expect("next").contains("currentPage=2"), "{page}");
    let second = list(&app, "pageSize=2&currentPage=2").await;
    assert_eq!(second["crls"][0]["serialNumberInHex"], "ff");
    assert!(second["prev"].as_str().expect("prev").contains("currentPage=1"));

    // The search is a part of the serial, colons and case ignored, kept in the links.
    let found = list(&app, "query=1B:2&withTotalElements=true").await;
    assert_eq!(found["crls"], json!([{"serialNumberInHex": "a1b2c", "revocationDate": "2023-01-11T16:12:36.000Z"}]));
    assert_eq!(found["statistics"]["totalElements"], 1);
    assert!(found["self"].as_str().expect("self").contains("query=1b2"), "{found}");
    let res = app.admin(Method::GET, &format!("{}?query=xyz", crl_url(&app))).send().await.expect("bad query");
    assert_error(res, 422, "tenant/Unprocessable Entity", "Invalid query: the serial number searched for").await;
}

#[tokio::test]
async fn a_serial_listed_already_keeps_its_entry() {
    let app = TestApp::spawn().await;
    let first = json!({"crls": [{"serialNumberInHex": "abcd", "revocationDate": "2022-02-02T02:02:02.000Z"}]});
    assert_eq!(put_json(&app, &first).await.status(), 204);
    // Again, as "00:AB:CD" with another date, and twice in one request: the first entry stays.
    let again = json!({"crls": [
        {"serialNumberInHex": "00:AB:CD", "revocationDate": "2023-03-03T03:03:03.000Z"},
        {"serialNumberInHex": "beef", "revocationDate": "2021-01-01T00:00:00.000Z"},
        {"serialNumberInHex": "BEEF", "revocationDate": "2020-01-01T00:00:00.000Z"}
    ]});
    assert_eq!(put_json(&app, &again).await.status(), 204);
    assert_eq!(
        listed(&app).await,
        vec![
            ("abcd".to_string(), "2022-02-02T02:02:02.000Z".to_string()),
            ("beef".to_string(), "2021-01-01T00:00:00.000Z".to_string()),
        ]
    );
    let records = audit_records(&app).await;
    let last = records.iter().rev().find(|r| r["activity"] == "Certificate revocation list updated").expect("audited");
    let text = last["text"].as_str().expect("text");
    assert!(text.contains("3 entries sent (JSON), 1 added, 2 already listed"), "{text}");
    assert!(text.contains("abcd, beef, beef"), "{text}");
}

#[tokio::test]
async fn future_and_missing_dates_are_the_server_time() {
    let app = TestApp::spawn().await;
    let at = OffsetDateTime::new_utc(
        time::Date::from_calendar_date(2024, time::Month::March, 4).expect("date"),
        time::Time::from_hms_milli(5, 6, 7, 89).expect("time"),
    );
    app.clock.advance(at - app.clock.now());
    let res = put_json(
        &app,
        &json!({"crls": [
            {"serialNumberInHex": "1", "revocationDate": "2099-01-01T00:00:00.000Z"},
            {"serialNumberInHex": "2", "revocationDate": ""},
            {"serialNumberInHex": "3"}
        ]}),
    )
    .await;
    assert_eq!(res.status(), 204);
    let at = "2024-03-04T05:06:07.089Z".to_string();
    assert_eq!(
        listed(&app).await,
        vec![("1".to_string(), at.clone()), ("2".to_string(), at.clone()), ("3".to_string(), at)]
    );
}

#[tokio::test]
async fn wrong_requests_are_refused_in_words_and_store_nothing() {
    let app = TestApp::spawn().await;
    // A bad date: 400 with the platform's message, exactly.
    let res = put_json(
        &app,
        &json!({"crls": [{"serialNumberInHex": "1000"}, {"serialNumberInHex": "2000", "revocationDate": "11.01.2023"}]}),
    )
    .await;
    let body = assert_error(res, 400, "tenant/Bad Request", "").await;
    assert_eq!(body["message"], "Unsupported date time format");
    // A bad serial: 422 naming the entry and the value.
    let res = put_json(&app, &json!({"crls": [{"serialNumberInHex": "1000"}, {"serialNumberInHex": "12zz"}]})).await;
    let body = assert_error(res, 422, "tenant/Unprocessable Entity", "Invalid entry crls[1]: ").await;
    let message = body["message"].as_str().expect("message");
    assert!(message.contains("\"12zz\" is not hexadecimal"), "{message}");
    // A missing serial.
    let res = put_json(&app, &json!({"crls": [{"revocationDate": "2023-01-11T16:12:36.288Z"}]})).await;
    assert_error(res, 422, "tenant/Unprocessable Entity", "Invalid entry crls[0]: serialNumberInHex is missing.").await;
    // Too long (more than 20 octets).
    let res = put_json(&app, &json!({"crls": [{"serialNumberInHex": "1".repeat(41)}]})).await;
    let body = assert_error(res, 422, "tenant/Unprocessable Entity", "Invalid entry crls[0]: ").await;
    assert!(body["message"].as_str().expect("message").contains("at most 40"), "{body}");
    // No entries.
    for empty in [json!({"crls": []}), json!({})] {
        let res = put_json(&app, &empty).await;
        assert_error(res, 422, "tenant/Unprocessable Entity", "The request has no entries").await;
    }
    // More than 5000 entries in one request.
    let many: Vec<Value> = (1..=5001).map(|i| json!({"serialNumberInHex": format!("{i:x}")})).collect();
    let res = put_json(&app, &json!({ "crls": many })).await;
    assert_error(
        res,
        422,
        "tenant/Unprocessable Entity",
        "At most 5000 entries can be added per request; this one has 5001",
    )
    .await;
    // Not JSON at all.
    let res = app.admin(Method::PUT, &crl_url(&app)).body("1000").send().await.expect("put");
    assert_eq!(res.status(), 415);
    assert!(listed(&app).await.is_empty(), "nothing was stored");
    // 5000 is fine.
    let most: Vec<Value> = (1..=5000).map(|i| json!({"serialNumberInHex": format!("{i:x}")})).collect();
    assert_eq!(put_json(&app, &json!({ "crls": most })).await.status(), 204);
    assert_eq!(list(&app, "withTotalElements=true").await["statistics"]["totalElements"], 5000);
}

#[tokio::test]
async fn csv_files_are_added_with_the_bulk_separators() {
    let app = TestApp::spawn().await;
    // `;` as the separator, a header the platform's OAS shows, CRLF, an empty line, an empty date.
    let csv = "SERIAL NO.;REVOCATION DATE\r\n0A:0B;2023-01-11T16:12:36.288Z\r\n\r\nff;\r\n";
    let res = put_csv(&app, csv).await;
    assert_eq!(res.status(), 204, "{:?}", res.text().await);
    let now = platform_now(&app);
    assert_eq!(
        listed(&app).await,
        vec![("a0b".to_string(), "2023-01-11T16:12:36.288Z".to_string()), ("ff".to_string(), now)]
    );
    // The template of common, as the console offers it, uploads as is.
    let res = put_csv(&app, anchorage_common::crl::csv_template(app.clock.now())).await;
    assert_eq!(res.status(), 204);
    assert!(listed(&app).await.iter().any(|(s, _)| s == "1000"));
    let records = audit_records(&app).await;
    let files: Vec<&Value> = records.iter().filter(|r| r["anchorage_Details"]["source"] == "file").collect();
    assert_eq!(files.len(), 2, "one record per upload");
    assert!(
        files.iter().any(|r| r["text"].as_str().expect("text").contains("2 entries sent (file), 2 added")),
        "{files:?}"
    );
}

#[tokio::test]
async fn one_bad_csv_row_refuses_the_whole_file() {
    let app = TestApp::spawn().await;
    let csv = "SERIALNO,DATE\n1000,2023-01-11T16:12:36.288Z\nnot-hex,2023-01-11T16:12:36.288Z\n2000,\n";
    let res = put_csv(&app, csv).await;
    let body = assert_error(
        res,
        422,
        "tenant/Unprocessable Entity",
        "Cannot read the CRL file: row 2 (line 3: \"not-hex,2023-01-11T16:12:36.288Z\"): the serial number",
    )
    .await;
    assert!(body["message"].as_str().expect("message").ends_with("Nothing was added."), "{body}");
    let res = put_csv(&app, "SERIALNO,DATE\n1000,2023-01-11\n").await;
    assert_error(
        res,
        422,
        "tenant/Unprocessable Entity",
        "Cannot read the CRL file: row 1 (line 2: \"1000,2023-01-11\"): Unsupported date time format",
    )
    .await;
    let res = put_csv(&app, "SERIALNO,DATE\n").await;
    assert_error(res, 422, "tenant/Unprocessable Entity", "Cannot read the CRL file: the file has no entries").await;
    let form = Form::new().part("other", Part::text("SERIALNO,DATE\n1000,\n"));
    let res = app.admin(Method::PUT, &crl_url(&app)).multipart(form).send().await.expect("put");
    assert_error(res, 422, "tenant/Unprocessable Entity", "The multipart body has no part named 'file'.").await;
    assert!(listed(&app).await.is_empty(), "nothing of the refused files was stored");
}

#[tokio::test]
async fn csv_files_of_more_than_5000_rows_or_1_mib_are_refused() {
    let app = TestApp::spawn().await;
    let mut csv = String::from("SERIALNO,DATE\n");
    for i in 1..=5001 {
        csv.push_str(&format!("{i:x},2023-01-11T16:12:36.288Z\n"));
    }
    let res = put_csv(&app, csv).await;
    assert_error(
        res,
        422,
        "tenant/Unprocessable Entity",
        "Cannot read the CRL file: the file has more than 5000 entries; at most 5000 are accepted per file",
    )
    .await;
    let big = format!("SERIALNO,DATE\n{}", "\n".repeat(1024 * 1024));
    let res = put_csv(&app, big).await;
    assert_error(res, 413, "tenant/Payload Too Large", "The CRL file is larger than 1 MiB.").await;
    let huge = vec![b'\n'; 3 * 1024 * 1024];
    let res = put_csv(&app, huge).await;
    assert_eq!(res.status(), 413);
    assert!(listed(&app).await.is_empty());
}

#[tokio::test]
async fn the_crl_downloads_as_der_signed_by_the_published_signer() {
    let app = TestApp::spawn().await;
    let res = put_json(
        &app,
        &json!({"crls": [
            {"serialNumberInHex": "1000", "revocationDate": "2023-01-11T16:12:36.288Z"},
            {"serialNumberInHex": "8F:01:02", "revocationDate": "1949-12-31T23:59:59.000Z"},
            {"serialNumberInHex": "0"}
        ]}),
    )
    .await;
    assert_eq!(res.status(), 204);

    let res = app.admin(Method::GET, &app.url(&format!("{PATH}/signer"))).send().await.expect("signer");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/x-pem-file"));
    let signer_pem = res.text().await.expect("pem");
    assert!(signer_pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{signer_pem}");

    let now = app.clock.now().to_offset(UtcOffset::UTC);
    let der = download(&app).await;
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("anchorage.crl"), &der).expect("write");
    std::fs::write(dir.path().join("signer.pem"), &signer_pem).expect("write");

    // As the platform's docs tell users to read it.
    let (ok, text) = openssl(dir.path(), &["crl", "-inform", "DER", "-text", "-noout", "-in", "anchorage.crl"]);
    assert!(ok, "{text}");
    for expected in [
        "Serial Number: 1000",
        "Revocation Date: Jan 11 16:12:36 2023 GMT",
        "Serial Number: 8F0102",
        "Revocation Date: Dec 31 23:59:59 1949 GMT",
        "Serial Number: 00",
        &format!("Issuer: CN = {TENANT} CRL signer, O = anchorage"),
        "X509v3 CRL Number",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    let (ok, text) =
        openssl(dir.path(), &["crl", "-inform", "DER", "-in", "anchorage.crl", "-CAfile", "signer.pem", "-noout"]);
    assert!(ok && text.contains("verify OK"), "{text}");
    let (ok, text) = openssl(dir.path(), &["x509", "-in", "signer.pem", "-noout", "-text"]);
    assert!(ok && text.contains("CRL Sign"), "{text}");

    // Exactly: the dates, the number, the entries.
    let (_, crl) = CertificateRevocationList::from_der(&der).expect("a CRL");
    let seconds = |t: OffsetDateTime| t.unix_timestamp();
    assert_eq!(crl.last_update().timestamp(), seconds(now));
    assert_eq!(crl.next_update().expect("nextUpdate").timestamp(), seconds(now + Duration::hours(24)));
    let first_number = crl.crl_number().expect("CRL number").clone();
    let mut serials: Vec<String> = crl.iter_revoked_certificates().map(|r| r.raw_serial_as_string()).collect();
    serials.sort();
    assert_eq!(serials, ["00", "00:8f:01:02", "10:00"]);
    let mut normal: Vec<String> =
        crl.iter_revoked_certificates().map(|r| anchorage_common::crl::serial_hex(r.raw_serial())).collect();
    normal.sort();
    assert_eq!(normal, ["0", "1000", "8f0102"], "a listed serial reads back as the device certificate's would");

    // Downloaded again while the list is unchanged: the same CRL, byte for byte.
    app.clock.advance(Duration::minutes(59));
    assert_eq!(download(&app).await, der, "an unchanged list is served as built");

    // A change: a new CRL with a greater number that lists the new entry.
    let added = json!({"crls": [{"serialNumberInHex": "2000", "revocationDate": "2023-01-11T16:12:36.288Z"}]});
    assert_eq!(put_json(&app, &added).await.status(), 204);
    let again = download(&app).await;
    let (_, crl2) = CertificateRevocationList::from_der(&again).expect("a CRL");
    assert!(*crl2.crl_number().expect("CRL number") > first_number);
    assert_eq!(crl2.last_update().timestamp(), seconds(now + Duration::minutes(59)));
    assert_eq!(crl2.iter_revoked_certificates().count(), 4);
    assert_eq!(download(&app).await, again);
    // A serial listed already changes nothing: the same CRL.
    assert_eq!(put_json(&app, &added).await.status(), 204);
    assert_eq!(download(&app).await, again);

    // An unchanged CRL is built again once it is an hour old: later, with a greater number.
    app.clock.advance(Duration::hours(1));
    let third = download(&app).await;
    let (_, crl3) = CertificateRevocationList::from_der(&third).expect("a CRL");
    assert!(crl3.crl_number().expect("CRL number") > crl2.crl_number().expect("CRL number"));
    assert_eq!(crl3.last_update().timestamp(), seconds(now + Duration::minutes(119)));
    assert_eq!(crl3.iter_revoked_certificates().count(), 4);
    std::fs::write(dir.path().join("again.crl"), &again).expect("write");
    let (ok, text) =
        openssl(dir.path(), &["crl", "-inform", "DER", "-in", "again.crl", "-CAfile", "signer.pem", "-noout"]);
    assert!(ok && text.contains("verify OK"), "{text}");

    // Another signer would not verify it (the check can fail).
    std::fs::write(dir.path().join("other.pem"), ca_pem(&format!("{TENANT} CRL signer"))).expect("write");
    let (ok, text) =
        openssl(dir.path(), &["crl", "-inform", "DER", "-in", "again.crl", "-CAfile", "other.pem", "-noout"]);
    assert!(!ok || !text.contains("verify OK"), "{text}");

    // The signer outlives a restart (kept in the database, its key sealed).
    let mut app = app;
    app.restart(None).await;
    let res = app.admin(Method::GET, &app.url(&format!("{PATH}/signer"))).send().await.expect("signer");
    assert_eq!(res.text().await.expect("pem"), signer_pem);
    let db = app.raw_db().await;
    let key: String = sqlx::query_scalar("SELECT private_key FROM crl_signers").fetch_one(&db).await.expect("key");
    assert!(key.starts_with("sealed:v1:"), "the signer's key is sealed at rest");
    db.close().await;
}

#[tokio::test]
async fn an_empty_list_downloads_as_a_crl_without_entries() {
    let app = TestApp::spawn().await;
    let der = download(&app).await;
    let (_, crl) = CertificateRevocationList::from_der(&der).expect("a CRL");
    assert_eq!(crl.iter_revoked_certificates().count(), 0);
}

/// The serials (normal form) of `tenant`'s CRL as downloaded now.
async fn crl_serials(app: &TestApp) -> Vec<String> {
    let der = download(app).await;
    let (_, crl) = CertificateRevocationList::from_der(&der).expect("a CRL");
    crl.iter_revoked_certificates().map(|r| anchorage_common::crl::serial_hex(r.raw_serial())).collect()
}

/// The tenant's CRL counter as stored.
async fn stored_crl_number(app: &TestApp) -> i64 {
    let db = app.raw_db().await;
    let n = sqlx::query_scalar("SELECT crl_number FROM crl_signers").fetch_one(&db).await.expect("number");
    db.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_downloads_share_one_build() {
    let app = TestApp::spawn().await;
    // 25,000 entries (the CRL reads them in chunks of 10,000) written straight into the file.
    let db = app.raw_db().await;
    sqlx::query(&format!(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 25000) \
         INSERT INTO crl_entries (tenant_id, serial_hex, revocation_date, created_at) \
         SELECT $1, {}, '2023-01-01T00:00:00.000Z', '2023-01-01T00:00:00.000Z' FROM n",
        hex_sql(&app, "x")
    ))
    .bind(TENANT)
    .execute(&db)
    .await
    .expect("fill");
    db.close().await;
    let before = {
        let first = download(&app).await;
        assert_eq!(download(&app).await, first);
        stored_crl_number(&app).await
    };
    // A change, then eight downloads at once: one build, one new number, the same bytes.
    assert_eq!(put_json(&app, &json!({"crls": [{"serialNumberInHex": "abcdef"}]})).await.status(), 204);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let request = app.admin(Method::GET, &crl_url(&app)).header("Accept", "application/pkix-crl");
            tokio::spawn(async move {
                let res = request.send().await.expect("download");
                assert_eq!(res.status(), 200);
                res.bytes().await.expect("body").to_vec()
            })
        })
        .collect();
    let mut bodies = Vec::new();
    for task in tasks {
        bodies.push(task.await.expect("task"));
    }
    assert!(bodies.iter().all(|b| *b == bodies[0]), "every download got the same CRL");
    let (_, crl) = CertificateRevocationList::from_der(&bodies[0]).expect("a CRL");
    let mut serials: Vec<String> =
        crl.iter_revoked_certificates().map(|r| anchorage_common::crl::serial_hex(r.raw_serial())).collect();
    serials.sort();
    let mut expected: Vec<String> = (1..=25000).map(|i| format!("{i:x}")).chain(["abcdef".to_string()]).collect();
    expected.sort();
    assert_eq!(serials, expected, "every entry, once");
    // One number for the change, one for the single build.
    assert_eq!(stored_crl_number(&app).await, before + 2);
}

#[tokio::test]
async fn readers_can_read_the_list_but_not_change_it() {
    let app = TestApp::spawn().await;
    assert_eq!(put_json(&app, &json!({"crls": [{"serialNumberInHex": "1000"}]})).await.status(), 204);
    create_reader(&app).await;
    let reader = |method: Method, path: &str| {
        app.client.request(method, app.url(path)).basic_auth(format!("{TENANT}/crl-reader"), Some("reader-password-1"))
    };
    let res = reader(Method::GET, PATH).send().await.expect("list");
    let (status, body) = json(res).await;
    assert_eq!(status, 200);
    assert_eq!(body["crls"][0]["serialNumberInHex"], "1000");
    let res = reader(Method::GET, PATH).header("Accept", "application/pkix-crl").send().await.expect("crl");
    assert_eq!(res.status(), 200);
    assert_eq!(reader(Method::GET, &format!("{PATH}/signer")).send().await.expect("signer").status(), 200);
    let res =
        reader(Method::PUT, PATH).json(&json!({"crls": [{"serialNumberInHex": "2000"}]})).send().await.expect("put");
    assert_eq!(res.status(), 403);
    let res = app.client.get(crl_url(&app)).send().await.expect("anonymous");
    assert_eq!(res.status(), 401);
    assert_eq!(listed(&app).await.len(), 1);
}

#[tokio::test]
async fn a_tenant_list_holds_at_most_a_million_entries() {
    let app = TestApp::spawn().await;
    // 999,999 entries written straight into the database file.
    let db = app.raw_db().await;
    sqlx::query(&format!(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 999999) \
         INSERT INTO crl_entries (tenant_id, serial_hex, revocation_date, created_at) \
         SELECT $1, {}, '2023-01-01T00:00:00.000Z', '2023-01-01T00:00:00.000Z' FROM n",
        hex_sql(&app, "x + 1048576")
    ))
    .bind(TENANT)
    .execute(&db)
    .await
    .expect("fill");
    db.close().await;
    let res = put_json(&app, &json!({"crls": [{"serialNumberInHex": "1"}, {"serialNumberInHex": "2"}]})).await;
    assert_error(
        res,
        422,
        "tenant/Unprocessable Entity",
        "The certificate revocation list can hold at most 1000000 entries; with these it would hold 1000001.",
    )
    .await;
    // A serial listed already adds nothing and is fine; one more fills the list.
    let listed_already = json!({"crls": [{"serialNumberInHex": "100001"}]});
    assert_eq!(put_json(&app, &listed_already).await.status(), 204);
    assert_eq!(put_json(&app, &json!({"crls": [{"serialNumberInHex": "1"}]})).await.status(), 204);
    let total = list(&app, "withTotalElements=true&query=1").await;
    assert_eq!(total["crls"][0]["serialNumberInHex"], "1");
    assert_eq!(list(&app, "withTotalElements=true").await["statistics"]["totalElements"], 1_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_removes_an_entry_and_records_it() {
    let app = TestApp::spawn().await;
    let body = json!({"crls": [{"serialNumberInHex": "10:00", "revocationDate": "2023-01-11T16:12:36.288Z"}]});
    assert_eq!(put_json(&app, &body).await.status(), 204);
    let data_dir = app.db_path().parent().expect("data dir").to_path_buf();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_anchorage"))
            .arg("--data-dir")
            .arg(&data_dir)
            .args(args)
            .env("ANCHORAGE_DATABASE_URL", app.database_url())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .expect("runs")
    };
    assert_eq!(crl_serials(&app).await, ["1000"]);
    let out = run(&["crl", "remove", "00:10:00", "--tenant", TENANT]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains(&format!(
            "removed serial 1000 (revoked on 2023-01-11T16:12:36.288Z) from the certificate revocation list of tenant '{TENANT}'"
        )),
        "{stdout}"
    );
    assert!(listed(&app).await.is_empty(), "the running server sees the removal");
    assert!(crl_serials(&app).await.is_empty(), "the CRL kept before the removal is not served again");
    let records = audit_records(&app).await;
    let removal = records
        .iter()
        .find(|r| r["activity"] == "Certificate revocation list entry removed")
        .expect("the removal is in the audit log");
    assert!(removal["text"].as_str().expect("text").contains("Serial 1000"), "{removal}");

    // Again: not listed any more → a failure in words.
    let out = run(&["--tenant", TENANT, "crl", "remove", "1000"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("serial 1000 is not in the certificate revocation list of tenant '{TENANT}'")),
        "{stderr}"
    );
    let out = run(&["crl", "remove", "xyz", "--tenant", TENANT]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not hexadecimal"));
}

/// SQL for the lowercase hex of an integer expression, on the server's backend.
fn hex_sql(app: &TestApp, expr: &str) -> String {
    if app.on_postgres() { format!("to_hex({expr})") } else { format!("printf('%x', {expr})") }
}
