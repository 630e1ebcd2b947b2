//! `bench`: a one-second smoke run against the in-process anchorage and the bare rustls
//! baseline (counts only; no timing is asserted).

use std::sync::Arc;
use std::time::Duration;

use anchorage_device::baseline::Baseline;
use anchorage_device::bench::{self, BenchOptions, Target};
use anchorage_device::identity::{self, Identity};

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_short_run_gets_tokens_from_anchorage_and_the_baseline() {
    let server = Server::start().await;
    let pki = make_pki(4, true);
    server.trust(&pki.root.cert_pem).await;
    // The extra-CA upload the bench does: bulk, 500 a request.
    let admin = server.admin();
    let tenant = admin.tenant().await.expect("tenant");
    admin.trust_bulk(&tenant, &anchorage_device::admin::unrelated_cas(501).expect("cas")).await.expect("bulk upload");
    assert_eq!(admin.count_trusted(&tenant).await.expect("count"), 502);
    let identities: Vec<Identity> = pki.devices.iter().map(|d| d.identity().expect("identity")).collect();
    let options = BenchOptions {
        clients: 2,
        duration: Duration::from_secs(1),
        max_requests: 2000,
        timeout: Duration::from_secs(10),
        server: bench::ServerProcess::Unknown,
    };

    let roots = identity::roots_from_pem_file(&server.ca_path()).expect("roots");
    let target = Arc::new(Target::new("anchorage", &server.device_url, roots, &identities).await.expect("target"));
    let warm = bench::warm_up(target.clone(), options.timeout).await;
    assert_eq!((warm.tokens, warm.error_count()), (4, 0), "{:?}", warm.errors);
    let anchorage = bench::run(target, &options).await;
    assert!(anchorage.tokens > 0 && anchorage.errors.is_empty(), "{anchorage:?}");

    let baseline = Baseline::start(identity::roots_from_pem(pki.root.cert_pem.as_bytes()).expect("roots"))
        .await
        .expect("baseline");
    let roots = identity::roots_from_pem(baseline.ca_pem.as_bytes()).expect("roots");
    let target = Arc::new(
        Target::new("baseline", &format!("https://{}", baseline.addr), roots, &identities).await.expect("target"),
    );
    let base = bench::run(target, &options).await;
    baseline.stop().await;
    assert!(base.tokens > 0 && base.errors.is_empty(), "{base:?}");

    let table = bench::table(&[&anchorage, &base]);
    assert!(table.contains("tokens/s") && table.contains("anchorage / baseline:"), "{table}");
    assert!(anchorage.percentile(50.0) <= anchorage.percentile(99.0));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_baseline_refuses_devices_of_another_root_and_targets_must_be_loopback() {
    let pki = make_pki(1, false);
    let stranger = make_pki(1, false);
    let baseline = Baseline::start(identity::roots_from_pem(pki.root.cert_pem.as_bytes()).expect("roots"))
        .await
        .expect("baseline");
    let roots = identity::roots_from_pem(baseline.ca_pem.as_bytes()).expect("roots");
    let ids = [stranger.devices[0].identity().expect("identity")];
    let target = Arc::new(
        Target::new("baseline", &format!("https://{}", baseline.addr), roots.clone(), &ids).await.expect("target"),
    );
    let options = BenchOptions {
        clients: 1,
        duration: Duration::from_secs(5),
        max_requests: 3,
        timeout: Duration::from_secs(5),
        server: bench::ServerProcess::Unknown,
    };
    let report = bench::run(target, &options).await;
    baseline.stop().await;
    assert_eq!(report.tokens, 0);
    assert_eq!(report.error_count(), 3, "bounded by count: {:?}", report.errors);

    let err = Target::new("x", "https://192.0.2.1:8443", roots, &ids).await.err().expect("refused");
    assert!(err.to_string().contains("loopback"), "{err}");
}

/// `baseline` serves as a process of its own (bench.sh runs it under callgrind) until SIGTERM,
/// and `pki --unrelated-cas` writes the other CAs a benchmark trusts.
#[tokio::test(flavor = "multi_thread")]
async fn the_baseline_process_answers_until_sigterm_and_pki_writes_unrelated_cas() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("pki");
    let out_str = out.to_string_lossy().into_owned();
    let run =
        cli(&["pki", "--out", &out_str, "--devices", "2", "--p12-password", "x", "--unrelated-cas", "3"], &[]).await;
    assert!(run.ok, "{}", run.stderr);
    let bundle = std::fs::read_to_string(out.join("unrelated-cas.pem")).expect("bundle");
    let cas = anchorage_common::pem::decode_certificates(&bundle).expect("PEM bundle");
    assert_eq!(cas.len(), 3);
    for der in &cas {
        let inspected = anchorage_common::cert::inspect(der, time::OffsetDateTime::now_utc()).expect("a certificate");
        assert!(inspected.info.is_ca, "{inspected:?}");
    }
    // Never overwritten, and a refusal writes nothing: a folder holding only the bundle keeps
    // only the bundle.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).expect("mkdir");
    std::fs::write(other.join("unrelated-cas.pem"), "kept").expect("write");
    let other_str = other.to_string_lossy().into_owned();
    let again =
        cli(&["pki", "--out", &other_str, "--devices", "1", "--p12-password", "x", "--unrelated-cas", "1"], &[]).await;
    assert!(!again.ok && again.stderr.contains("unrelated-cas.pem exists already"), "{}", again.stderr);
    assert_eq!(std::fs::read_dir(&other).expect("ls").count(), 1);
    assert_eq!(std::fs::read_to_string(other.join("unrelated-cas.pem")).expect("read"), "kept");

    let ca_out = dir.path().join("baseline-ca.pem");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_anchorage-device"))
        .args(["baseline", "--pki", &out_str, "--ca-out", &ca_out.to_string_lossy()])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("baseline starts");
    let stdout = child.stdout.take().expect("stdout");
    let url = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).expect("its URL");
        line.trim().to_string()
    })
    .await
    .expect("read");
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let pki = anchorage_device::pki::read_dir(&out).expect("the PKI");
    let identities: Vec<Identity> = pki.devices.into_iter().map(|(_, i)| i).collect();
    let roots = identity::roots_from_pem_file(&ca_out).expect("the CA it wrote");
    let target = Arc::new(Target::new("baseline", &url, roots, &identities).await.expect("target"));
    let options = BenchOptions {
        clients: 2,
        duration: Duration::from_secs(30),
        max_requests: 6,
        timeout: Duration::from_secs(10),
        server: bench::ServerProcess::Unknown,
    };
    let report = bench::run(target, &options).await;
    assert_eq!((report.tokens, report.error_count()), (6, 0), "{:?}", report.errors);

    let killed = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait()).await.expect("join").expect("wait");
    assert!(status.success(), "it stops cleanly on SIGTERM: {status:?}");
}
