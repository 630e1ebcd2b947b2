//! `POST /devicecontrol/bulkNewDeviceRequests` and the inventory it fills: the platform's
//! answer for a mixed file, multipart and size errors, rows whole or absent after a kill -9,
//! and bulk-registered certificate devices getting tokens without auto-registration.

use std::process::{Command, Stdio};
use std::time::{Duration as StdDuration, Instant};

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::support::local_and_proxied;
use crate::support::*;

fn form(csv: impl Into<Vec<u8>>) -> Form {
    Form::new()
        .part("file", Part::bytes(csv.into()).file_name("bulk-registration.csv").mime_str("text/csv").expect("mime"))
}

pub(crate) async fn upload(app: &TestApp, csv: &str) -> (u16, Value) {
    let res = app
        .admin(Method::POST, &app.url("/devicecontrol/bulkNewDeviceRequests"))
        .multipart(form(csv))
        .send()
        .await
        .expect("upload");
    json(res).await
}

local_and_proxied!(a_mixed_file_is_answered_in_the_platforms_shape, app, {
    let (status, first) = upload(&app, "ID;AUTH_TYPE;CREDENTIALS;TYPE;NAME\nc-01;CERTIFICATES;;c8y_Device;Cert 1\nb-01;BASIC;a-device-password;c8y_Device;Basic 1\n").await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["numberOfCreated"], 2);

    let csv = "\"ID\";\"AUTH_TYPE\";\"CREDENTIALS\";\"TYPE\";\"NAME\"\n\
               \"c-01\";\"CERTIFICATES\";\"\";\"c8y_Device\";\"Cert 1 renamed\"\n\
               \"c-02\";\"CERTIFICATES\";\"\";\"c8y_Device\";\"Cert 2\"\n\
               \"bad id\";\"CERTIFICATES\";\"\";\"c8y_Device\";\"x\"\n\
               \"c-03\";\"CERTIFICATES\";\"oops\";\"c8y_Device\";\"x\"\n";
    let res = app
        .admin(Method::POST, &app.url("/devicecontrol/bulkNewDeviceRequests"))
        .multipart(form(csv))
        .send()
        .await
        .expect("upload");
    assert_eq!(
        res.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/vnd.com.nsn.cumulocity.bulknewdevicerequest+json")
    );
    let (status, body) = json(res).await;
    assert_eq!(status, 201);
    assert_eq!(
        body,
        json!({
            "numberOfAll": 4, "numberOfCreated": 1, "numberOfFailed": 2, "numberOfSuccessful": 2,
            "credentialUpdatedList": [{"bulkNewDeviceStatus": "CREDENTIAL_UPDATED", "deviceId": "c-01"}],
            "failedCreationList": [
                {"bulkNewDeviceStatus": "FAILED", "deviceId": "bad id",
                 "failureReason": "The device id 'bad id' contains whitespace, which is not allowed (no whitespace, '/', '+', '$' or ':')",
                 "line": "DeviceInfo{id='bad id', line=4}"},
                {"bulkNewDeviceStatus": "FAILED", "deviceId": "c-03",
                 "failureReason": "CREDENTIALS must be empty when AUTH_TYPE is CERTIFICATES",
                 "line": "DeviceInfo{id='c-03', line=5}"}
            ]
        })
    );
    // Credentials never come back, and the BASIC password is stored only as a hash.
    assert!(!body.to_string().contains("a-device-password"));
    let db = app.raw_db().await;
    let hash: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM device_users WHERE user_name = 'device_b-01'")
            .fetch_one(&db)
            .await
            .expect("row");
    assert!(hash.is_some_and(|h| h.starts_with("$argon2")));

    // The inventory shows them, searchable, with external ids.
    let (_, list) = json(
        app.admin(
            Method::GET,
            &app.url("/inventory/managedObjects?fragmentType=c8y_IsDevice&withTotalPages=true&pageSize=10"),
        )
        .send()
        .await
        .expect("list"),
    )
    .await;
    assert_eq!(list["statistics"]["totalPages"], 1);
    let names: Vec<&str> =
        list["managedObjects"].as_array().expect("a").iter().filter_map(|m| m["name"].as_str()).collect();
    assert_eq!(names, ["Cert 1 renamed", "Basic 1", "Cert 2"]);
    let reg = &list["managedObjects"][0]["anchorage_Registration"];
    assert_eq!(
        (reg["deviceId"].as_str(), reg["authType"].as_str(), reg["registeredBy"].as_str()),
        (Some("c-01"), Some("CERTIFICATES"), Some("BULK"))
    );
    let (_, found) =
        json(app.admin(Method::GET, &app.url("/inventory/managedObjects?text=basic")).send().await.expect("search"))
            .await;
    assert_eq!(found["managedObjects"].as_array().map(Vec::len), Some(1));
    let (status, ext) =
        json(app.admin(Method::GET, &app.url("/identity/externalIds/c8y_Serial/c-02")).send().await.expect("ext"))
            .await;
    assert_eq!((status, ext["externalId"].as_str()), (200, Some("c-02")));
    let mo = ext["managedObject"]["id"].as_str().expect("id").to_string();
    let (status, obj) =
        json(app.admin(Method::GET, &app.url(&format!("/inventory/managedObjects/{mo}"))).send().await.expect("mo"))
            .await;
    assert_eq!((status, obj["name"].as_str()), (200, Some("Cert 2")));
    let res = app.admin(Method::GET, &app.url("/identity/externalIds/c8y_Serial/nope")).send().await.expect("ext");
    assert_error(
        res,
        404,
        "identity/Not Found",
        "External id not found; external id = ID [type=c8y_Serial, value=nope]",
    )
    .await;
    let res = app.admin(Method::GET, &app.url("/inventory/managedObjects/999999")).send().await.expect("mo");
    assert_error(
        res,
        404,
        "inventory/Not Found",
        "Finding device data from database failed : No managedObject for id '999999'!",
    )
    .await;
});

local_and_proxied!(failed_rows_are_listed_in_line_order, app, {
    // Failures found by the rules (lines 3, 5, 9, 10) and by registering (line 4: the external
    // id line 2 took), with IDs that sort the other way round: the list follows the lines,
    // as numbers (10 after 9).
    let csv = "ID;AUTH_TYPE;external-c8y_Imei\n\
               zz-owner;CERTIFICATES;imei-1\n\
               yy bad;CERTIFICATES;\n\
               bb-claim;CERTIFICATES;imei-1\n\
               aa bad;CERTIFICATES;\n\
               ok-6;CERTIFICATES;\n\
               ok-7;CERTIFICATES;\n\
               ok-8;CERTIFICATES;\n\
               ;CERTIFICATES;\n\
               ;CERTIFICATES;\n";
    let (status, body) = upload(&app, csv).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!((body["numberOfCreated"].as_u64(), body["numberOfFailed"].as_u64()), (Some(4), Some(5)), "{body}");
    let lines: Vec<&str> =
        body["failedCreationList"].as_array().expect("list").iter().filter_map(|f| f["line"].as_str()).collect();
    assert_eq!(
        lines,
        [
            "DeviceInfo{id='yy bad', line=3}",
            "DeviceInfo{id='bb-claim', line=4}",
            "DeviceInfo{id='aa bad', line=5}",
            "DeviceInfo{id='', line=9}",
            "DeviceInfo{id='', line=10}",
        ],
        "{body}"
    );
    assert!(
        body["failedCreationList"][1]["failureReason"].as_str().is_some_and(|r| r.contains("already belongs")),
        "{body}"
    );
});

local_and_proxied!(files_that_cannot_be_read_say_why_and_register_nothing, app, {
    // An unclosed quote used to take the rest of the file into one cell (2 rows of 3, both
    // created).
    let (status, body) =
        upload(&app, "ID;AUTH_TYPE;NAME\nq-1;CERTIFICATES;one\nq-2;CERTIFICATES;\"two\nq-3;CERTIFICATES;three\n").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["message"], "Cannot read the CSV file: the quote opened on line 3 is never closed.");
    // UTF-16 (Excel's "Unicode text") used to be "the mandatory column ID is missing".
    let text = "ID\tAUTH_TYPE\r\nu-1\tCERTIFICATES\r\n";
    let utf16: Vec<u8> = [0xff, 0xfe].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let res = app
        .admin(Method::POST, &app.url("/devicecontrol/bulkNewDeviceRequests"))
        .multipart(form(utf16))
        .send()
        .await
        .expect("upload");
    let (status, body) = json(res).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["message"],
        "Cannot read the CSV file: the file is UTF-16 encoded; save it as UTF-8 (or Windows-1252) and try again."
    );
    let (_, list) =
        json(app.admin(Method::GET, &app.url("/inventory/managedObjects")).send().await.expect("list")).await;
    assert_eq!(list["managedObjects"], json!([]));
});

local_and_proxied!(a_windows_1252_file_is_registered_with_its_characters, app, {
    // 0x80 is €, 0x8A Š, 0x9F Ÿ in Windows-1252 (C1 controls in Latin-1), 0xE9 é in both.
    let res = app
        .admin(Method::POST, &app.url("/devicecontrol/bulkNewDeviceRequests"))
        .multipart(form(b"ID;AUTH_TYPE;NAME;TYPE\nw-1;CERTIFICATES;\x80 \x8a\x9f caf\xe9;t\n".to_vec()))
        .send()
        .await
        .expect("upload");
    let (status, body) = json(res).await;
    assert_eq!((status, body["numberOfCreated"].as_u64()), (201, Some(1)), "{body}");
    let (_, ext) =
        json(app.admin(Method::GET, &app.url("/identity/externalIds/c8y_Serial/w-1")).send().await.expect("ext")).await;
    let mo = ext["managedObject"]["id"].as_str().expect("id").to_string();
    let (_, obj) =
        json(app.admin(Method::GET, &app.url(&format!("/inventory/managedObjects/{mo}"))).send().await.expect("mo"))
            .await;
    assert_eq!(obj["name"], "\u{20ac} \u{160}\u{178} caf\u{e9}");
});

local_and_proxied!(multipart_and_file_errors_are_clear, app, {
    let url = app.url("/devicecontrol/bulkNewDeviceRequests");
    let res = app.admin(Method::POST, &url).json(&json!({})).send().await.expect("json");
    assert_error(res, 415, "general/Unsupported Media Type", "Send the CSV as multipart/form-data").await;
    let other = Form::new().part("csv", Part::bytes(b"ID\nx\n".to_vec()));
    let res = app.admin(Method::POST, &url).multipart(other).send().await.expect("other part");
    assert_error(res, 422, "devicecontrol/Unprocessable Entity", "The multipart body has no part named 'file'.").await;
    let (status, body) = upload(&app, "NAME;TYPE\nx;y\n").await;
    assert_eq!(status, 422);
    assert_eq!(
        body["message"],
        "Cannot read the CSV file: the header line is invalid: the mandatory column ID is missing."
    );
    let (status, _) = upload(&app, "").await;
    assert_eq!(status, 422);
    // Another separator than the platform's used to be "the mandatory column ID is missing".
    let (status, body) = upload(&app, "ID|AUTH_TYPE|CREDENTIALS\np-1|CERTIFICATES|\n").await;
    assert_eq!(status, 422);
    assert_eq!(
        body["message"],
        "Cannot read the CSV file: the separator was not recognised: the header line must separate the column names \
         with \";\" or a tab or \",\" (found \"|\")."
    );

    // Just over the file limit: refused by the parser; far over: refused while reading.
    let over = vec![b'x'; anchorage_common::bulk::MAX_FILE_BYTES + 1];
    let res = app.admin(Method::POST, &url).multipart(form(over)).send().await.expect("over");
    assert_error(res, 413, "devicecontrol/Payload Too Large", "Cannot register: the file is larger than 128 MiB.")
        .await;
    let huge = vec![b'x'; anchorage_common::bulk::MAX_FILE_BYTES + 256 * 1024];
    let res = app.admin(Method::POST, &url).multipart(form(huge)).send().await.expect("huge");
    assert_error(res, 413, "general/Payload Too Large", "The request body is larger than the limit").await;
    let (_, list) =
        json(app.admin(Method::GET, &app.url("/inventory/managedObjects")).send().await.expect("list")).await;
    assert_eq!(list["managedObjects"], json!([]));
});

local_and_proxied!(bulk_registered_certificate_devices_get_tokens_without_auto_registration, app, {
    let root = Ca::root("Bulk Root");
    app.trust(&root, "ENABLED", false).await;
    let (status, body) =
        upload(&app, "ID;AUTH_TYPE;CREDENTIALS\nbulk-1;CERTIFICATES;\nbulk-basic;BASIC;a-device-password\n").await;
    assert_eq!((status, body["numberOfCreated"].as_u64()), (201, Some(2)));

    let (status, body) = app.device_token(&root.device("bulk-1"), None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.device_token(&root.device("bulk-unknown"), None).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = app.device_token(&root.device("bulk-basic"), None).await;
    assert_eq!(status, 422);
    assert!(body["message"].as_str().is_some_and(|m| m.contains("registered for password authentication")), "{body}");

    // The Devices page's data: the certificate last used and when.
    let (_, ext) =
        json(app.admin(Method::GET, &app.url("/identity/externalIds/c8y_Serial/bulk-1")).send().await.expect("ext"))
            .await;
    let mo = ext["managedObject"]["id"].as_str().expect("id").to_string();
    let (_, obj) =
        json(app.admin(Method::GET, &app.url(&format!("/inventory/managedObjects/{mo}"))).send().await.expect("mo"))
            .await;
    let reg = &obj["anchorage_Registration"];
    assert!(reg["lastTokenTime"].as_str().is_some(), "{obj}");
    assert!(reg["lastCertificateSerial"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(reg["lastCertificateFingerprint"].as_str().map(str::len), Some(40));
});

/// Kills the real binary with SIGKILL while it registers a large file; after a restart every
/// device is either whole (user, managed object, external id) or absent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_are_whole_or_absent_after_a_kill_during_registration() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_anchorage"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--device-listen", "127.0.0.1:0", "--tenant", TENANT])
            .arg("--data-dir")
            .arg(dir.path())
            .env("ANCHORAGE_ADMIN_PASSWORD", PASSWORD)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("anchorage starts")
    };
    let mut child = spawn();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_up(&client, &base).await;

    let mut csv = String::from("ID;AUTH_TYPE;CREDENTIALS;TYPE;NAME;external-c8y_Imei\n");
    for i in 0..100_000 {
        csv.push_str(&format!("kill-{i:06};CERTIFICATES;;c8y_Device;Kill {i};imei-{i:06}\n"));
    }
    let upload = tokio::spawn({
        let (client, url) = (client.clone(), format!("{base}/devicecontrol/bulkNewDeviceRequests"));
        async move {
            client.post(url).basic_auth(format!("{TENANT}/{ADMIN}"), Some(PASSWORD)).multipart(form(csv)).send().await
        }
    });
    // Kill as soon as some rows are committed, and before all are.
    let db_path = dir.path().join("anchorage.db");
    let deadline = Instant::now() + StdDuration::from_secs(120);
    loop {
        let n = count_users(&db_path).await;
        if n > 0 {
            assert!(n < 100_000, "registration finished before the kill ({n} rows); the test needs a slower path");
            break;
        }
        assert!(Instant::now() < deadline, "no row was committed in time");
        tokio::task::yield_now().await;
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let _ = upload.await;

    let mut child = spawn();
    wait_up(&client, &base).await;
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", db_path.display())).await.expect("db");
    let (users, objects, ids): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM device_users), (SELECT COUNT(*) FROM managed_objects), (SELECT COUNT(*) FROM external_ids)",
    )
    .fetch_one(&db)
    .await
    .expect("counts");
    let broken: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM device_users u WHERE u.managed_object_id IS NULL \
         OR NOT EXISTS (SELECT 1 FROM managed_objects m WHERE m.id = u.managed_object_id) \
         OR (SELECT COUNT(*) FROM external_ids x WHERE x.managed_object_id = u.managed_object_id) != 2",
    )
    .fetch_one(&db)
    .await
    .expect("broken");
    let started: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_records WHERE activity = 'Bulk device registration started'")
            .fetch_one(&db)
            .await
            .expect("audit");
    let _ = child.kill();
    let _ = child.wait();
    assert!(users > 0 && users < 100_000, "users = {users}");
    assert_eq!((objects, ids, broken), (users, 2 * users, 0), "every registered row is whole");
    assert_eq!(started, 1, "the import cut short is in the audit log, committed with its first rows");

    // `anchorage check-db` says the same; and it finds a row made not whole on purpose.
    let check_db = || {
        Command::new(env!("CARGO_BIN_EXE_anchorage"))
            .args(["--tenant", TENANT])
            .arg("--data-dir")
            .arg(dir.path())
            .arg("check-db")
            .env("RUST_LOG", "warn")
            .output()
            .expect("check-db runs")
    };
    let out = check_db();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("no problem found"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    db.close().await;
    let rw = sqlx::SqlitePool::connect(&format!("sqlite://{}", db_path.display())).await.expect("db");
    sqlx::query("DELETE FROM external_ids WHERE external_id = (SELECT MIN(device_id) FROM device_users)")
        .execute(&rw)
        .await
        .expect("delete");
    // A password hash cut short (as a torn write would leave it).
    sqlx::query("UPDATE users SET password_hash = substr(password_hash, 1, 20) WHERE user_name = 'admin'")
        .execute(&rw)
        .await
        .expect("cut");
    rw.close().await;
    let out = check_db();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("device user without its c8y_Serial external id: t4711/device_kill-"), "{text}");
    assert!(text.contains("user whose password hash is not a whole argon2 hash: t4711/admin"), "{text}");
}

async fn count_users(db_path: &std::path::Path) -> i64 {
    let Ok(db) = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", db_path.display())).await else { return 0 };
    let n = sqlx::query_scalar("SELECT COUNT(*) FROM device_users").fetch_one(&db).await.unwrap_or(0);
    db.close().await;
    n
}

#[tokio::test]
async fn the_console_asks_which_ids_are_registered_already_within_bounds() {
    let app = TestApp::spawn().await;
    let url = app.url("/anchorage/bulk-registration/existing");
    let (status, body) =
        upload(&app, "ID;AUTH_TYPE;CREDENTIALS\nx-cert;CERTIFICATES;\nx-basic;BASIC;a-device-password\n").await;
    assert_eq!(status, 201, "{body}");

    let ask = |ids: Value| app.admin(Method::POST, &url).json(&json!({ "ids": ids })).send();
    let (status, body) = json(ask(json!(["x-new", "x-basic", "x-cert", "x-basic"])).await.expect("ask")).await;
    assert_eq!(status, 200, "{body}");
    // In the order asked, each once; unknown ids are not listed.
    assert_eq!(body, json!({ "existing": ["x-basic", "x-cert"] }));
    let (status, body) = json(ask(json!([])).await.expect("none")).await;
    assert_eq!((status, body), (200, json!({ "existing": [] })));

    // Bounded: at most 10,000 ids, each a device id; the body's size too.
    let many: Vec<String> = (0..=anchorage_common::api::MAX_EXISTING_QUERY_IDS).map(|i| format!("d-{i}")).collect();
    let res = ask(json!(many)).await.expect("too many");
    assert_error(res, 422, "anchorage/Unprocessable Entity", "At most 10000 ids can be asked about at once; 10001")
        .await;
    let res = ask(json!(["ok-1", "bad id"])).await.expect("bad id");
    assert_error(res, 422, "anchorage/Unprocessable Entity", "ids[1]: the device id 'bad id' contains whitespace")
        .await;
    let huge = format!("{{\"ids\":[\"{}\"]}}", "x".repeat(6 * 1024 * 1024));
    let res =
        app.admin(Method::POST, &url).header("content-type", "application/json").body(huge).send().await.expect("huge");
    assert_eq!(res.status(), 413);
    let res = app.admin(Method::POST, &url).json(&json!({ "id": ["x"] })).send().await.expect("wrong shape");
    assert_eq!(res.status(), 422);
}
