//! `anchorage migrate-db`: an embedded installation (SQLite) moved into PostgreSQL, then served
//! from there with the same secret key and device certificate. Needs a PostgreSQL server, so it
//! runs on the suite's PostgreSQL run (scripts/test.sh always makes one).

use std::process::{Command, Stdio};

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::support::*;

fn migrate(from: &str, to: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_anchorage"))
        .args(["migrate-db", "--from", from, "--to", to])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_db_moves_an_embedded_installation_into_an_empty_postgresql_database() {
    let Some(server) = postgres_url() else {
        eprintln!("migrate-db needs PostgreSQL: this test runs on the suite's PostgreSQL run (scripts/test.sh)");
        return;
    };
    // An embedded installation with a bit of everything.
    let mut embedded = TestApp::spawn_on_sqlite().await;
    assert!(!embedded.on_postgres());
    let root = Ca::root("Migrated Root");
    embedded.trust(&root, "ENABLED", true).await;
    let device = root.device("migrated-1");
    let (status, body) = embedded.device_token(&device, None).await;
    assert_eq!(status, 200, "{body}");
    let token = body["accessToken"].as_str().expect("token").to_string();
    let csv =
        "ID;AUTH_TYPE;CREDENTIALS;TYPE;NAME\nm-1;CERTIFICATES;;c8y_Device;M 1\nm-2;CERTIFICATES;;c8y_Device;M 2\n";
    let form = Form::new().part("file", Part::bytes(csv.as_bytes().to_vec()).file_name("m.csv"));
    let res = embedded
        .admin(Method::POST, &embedded.url("/devicecontrol/bulkNewDeviceRequests"))
        .multipart(form)
        .send()
        .await
        .expect("bulk");
    assert_eq!(res.status(), 201);
    let res = embedded
        .admin(Method::PUT, &embedded.url("/tenant/options/oauth.internal/device-token.lifespan.seconds"))
        .json(&json!({"value": "900"}))
        .send()
        .await
        .expect("option");
    assert_eq!(res.status(), 200);
    let crl = json!({"crls": [{"serialNumberInHex": "0A:0B", "revocationDate": "2023-01-11T16:12:36.288Z"}]});
    let res = embedded
        .admin(Method::PUT, &embedded.url("/tenant/trusted-certificates/settings/crl"))
        .json(&crl)
        .send()
        .await
        .expect("crl");
    assert_eq!(res.status(), 204);
    let (_, certificates) = json(embedded.admin(Method::GET, &embedded.certs_url()).send().await.expect("list")).await;
    embedded.stop_server().await;

    let target = PgDatabase::create(&server).await;
    let from = format!("sqlite://{}", embedded.db_path().display());
    let out = migrate(&from, &target.url);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("row counts checked") && stdout.contains("trusted_certificates"), "{stdout}");

    // Every table, row for row.
    sqlx::any::install_default_drivers();
    let (source, copy) = (
        sqlx::AnyPool::connect(&from).await.expect("source"),
        sqlx::AnyPool::connect(&target.url).await.expect("target"),
    );
    for table in anchorage_server::db::copy::TABLES {
        let sql = format!("SELECT COUNT(*) FROM \"{table}\"");
        let a: i64 = sqlx::query_scalar(&sql).fetch_one(&source).await.expect("source count");
        let b: i64 = sqlx::query_scalar(&sql).fetch_one(&copy).await.expect("target count");
        assert_eq!(a, b, "{table}");
    }
    source.close().await;
    copy.close().await;

    // A second copy into the same database is refused, and writes nothing.
    let out = migrate(&from, &target.url);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("the target database is not empty"));
    // Only SQLite into PostgreSQL.
    let out = migrate(&target.url, &from);
    assert!(!out.status.success());

    // Served from PostgreSQL with the installation's secret key and device certificate.
    let moved = embedded.spawn_sharing(target.url.clone()).await;
    let (_, listed) = json(moved.admin(Method::GET, &moved.certs_url()).send().await.expect("list")).await;
    let summary = |v: &serde_json::Value| -> Vec<String> {
        v["certificates"]
            .as_array()
            .expect("certificates")
            .iter()
            .map(|c| {
                format!(
                    "{} {} {} {} {}",
                    c["fingerprint"], c["name"], c["status"], c["autoRegistrationEnabled"], c["certInPemFormat"]
                )
            })
            .collect()
    };
    assert_eq!(summary(&listed), summary(&certificates));
    assert_eq!(summary(&listed).len(), 1);
    // The sealed token opens with the same key: the same device gets the same token.
    let (status, again) = moved.device_token(&device, None).await;
    assert_eq!((status, again["accessToken"].as_str()), (200, Some(token.as_str())), "{again}");
    let me = moved.client.get(moved.url("/user/currentUser")).bearer_auth(&token).send().await.expect("me");
    assert_eq!(me.status(), 200);
    // New rows get new ids after the copied ones.
    moved.trust(&Ca::root("After Migration"), "ENABLED", false).await;
    let (_, option) = json(
        moved
            .admin(Method::GET, &moved.url("/tenant/options/oauth.internal/device-token.lifespan.seconds"))
            .send()
            .await
            .expect("option"),
    )
    .await;
    assert_eq!(option["value"], "900");
    drop(moved);
    drop(target);
}
