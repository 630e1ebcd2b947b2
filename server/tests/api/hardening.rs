//! What a code review and an outside attack on the running server found (the hardening issue):
//! each test here failed before its fix.

use std::time::Duration;

use reqwest::Method;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::*;

/// Whether the server closed `stream` (end of file or a reset) within `within`: waits for the
/// event, never sleeps.
async fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // A 408 or similar answer before the close: keep reading until the end.
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn an_idle_flood_beyond_the_connection_cap_keeps_both_listeners_serving() {
    const CAP: usize = 32;
    let app = TestApp::spawn_configured(Some(PASSWORD), |c| c.max_connections = CAP).await;
    let root = Ca::root("Flood Root");
    app.trust(&root, "ENABLED", true).await;
    let device = root.device("flood-device");
    let (api, devices) = app.addresses();

    // Four times the cap on each listener: half-sent request heads on the API, a TLS
    // handshake never started on the device listener.
    let mut idle = Vec::new();
    for i in 0..4 * CAP {
        let mut s = TcpStream::connect(if i % 2 == 0 { api } else { devices }).await.expect("connect");
        if i % 2 == 0 {
            s.write_all(b"GET /tenant/currentTenant HTTP/1.1\r\nHost: x\r\n").await.expect("write");
        }
        idle.push(s);
    }

    // Legitimate clients are served at once: a new connection evicts the longest idle one.
    let res = app.admin(Method::GET, &app.url("/tenant/currentTenant")).send().await.expect("api request");
    assert_eq!(res.status(), 200);
    let (status, body) = app.device_token(&device, None).await;
    assert_eq!(status, 200, "{body}");

    // No more than the cap stayed open on each listener: the rest were closed by the server.
    let mut closed = 0;
    for s in &mut idle {
        if closed_by_server(s, Duration::from_millis(200)).await {
            closed += 1;
        }
    }
    assert!(closed >= 4 * CAP - 2 * CAP, "only {closed} of {} idle connections were closed", 4 * CAP);
}

#[tokio::test]
async fn half_sent_heads_and_idle_connections_are_closed_by_the_timeouts() {
    let app = TestApp::spawn_configured(Some(PASSWORD), |c| {
        c.header_read_timeout_seconds = 1;
        c.idle_timeout_seconds = 2;
    })
    .await;
    let (api, devices) = app.addresses();

    // A request head that never ends.
    let mut slow = TcpStream::connect(api).await.expect("connect");
    slow.write_all(b"GET /tenant/currentTenant HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.expect("write");
    // A TLS handshake that never starts.
    let mut silent = TcpStream::connect(devices).await.expect("connect");
    // A keep-alive connection after its request.
    let mut kept = TcpStream::connect(api).await.expect("connect");
    kept.write_all(b"GET /tenant/currentTenant HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
    let mut head = [0u8; 12];
    kept.read_exact(&mut head).await.expect("answer");
    assert_eq!(&head, b"HTTP/1.1 401");

    for (what, s) in [("half-sent head", &mut slow), ("silent TLS client", &mut silent), ("idle keep-alive", &mut kept)]
    {
        assert!(closed_by_server(s, Duration::from_secs(10)).await, "{what} was not closed");
    }
}
