//! Hostile input, end to end (issue 17): bad uploads of every class a browser or a script can
//! send, to the real server. Each answer is a clear 4xx in the platform's envelope, the server
//! stays up, and nothing is written (the tables are counted before and after). The answers are
//! printed as a table (`cargo test -p anchorage-server --test api hostile -- --nocapture`), which
//! docs/reliability.md quotes.

use std::path::Path;
use std::process::Command;

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::support::*;

/// The tables an upload could write to (the audit log is written on purpose: refusals are
/// recorded, within its bounds).
const TABLES: [&str; 10] = [
    "trusted_certificates",
    "device_users",
    "managed_objects",
    "external_ids",
    "crl_entries",
    "users",
    "tenant_options",
    "new_device_requests",
    "provisioned_certificates",
    "device_tokens",
];

async fn row_counts(app: &TestApp) -> Vec<i64> {
    let db = app.raw_db().await;
    let mut counts = Vec::new();
    for table in TABLES {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&db).await.expect("count");
        counts.push(n);
    }
    db.close().await;
    counts
}

/// A certificate made with openssl (v1, negative serials, small RSA keys: what rcgen does not
/// make), as PEM.
fn openssl_ca(dir: &Path, name: &str, args: &[&str]) -> String {
    let key = dir.join(format!("{name}.key"));
    let cert = dir.join(format!("{name}.pem"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-nodes", "-days", "30", "-subj", &format!("/CN={name}")])
        .args(["-keyout", key.to_str().expect("path"), "-out", cert.to_str().expect("path")])
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(status.status.success(), "openssl: {}", String::from_utf8_lossy(&status.stderr));
    std::fs::read_to_string(cert).expect("certificate")
}

/// A v1 certificate: openssl x509 -req signs a request without extensions.
fn openssl_v1(dir: &Path) -> String {
    let run = |args: &[&str]| {
        let out = Command::new("openssl").current_dir(dir).args(args).output().expect("openssl runs");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "v1.key"]);
    run(&["req", "-new", "-key", "v1.key", "-subj", "/CN=v1 CA", "-out", "v1.csr"]);
    run(&["x509", "-req", "-in", "v1.csr", "-signkey", "v1.key", "-days", "30", "-out", "v1.pem"]);
    std::fs::read_to_string(dir.join("v1.pem")).expect("certificate")
}

/// A hostile request and what it must get.
struct Case {
    what: &'static str,
    request: reqwest::RequestBuilder,
    /// The status, or `None` for any 4xx.
    status: Option<u16>,
}

#[tokio::test]
async fn hostile_uploads_get_a_clear_4xx_change_nothing_and_the_server_stays_up() {
    let app = TestApp::spawn().await;
    // The certificates openssl makes start at the machine's time; the server's clock is a test
    // clock: a day on, they are in date.
    app.clock.advance(time::Duration::days(1));
    let dir = tempfile::tempdir().expect("temporary directory");
    let certs = app.certs_url();
    let bulk_certs = format!("{certs}/bulk");
    let bulk_devices = app.url("/devicecontrol/bulkNewDeviceRequests");
    let crl = app.url("/tenant/trusted-certificates/settings/crl");
    let post = |url: &str| app.admin(Method::POST, url);
    let upload = |name: &str, pem: &str| post(&certs).json(&body(name, pem, "ENABLED"));
    let csv = |bytes: Vec<u8>| Form::new().part("file", Part::bytes(bytes).file_name("devices.csv"));
    let good = ca_pem("Hostile Test CA");
    let many: String = (0..10_000).map(|_| good.as_str()).collect();
    let mut nested = "[".repeat(100_000);
    nested.push_str(&"]".repeat(100_000));
    let huge_line = format!("ID,CREDENTIALS,AUTH_TYPE\n{},,CERTIFICATES\n", "d".repeat(1024 * 1024));
    let mut utf16 = vec![0xff, 0xfe];
    for unit in "ID,CREDENTIALS,AUTH_TYPE\ndev-16,,CERTIFICATES\n".encode_utf16() {
        utf16.extend(unit.to_le_bytes());
    }

    let cases = vec![
        Case { what: "a 3 MB JSON body", request: upload("big", &"A".repeat(3 * 1024 * 1024)), status: Some(413) },
        Case {
            what: "JSON nested 100,000 deep",
            request: post(&certs).header("Content-Type", "application/json").body(nested.clone()),
            status: None,
        },
        Case {
            what: "a certificate as text/plain",
            request: post(&certs).header("Content-Type", "text/plain").body(good.clone()),
            status: Some(415),
        },
        Case {
            what: "a body that is not UTF-8",
            request: post(&certs).header("Content-Type", "application/json").body(vec![b'{', 0xff, 0xfe, b'}']),
            status: None,
        },
        Case {
            what: "a bundle of 10,000 certificates in one entry",
            request: upload("many", &many),
            status: Some(413),
        },
        Case {
            what: "a bundle of 100 certificates in one entry",
            request: upload("hundred", &good.repeat(100)),
            status: Some(422),
        },
        Case {
            what: "10,000 certificates in one bulk request",
            request: post(&bulk_certs).json(&json!({
                "certificates": (0..10_000).map(|i| body(&format!("c{i}"), &good, "ENABLED")).collect::<Vec<Value>>()
            })),
            status: None,
        },
        Case { what: "a 64 KB name", request: upload(&"n".repeat(64 * 1024), &good), status: Some(422) },
        Case { what: "control characters in the name", request: upload("CA\u{7}\u{1b}[31m", &good), status: Some(422) },
        Case {
            what: "a bidirectional override in the name",
            request: upload("ca\u{202e}txt.exe", &good),
            status: Some(422),
        },
        Case {
            what: "an unknown critical extension",
            request: upload("odd", &ca_with_unknown_critical_extension()),
            status: Some(422),
        },
        Case { what: "an X.509 v1 certificate", request: upload("v1", &openssl_v1(dir.path())), status: Some(422) },
        Case {
            what: "an RSA 1024 key",
            request: upload("rsa1024", &openssl_ca(dir.path(), "rsa1024", &["-newkey", "rsa:1024"])),
            status: Some(422),
        },
        Case {
            what: "PEM of garbage",
            request: upload("garbage", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"),
            status: Some(422),
        },
        Case { what: "a CSV in UTF-16 with a BOM", request: post(&bulk_devices).multipart(csv(utf16)), status: None },
        Case {
            what: "a CSV with an unbalanced quote",
            request: post(&bulk_devices).multipart(csv(b"ID,CREDENTIALS,AUTH_TYPE\n\"q-1,,CERTIFICATES\n".to_vec())),
            status: None,
        },
        Case {
            what: "a revocation entry with markup and control characters",
            request: app.admin(Method::PUT, &crl).json(&json!({"crls": [{"serialNumberInHex": "<b>\u{0}1</b>"}]})),
            status: None,
        },
    ];

    let before = row_counts(&app).await;
    let mut table = String::from("| hostile input | status | error | message |\n|---|---:|---|---|\n");
    let mut wrong = Vec::new();
    for case in cases {
        let res = case.request.send().await.unwrap_or_else(|e| panic!("{}: {e}", case.what));
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{}: not the platform's JSON envelope: {text}", case.what));
        let (error, message) = (body["error"].as_str().unwrap_or(""), body["message"].as_str().unwrap_or(""));
        let clear = (400..500).contains(&status) && error.contains('/') && !message.is_empty();
        if !clear || case.status.is_some_and(|s| s != status) {
            wrong.push(format!("{}: {status} {}", case.what, text.chars().take(400).collect::<String>()));
        }
        let short: String = message.chars().take(140).collect();
        table.push_str(&format!("| {} | {status} | `{error}` | {} |\n", case.what, short.replace('|', "\\|")));
        // Still up, and still answering.
        let up = app.admin(Method::GET, &certs).send().await.expect("still up");
        assert_eq!(up.status(), 200, "after {}", case.what);
    }
    println!("{table}");
    assert!(wrong.is_empty(), "not the expected clear 4xx:\n{}", wrong.join("\n"));
    assert_eq!(row_counts(&app).await, before, "nothing was written ({TABLES:?})");
    // And `anchorage check-db`'s checks find every row whole (on either backend).
    let problems = app.check_db().await;
    assert!(problems.is_empty(), "{problems:?}");

    // Accepted by the platform's contract, and safe: each is checked for what it stores.
    // A CA with a negative serial (RFC 5280 forbids it; the platform's Java reads it, and
    // rustls-webpki accepts it): stored, its serial kept as its two's-complement bytes
    // (docs/decisions.md, revocation).
    let neg = openssl_ca(dir.path(), "neg", &["-newkey", "rsa:2048", "-set_serial", "-5"]);
    let (status, stored) = json(upload("neg", &neg).send().await.expect("negative serial")).await;
    assert_eq!((status, stored["serialNumber"].as_str()), (201, Some("-5")), "{stored}");
    let form = |bytes: &[u8]| csv(bytes.to_vec());
    // A formula cell is data: stored as sent (the console flags it in the preview, and the
    // console escapes such cells in the CSV files it writes: common::bulk::escape_formula).
    let res = post(&bulk_devices)
        .multipart(form(b"ID,CREDENTIALS,AUTH_TYPE,NAME\nf-1,,CERTIFICATES,=HYPERLINK(\"http://x\")\n"))
        .send()
        .await
        .expect("formula");
    let (status, answer) = json(res).await;
    assert_eq!((status, &answer["numberOfCreated"]), (201, &json!(1)), "{answer}");
    let (_, found) =
        json(app.admin(Method::GET, &app.url("/inventory/managedObjects?text=f-1")).send().await.expect("get")).await;
    assert_eq!(found["managedObjects"][0]["name"], "=HYPERLINK(\"http://x\")", "{found}");
    // Not UTF-8: read as Windows-1252, which spreadsheet programs write (0xE9 is é).
    let res = post(&bulk_devices)
        .multipart(form(b"ID,CREDENTIALS,AUTH_TYPE\ncaf\xe9-1,,CERTIFICATES\n"))
        .send()
        .await
        .expect("1252");
    let (status, answer) = json(res).await;
    assert_eq!((status, &answer["numberOfCreated"]), (201, &json!(1)), "{answer}");
    // A 1 MB line: that row fails, with its reason and its id clipped (the answer stays small).
    let res = post(&bulk_devices).multipart(csv(huge_line.into_bytes())).send().await.expect("huge");
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    assert!(text.len() < 4096, "the answer echoes the 1 MB cell: {} bytes", text.len());
    let answer: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        (status, &answer["numberOfCreated"], &answer["numberOfFailed"]),
        (201, &json!(0), &json!(1)),
        "{answer}"
    );
    assert!(
        answer["failedCreationList"][0]["failureReason"].as_str().is_some_and(|r| r.contains("longer than 128")),
        "{answer}"
    );
}
