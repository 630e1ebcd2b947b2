//! `token --watch`: the loop writes a token, renews it at half-life, retries with backoff
//! through a server restart, and the file always holds a complete token. Time is moved on the
//! server's manual clock by the injected clock, never slept.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use anchorage_device::jwt::{Token, decode_claims};
use anchorage_device::watch::{WatchConfig, watch};
use anchorage_server::clock::Clock as _;
use tokio::sync::{mpsc, oneshot};

use crate::support::*;

/// Reads the token file on another thread as fast as it can while the loop runs, and fails on
/// anything that is not a whole token.
struct Reader {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Result<u64, String>>,
}

impl Reader {
    fn start(path: PathBuf) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let reads = AtomicU64::new(0);
            while !flag.load(Ordering::Relaxed) {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    reads.fetch_add(1, Ordering::Relaxed);
                    if !text.ends_with('\n') || decode_claims(text.trim_end()).is_err() {
                        return Err(format!("a torn token file: {text:?}"));
                    }
                }
                std::thread::yield_now();
            }
            Ok(reads.load(Ordering::Relaxed))
        });
        Self { stop, thread }
    }

    fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("reader").expect("the file always held a whole token")
    }
}

fn read_token(path: &Path) -> Token {
    Token::parse(std::fs::read_to_string(path).expect("token file").trim_end()).expect("a token")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_loop_writes_a_token_and_a_new_one_after_half_life() {
    let server = Server::start().await;
    server.admin().set_option("oauth.internal", "device-token.lifespan.seconds", "300").await.expect("lifespan");
    let pki = make_pki(1, false);
    server.trust(&pki.root.cert_pem).await;
    let client = server.client(&pki.devices[0].identity().expect("identity"), None);
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("device.token");
    let reader = Reader::start(out.clone());

    let (sleeps, mut asked) = mpsc::unbounded_channel();
    let clock = TestClock { server: server.clock.clone(), sleeps };
    let (stop, stopped) = oneshot::channel::<()>();
    let path = out.clone();
    let task = tokio::spawn(async move {
        watch(&client, &path, &clock, &WatchConfig::default(), async move {
            let _ = stopped.await;
        })
        .await
    });

    // Token 1, and a sleep until its half-life.
    let (deadline, wake) = asked.recv().await.expect("first sleep");
    let first = read_token(&out);
    assert_eq!(first.claims().exp - first.claims().iat, 300);
    assert_eq!(deadline, first.renew_at());
    assert_eq!(deadline.unix_timestamp(), first.claims().iat + 150);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&out).expect("meta").permissions().mode() & 0o777, 0o600);
    }
    move_to(&server.clock, deadline);
    wake.send(()).expect("wake");

    // Token 2, issued at the half-life of token 1, and the next sleep until its own.
    let (deadline, wake) = asked.recv().await.expect("second sleep");
    let second = read_token(&out);
    assert_ne!(second.as_str(), first.as_str());
    assert_eq!(second.claims().iat, first.claims().iat + 150);
    assert_eq!(second.claims().sub, first.claims().sub);
    assert_eq!(deadline, second.renew_at());

    stop.send(()).expect("stop");
    drop(wake);
    task.await.expect("task").expect("the loop stops cleanly");
    assert!(reader.finish() > 0);
    assert_eq!(read_token(&out).as_str(), second.as_str(), "the file keeps the last token");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no temporary files: {leftovers:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_odd_lifetime_renews_on_the_very_second_the_server_does() {
    let server = Server::start().await;
    server.admin().set_option("oauth.internal", "device-token.lifespan.seconds", "301").await.expect("lifespan");
    let pki = make_pki(1, false);
    server.trust(&pki.root.cert_pem).await;
    let client = server.client(&pki.devices[0].identity().expect("identity"), None);

    let first = client.fetch().await.expect("a token");
    assert_eq!(first.claims().exp - first.claims().iat, 301);
    // Half of 301 s, rounded down: common's rule, the one the server renews by.
    assert_eq!(first.renew_at().unix_timestamp(), first.claims().iat + 150);
    move_to(&server.clock, first.renew_at() - time::Duration::seconds(1));
    let again = client.fetch().await.expect("the same token");
    assert_eq!(again.as_str(), first.as_str(), "a second before, the server hands out the same token");
    move_to(&server.clock, first.renew_at());
    let second = client.fetch().await.expect("a new token");
    assert_ne!(second.as_str(), first.as_str(), "at renew_at the server hands out a new one");
    assert_eq!(second.issued_at(), first.renew_at());
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_back_off_exponentially_and_the_loop_survives_a_server_restart() {
    // A fixed device port, so the restarted server is found at the same URL.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("probe").local_addr().expect("addr");
    let mut server = Server::start_on(port).await;
    server.admin().set_option("oauth.internal", "device-token.lifespan.seconds", "300").await.expect("lifespan");
    let pki = make_pki(1, false);
    server.trust(&pki.root.cert_pem).await;
    let client = server.client(&pki.devices[0].identity().expect("identity"), None);
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("device.token");

    let (sleeps, mut asked) = mpsc::unbounded_channel();
    let clock = TestClock { server: server.clock.clone(), sleeps };
    let (stop, stopped) = oneshot::channel::<()>();
    let path = out.clone();
    let config = WatchConfig { jitter: false, ..WatchConfig::default() };
    let task = tokio::spawn(async move {
        watch(&client, &path, &clock, &config, async move {
            let _ = stopped.await;
        })
        .await
    });

    let (renew_at, wake) = asked.recv().await.expect("first sleep");
    let first = read_token(&out);
    server.stop().await;
    move_to(&server.clock, renew_at);
    wake.send(()).expect("wake");

    // The server is down: 1 s, 2 s, 4 s… between attempts.
    let mut expected = 1;
    for _ in 0..4 {
        let (at, wake) = asked.recv().await.expect("backoff sleep");
        assert_eq!((at - server.clock.now()).whole_seconds(), expected);
        move_to(&server.clock, at);
        wake.send(()).expect("wake");
        expected *= 2;
    }
    // Far into the backoff, the next attempt still comes just before the token expires.
    let (at, wake) = asked.recv().await.expect("backoff sleep");
    move_to(&server.clock, first.expires_at() - time::Duration::seconds(20));
    wake.send(()).expect("wake");
    let (at_2, wake) = asked.recv().await.expect("last-chance sleep");
    assert!(at_2 > at);
    assert_eq!(at_2, first.expires_at() - time::Duration::seconds(1), "tries once more before expiry");
    assert_eq!(read_token(&out).as_str(), first.as_str(), "the last good token stays in place");

    // Back up: the next attempt gets a new token.
    server.resume().await;
    move_to(&server.clock, at_2);
    wake.send(()).expect("wake");
    let (_, wake) = asked.recv().await.expect("sleep after renewal");
    let second = read_token(&out);
    assert_ne!(second.as_str(), first.as_str());
    assert!(second.claims().exp > first.claims().exp);

    stop.send(()).expect("stop");
    drop(wake);
    task.await.expect("task").expect("the loop stops cleanly");
}
