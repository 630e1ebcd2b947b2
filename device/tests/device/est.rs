//! `enroll` and `reenroll` against anchorage's EST endpoints: a first certificate for a
//! one-time password (and the refusals, in the server's words), renewal over mutual TLS with
//! the previous pair kept until the new one has got a token, the previous pair put back when
//! the new one is refused, recovery from an interrupted run, and `--watch` renewing at its share
//! of the lifetime on an injected clock.

use std::path::Path;
use std::sync::Arc;

use anchorage_common::est::MESSAGE_NO_REQUEST;
use anchorage_device::enroll::{EnrollOptions, enroll};
use anchorage_device::identity::Identity;
use anchorage_device::pair::{Pair, PairPaths};
use anchorage_device::pki::KeyType;
use anchorage_device::reenroll::{Confirm, Confirmation, Recovered, Renewer, TokenConfirm, due_at};
use anchorage_device::watch::WatchConfig;
use anchorage_server::clock::{Clock as _, ManualClock};
use time::Duration;
use tokio::sync::{mpsc, oneshot};

use crate::support::*;

const OTP: &str = "correct-horse-battery-staple";

fn paths(dir: &Path) -> PairPaths {
    PairPaths::new(dir.join("device.key"), dir.join("device.crt")).expect("paths")
}

fn options(id: &str, otp: &str, paths: &PairPaths) -> EnrollOptions {
    EnrollOptions { device_id: id.into(), otp: otp.into(), key_type: KeyType::P256, paths: paths.clone(), force: false }
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).expect("read")
}

/// The names in `dir` (no temporary or .previous files left behind).
fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> =
        std::fs::read_dir(dir).expect("ls").map(|e| e.expect("entry").file_name().to_string_lossy().into()).collect();
    n.sort();
    n
}

/// A server with a tenant CA and `id` enrolled into `dir` with the library.
async fn enrolled(id: &str, dir: &Path) -> (Server, PairPaths) {
    let server = Server::start().await;
    server.make_ca().await;
    server.new_device_request(id, OTP).await;
    let paths = paths(dir);
    enroll(&server.est_api(), &options(id, OTP, &paths)).await.expect("enrolled");
    (server, paths)
}

async fn token_works(server: &Server, paths: &PairPaths) -> bool {
    let identity = Identity::from_pem_files(paths.cert(), paths.key()).expect("identity");
    server.client(&identity, None).fetch().await.is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn enrollment_writes_a_key_and_its_certificate_and_refuses_in_the_servers_words() {
    let server = Server::start().await;
    server.make_ca().await;
    server.new_device_request("est-dev-01", OTP).await;
    let dir = tempfile::tempdir().expect("tmp");
    let paths = paths(dir.path());

    // A wrong password: the server's message, and no file.
    let e = enroll(&server.est_api(), &options("est-dev-01", "wrong-password-1", &paths)).await.expect_err("wrong");
    let text = format!("{e:#}");
    assert!(text.contains("401 Unauthorized") && text.contains(MESSAGE_NO_REQUEST), "{text}");
    assert!(names(dir.path()).is_empty());
    // Checked before anything is sent.
    let e = enroll(&server.est_api(), &options("est dev", OTP, &paths)).await.expect_err("id");
    assert!(e.to_string().starts_with("--id: "), "{e}");
    let e = enroll(&server.est_api(), &options("est-dev-01", "short", &paths)).await.expect_err("otp");
    assert!(e.to_string().starts_with("--otp: "), "{e}");
    let nowhere = PairPaths::new(dir.path().join("no/such.key"), dir.path().join("device.crt")).expect("paths");
    let e = enroll(&server.est_api(), &options("est-dev-01", OTP, &nowhere)).await.expect_err("no directory");
    assert!(format!("{e:#}").contains("no/such.key"), "{e:#}");

    let cert = enroll(&server.est_api(), &options("est-dev-01", OTP, &paths)).await.expect("enrolled");
    assert_eq!(cert.common_name.as_deref(), Some("est-dev-01"));
    assert_eq!(names(dir.path()), ["device.crt", "device.key"]);
    let pair = Pair::read(paths.key(), paths.cert()).expect("a pair that goes together");
    assert_eq!(pair.certificate().serial_hex, cert.serial_hex);
    assert!(String::from_utf8_lossy(&read(paths.key())).starts_with("-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(paths.key()).expect("meta").permissions().mode() & 0o777, 0o600);
    }
    assert!(token_works(&server, &paths).await, "the enrolled pair gets a token");
    assert_eq!(server.issued("est-dev-01").await[0]["serialNumberInHex"], cert.serial_hex);

    // The password is spent.
    let other = tempfile::tempdir().expect("tmp");
    let e = enroll(&server.est_api(), &options("est-dev-01", OTP, &self::paths(other.path()))).await.expect_err("used");
    assert!(format!("{e:#}").contains(MESSAGE_NO_REQUEST), "{e:#}");

    // Existing files are refused before the (new) password is spent; --force replaces them.
    server.new_device_request("est-dev-02", OTP).await;
    let (key_before, cert_before) = (read(paths.key()), read(paths.cert()));
    let e = enroll(&server.est_api(), &options("est-dev-02", OTP, &paths)).await.expect_err("exists");
    assert!(e.to_string().contains("already exist") && e.to_string().contains("--force"), "{e}");
    assert_eq!((read(paths.key()), read(paths.cert())), (key_before.clone(), cert_before));
    std::fs::write(paths.previous_cert(), b"stale").expect("stale previous");
    let forced = EnrollOptions { force: true, ..options("est-dev-02", OTP, &paths) };
    let cert = enroll(&server.est_api(), &forced).await.expect("forced");
    assert_eq!(cert.common_name.as_deref(), Some("est-dev-02"));
    assert_ne!(read(paths.key()), key_before);
    assert_eq!(names(dir.path()), ["device.crt", "device.key"], "the replaced pair's .previous is gone too");
}

#[tokio::test(flavor = "multi_thread")]
async fn reenrollment_over_mutual_tls_replaces_the_pair_once_it_has_a_token() {
    let dir = tempfile::tempdir().expect("tmp");
    let (server, paths) = enrolled("est-dev-03", dir.path()).await;
    let first = Pair::read(paths.key(), paths.cert()).expect("pair");
    server.clock.advance(Duration::hours(1));

    // The same key.
    let renewer = Renewer::new(
        anchorage_device::http::Endpoint::parse(&server.device_url).expect("url"),
        server.roots(),
        paths.clone(),
    )
    .expect("renewer");
    let renewed = renewer.reenroll().await.expect("re-enrolled");
    assert_eq!(renewed.recovered, Recovered::Nothing);
    assert_eq!(renewed.replaced.serial_hex, first.certificate().serial_hex);
    assert!(!renewed.new_key);
    let second = Pair::read(paths.key(), paths.cert()).expect("pair");
    assert_eq!(second.key_pem(), first.key_pem());
    assert_ne!(second.certificate().serial_hex, first.certificate().serial_hex);
    assert_eq!(second.certificate().subject, first.certificate().subject);
    assert_eq!(second.certificate().not_before, server.clock.now().replace_nanosecond(0).expect("ns"));
    assert_eq!(names(dir.path()), ["device.crt", "device.key"], "no .previous once the new pair worked");

    // A new key.
    server.clock.advance(Duration::hours(1));
    let renewed = renewer.clone().with_new_key(None).reenroll().await.expect("re-enrolled with a new key");
    assert!(renewed.new_key);
    let third = Pair::read(paths.key(), paths.cert()).expect("pair");
    assert_ne!(third.key_pem(), second.key_pem());
    assert_eq!(third.certificate().serial_hex, renewed.certificate.serial_hex);
    assert_eq!(names(dir.path()), ["device.crt", "device.key"]);
    assert!(token_works(&server, &paths).await);
    let hows: Vec<String> =
        server.issued("est-dev-03").await.iter().map(|c| c["how"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(hows, ["REENROLL", "REENROLL", "ENROLL"]);

    // Over plain http there is no certificate to authenticate with: refused up front.
    let e = Renewer::new(anchorage_device::http::Endpoint::parse(&server.api).expect("url"), server.roots(), paths)
        .expect_err("http");
    assert!(e.to_string().contains("https://"), "{e}");
}

/// The real token check, after moving the server's clock back so that the new certificate is
/// not valid yet: the server refuses it (the old one, older, is still fine).
struct ClockBackThenToken {
    clock: Arc<ManualClock>,
    inner: TokenConfirm,
}

impl Confirm for ClockBackThenToken {
    async fn confirm(&self, identity: &Identity) -> Confirmation {
        self.clock.advance(-Duration::hours(1));
        self.inner.confirm(identity).await
    }
}

/// No verdict, as when the server cannot be reached right after issuing.
struct NoAnswer;

impl Confirm for NoAnswer {
    async fn confirm(&self, _: &Identity) -> Confirmation {
        Confirmation::NoAnswer("connection refused".into())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_new_certificate_puts_the_previous_pair_back() {
    let dir = tempfile::tempdir().expect("tmp");
    let (server, paths) = enrolled("est-dev-04", dir.path()).await;
    let (key_before, cert_before) = (read(paths.key()), read(paths.cert()));
    server.clock.advance(Duration::hours(2));
    let endpoint = anchorage_device::http::Endpoint::parse(&server.device_url).expect("url");
    let confirm =
        ClockBackThenToken { clock: server.clock.clone(), inner: TokenConfirm::new(endpoint.clone(), server.roots()) };
    let renewer = Renewer::new(endpoint, server.roots(), paths.clone())
        .expect("renewer")
        .with_new_key(None)
        .with_confirm(confirm);
    let e = renewer.reenroll().await.expect_err("refused");
    let text = format!("{e:#}");
    assert!(text.contains("did not get a device token") && text.contains("not valid yet"), "{text}");
    assert!(text.contains("previous key and certificate are back"), "{text}");
    assert_eq!((read(paths.key()), read(paths.cert())), (key_before, cert_before));
    assert_eq!(names(dir.path()), ["device.crt", "device.key"]);
    assert!(token_works(&server, &paths).await, "the previous pair still works");
    assert_eq!(server.issued("est-dev-04").await.len(), 2, "a certificate was issued, and dropped");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unconfirmed_pair_is_decided_by_the_next_run() {
    let dir = tempfile::tempdir().expect("tmp");
    let (server, paths) = enrolled("est-dev-05", dir.path()).await;
    let endpoint = anchorage_device::http::Endpoint::parse(&server.device_url).expect("url");
    let renewer = Renewer::new(endpoint.clone(), server.roots(), paths.clone()).expect("renewer").with_new_key(None);
    let old = Pair::read(paths.key(), paths.cert()).expect("pair");
    server.clock.advance(Duration::hours(2));

    // No answer after issuing: the new pair is in place, the previous one kept beside it.
    let e = renewer.clone().with_confirm(NoAnswer).reenroll().await.expect_err("no verdict");
    assert!(format!("{e:#}").contains("could not be confirmed"), "{e:#}");
    assert_eq!(names(dir.path()), ["device.crt", "device.crt.previous", "device.key", "device.key.previous"]);
    assert_eq!(read(&paths.previous_key()), old.key_pem());
    let new = Pair::read(paths.key(), paths.cert()).expect("new pair");
    assert_ne!(new.certificate().serial_hex, old.certificate().serial_hex);
    // Still no answer: nothing changes.
    let e = renewer.clone().with_confirm(NoAnswer).recover().await.expect_err("undecided");
    assert!(format!("{e:#}").contains("no verdict"), "{e:#}");
    assert_eq!(names(dir.path()).len(), 4);
    // The next run: the server gives the new pair a token; it stays.
    assert_eq!(renewer.recover().await.expect("recovered"), Recovered::ConfirmedCurrent);
    assert_eq!(names(dir.path()), ["device.crt", "device.key"]);
    assert_eq!(
        Pair::read(paths.key(), paths.cert()).expect("pair").certificate().serial_hex,
        new.certificate().serial_hex
    );

    // Again, and this time the next run finds the new certificate refused: the previous comes back.
    server.clock.advance(Duration::hours(2));
    renewer.clone().with_confirm(NoAnswer).reenroll().await.expect_err("no verdict");
    let confirm =
        ClockBackThenToken { clock: server.clock.clone(), inner: TokenConfirm::new(endpoint, server.roots()) };
    match renewer.clone().with_confirm(confirm).recover().await.expect("recovered") {
        Recovered::RestoredPrevious(why) => assert!(why.contains("not valid yet"), "{why}"),
        other => panic!("expected the previous pair back, got {other:?}"),
    }
    assert_eq!(read(paths.key()), new.key_pem());
    assert_eq!(names(dir.path()), ["device.crt", "device.key"]);

    // Killed while writing the new pair (its certificate beside the old key): put back without
    // asking.
    server.clock.advance(Duration::hours(2));
    renewer.clone().with_confirm(NoAnswer).reenroll().await.expect_err("no verdict");
    std::fs::write(paths.key(), read(&paths.previous_key())).expect("old key");
    assert!(matches!(renewer.recover().await.expect("recovered"), Recovered::RestoredPrevious(_)));
    assert_eq!(read(paths.key()), new.key_pem());
    assert_eq!(read(paths.cert()), new.cert_pem());
    assert!(token_works(&server, &paths).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_renews_at_its_share_of_the_lifetime_and_retries() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut server, paths) = enrolled("est-dev-06", dir.path()).await;
    let first = Pair::read(paths.key(), paths.cert()).expect("pair").certificate().clone();

    let (sleeps, mut asked) = mpsc::unbounded_channel();
    let clock = TestClock { server: server.clock.clone(), sleeps };
    let renewer = Renewer::new(
        anchorage_device::http::Endpoint::parse(&server.device_url).expect("url"),
        server.roots(),
        paths.clone(),
    )
    .expect("renewer");
    let (stop, stopped) = oneshot::channel::<()>();
    let config = WatchConfig { jitter: false, ..WatchConfig::default() };
    let task = tokio::spawn(async move {
        renewer
            .watch(&clock, 50, &config, async move {
                let _ = stopped.await;
            })
            .await
    });

    // The first sleep: until half of the certificate's lifetime.
    let (deadline, wake) = asked.recv().await.expect("first sleep");
    assert_eq!(deadline, due_at(&first, 50));
    assert_eq!(deadline - first.not_before, (first.not_after - first.not_before) / 2);
    // Woken early (a spurious wake-up): nothing happens, the same deadline again.
    wake.send(()).expect("wake");
    let (again, wake) = asked.recv().await.expect("same sleep");
    assert_eq!(again, deadline);
    assert_eq!(Pair::read(paths.key(), paths.cert()).expect("pair").certificate().serial_hex, first.serial_hex);

    // Due, with the server down: retried after 1 s, 2 s, 4 s; then it is back.
    server.stop().await;
    move_to(&server.clock, deadline);
    wake.send(()).expect("wake");
    for expected in [1, 2, 4] {
        let (at, wake) = asked.recv().await.expect("backoff sleep");
        assert_eq!((at - server.clock.now()).whole_seconds(), expected);
        assert_eq!(Pair::read(paths.key(), paths.cert()).expect("pair").certificate().serial_hex, first.serial_hex);
        if expected == 4 {
            server.resume().await;
        }
        move_to(&server.clock, at);
        wake.send(()).expect("wake");
    }
    // Renewed: the new certificate, no .previous, and a sleep until its own half-life.
    let (next, wake) = asked.recv().await.expect("sleep after renewal");
    let second = Pair::read(paths.key(), paths.cert()).expect("pair").certificate().clone();
    assert_ne!(second.serial_hex, first.serial_hex);
    assert_eq!(second.not_before, server.clock.now().replace_nanosecond(0).expect("ns"));
    assert_eq!(next, due_at(&second, 50));
    assert_eq!(names(dir.path()), ["device.crt", "device.key"]);
    assert!(token_works(&server, &paths).await);

    stop.send(()).expect("stop");
    drop(wake);
    task.await.expect("task").expect("the loop stops cleanly");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_enrolls_with_the_password_from_a_flag_or_the_environment_and_reenrolls() {
    let server = Server::start().await;
    server.make_ca().await;
    let dir = tempfile::tempdir().expect("tmp");
    let (key, cert) = (path_str(&dir.path().join("device.key")), path_str(&dir.path().join("device.crt")));
    let enroll_args = |id: &'static str, otp: Option<&'static str>| {
        let mut a = vec!["enroll", "--url", &server.api, "--id", id];
        if let Some(otp) = otp {
            a.extend(["--otp", otp]);
        }
        a.extend(["--key", &key, "--cert", &cert]);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>, env: Vec<(&'static str, &'static str)>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli(&args, &env).await
    };

    // The Playwright test's command line; a wrong password first.
    server.new_device_request("est-cli-01", OTP).await;
    let r = run(enroll_args("est-cli-01", Some("wrong-password-1")), vec![]).await;
    assert!(!r.ok && r.stderr.contains(MESSAGE_NO_REQUEST) && r.stderr.contains("401"), "{}", r.stderr);
    let r = run(enroll_args("est-cli-01", Some(OTP)), vec![]).await;
    assert!(r.ok, "{}", r.stderr);
    assert!(r.stderr.contains("enrolled 'est-cli-01'"), "{}", r.stderr);
    let enrolled = Pair::read(Path::new(&key), Path::new(&cert)).expect("pair");
    assert_eq!(enrolled.certificate().common_name.as_deref(), Some("est-cli-01"));

    // Files there: refused (without spending the password), then --force with it from the
    // environment.
    server.new_device_request("est-cli-02", OTP).await;
    let r = run(enroll_args("est-cli-02", None), vec![("ANCHORAGE_DEVICE_OTP", OTP)]).await;
    assert!(!r.ok && r.stderr.contains("--force"), "{}", r.stderr);
    let mut forced = enroll_args("est-cli-02", None);
    forced.push("--force".into());
    let r = run(forced, vec![("ANCHORAGE_DEVICE_OTP", OTP)]).await;
    assert!(r.ok, "{}", r.stderr);
    assert!(!r.stderr.contains(OTP), "the password is never shown");
    let pair = Pair::read(Path::new(&key), Path::new(&cert)).expect("pair");
    assert_eq!(pair.certificate().common_name.as_deref(), Some("est-cli-02"));

    // Re-enrollment over mutual TLS with a new key, and a token with the new pair.
    server.clock.advance(Duration::hours(1));
    let ca = path_str(&server.ca_path());
    let r = run(
        ["reenroll", "--url", &server.device_url, "--cert", &cert, "--key", &key, "--ca", &ca, "--new-key"]
            .into_iter()
            .map(String::from)
            .collect(),
        vec![],
    )
    .await;
    assert!(r.ok, "{}", r.stderr);
    assert!(r.stderr.contains("re-enrolled"), "{}", r.stderr);
    let renewed = Pair::read(Path::new(&key), Path::new(&cert)).expect("pair");
    assert_ne!(renewed.key_pem(), pair.key_pem());
    assert_ne!(renewed.certificate().serial_hex, pair.certificate().serial_hex);
    assert_eq!(names(dir.path()), ["device.crt", "device.key"]);
    let r = run(
        ["token", "--url", &server.device_url, "--cert", &cert, "--key", &key, "--ca", &ca]
            .into_iter()
            .map(String::from)
            .collect(),
        vec![],
    )
    .await;
    assert!(r.ok, "{}", r.stderr);
}
