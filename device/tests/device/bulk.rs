//! The whole journey of certificate devices without auto-registration: `anchorage-device pki`
//! makes the devices and their bulk-registration CSV; the CSV is registered; each registered
//! device then gets its token over mutual TLS, and one left out of the file does not.

use anchorage_device::jwt::decode_claims;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn bulk_registered_devices_get_tokens_and_an_unregistered_one_does_not() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let out = path_str(dir.path());
    let run = cli(&["pki", "--out", &out, "--devices", "3", "--p12-password", "bulk-test-p12"], &[]).await;
    assert!(run.ok, "{}", run.stderr);

    // Trust the root WITHOUT auto-registration.
    let admin = server.admin();
    let tenant = admin.tenant().await.expect("tenant");
    let root = std::fs::read_to_string(dir.path().join("root.pem")).expect("root.pem");
    assert!(admin.trust(&tenant, "bulk root", &root, false).await.expect("upload"));

    // Register the CSV pki made, leaving the last device out. Its ids, as common's parser reads
    // them (the server's).
    let csv = std::fs::read_to_string(dir.path().join("devices.csv")).expect("devices.csv");
    let mut lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "header and three devices: {csv}");
    let parsed = anchorage_common::bulk::parse(csv.as_bytes()).expect("common's parser reads it");
    assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
    let mut ids: Vec<String> = parsed.entries().map(|e| e.id).collect();
    assert_eq!(ids, ["dev-0001", "dev-0002", "dev-0003"]);
    let left_out = ids.pop().expect("last");
    lines.pop();
    let file = format!("{}\n", lines.join("\n"));
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(file.into_bytes()).file_name("devices.csv"));
    let res = reqwest::Client::new()
        .post(format!("{}/devicecontrol/bulkNewDeviceRequests", server.api))
        .basic_auth(ADMIN_USER, Some(PASSWORD))
        .multipart(form)
        .send()
        .await
        .expect("bulk");
    assert_eq!(res.status(), 201);
    let answer: serde_json::Value = res.json().await.expect("json");
    assert_eq!((answer["numberOfCreated"].as_u64(), answer["numberOfFailed"].as_u64()), (Some(2), Some(0)), "{answer}");

    let token = |id: String| {
        let (dir, url, ca) = (dir.path().to_path_buf(), server.device_url.clone(), path_str(&server.ca_path()));
        async move {
            let (cert, key) = (path_str(&dir.join(format!("{id}.pem"))), path_str(&dir.join(format!("{id}.key"))));
            cli(&["token", "--url", &url, "--cert", &cert, "--key", &key, "--ca", &ca], &[]).await
        }
    };
    for id in ids {
        let run = token(id.clone()).await;
        assert!(run.ok, "{id}: {}", run.stderr);
        let claims = decode_claims(run.stdout.trim()).expect("a JWT");
        assert_eq!(claims.sub, anchorage_common::device::device_user_name(&id));
    }
    let run = token(left_out.clone()).await;
    assert!(!run.ok, "{left_out} is not registered");
    assert!(run.stderr.contains("422") && run.stderr.contains("is not registered"), "{}", run.stderr);
}
