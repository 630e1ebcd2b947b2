//! `token`: PEM and PKCS#12 identities, `X-Ssl-Cert-Chain` for a device under an intermediate
//! that was not uploaded, and the server's refusals as the CLI reports them.

use anchorage_device::identity::Identity;
use anchorage_device::jwt::decode_claims;
use anchorage_device::token::FetchError;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_prints_a_token_for_a_pem_identity() {
    let server = Server::start().await;
    let pki = make_pki(1, false);
    server.trust(&pki.root.cert_pem).await;
    let dir = tempfile::tempdir().expect("tmp");
    pki.write(dir.path(), "p12-pass").expect("write");
    let (cert, key, ca) = (dir.path().join("dev-0001.pem"), dir.path().join("dev-0001.key"), server.ca_path());
    let run = cli(
        &[
            "token",
            "--url",
            &server.device_url,
            "--cert",
            &path_str(&cert),
            "--key",
            &path_str(&key),
            "--ca",
            &path_str(&ca),
        ],
        &[],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the token on stdout: {}", run.stdout);
    let claims = decode_claims(lines[0]).expect("a JWT");
    assert_eq!(claims.sub, "device_dev-0001");
    assert_eq!(claims.ten, "t100");
    assert_eq!(claims.exp - claims.iat, 3600);
    assert!(!run.stderr.contains(lines[0]), "the token is never logged");

    // --out instead of stdout: the same (still current) token, in a 0600 file.
    let out = dir.path().join("token.jwt");
    let run = cli(
        &[
            "token",
            "--url",
            &server.device_url,
            "--cert",
            &path_str(&cert),
            "--key",
            &path_str(&key),
            "--ca",
            &path_str(&ca),
            "--out",
            &path_str(&out),
        ],
        &[],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&out).expect("token file").trim(), lines[0]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&out).expect("meta").permissions().mode() & 0o777, 0o600);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_reports_the_servers_status_and_message() {
    let server = Server::start().await;
    let pki = make_pki(1, false);
    let dir = tempfile::tempdir().expect("tmp");
    pki.write(dir.path(), "p12-pass").expect("write");
    let args = [
        "token",
        "--url",
        &server.device_url,
        "--cert",
        &path_str(&dir.path().join("dev-0001.pem")),
        "--key",
        &path_str(&dir.path().join("dev-0001.key")),
        "--ca",
        &path_str(&server.ca_path()),
    ];
    // Root not uploaded.
    let run = cli(&args, &[]).await;
    assert!(!run.ok);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("401 Unauthorized") && run.stderr.contains("no trusted certificate issued it"),
        "{}",
        run.stderr
    );

    // Uploaded without auto-registration: 422.
    let admin = server.admin();
    let tenant = admin.tenant().await.expect("tenant");
    admin.trust(&tenant, "no auto", &pki.root.cert_pem, false).await.expect("upload");
    let run = cli(&args, &[]).await;
    assert!(!run.ok);
    assert!(
        run.stderr.contains("422 Unprocessable Entity") && run.stderr.contains("is not registered"),
        "{}",
        run.stderr
    );

    // The server's certificate is not trusted without --ca.
    let run = cli(&args[..args.len() - 2], &[]).await;
    assert!(!run.ok);
    assert!(run.stderr.contains("TLS handshake") && run.stderr.contains("UnknownIssuer"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pkcs12_identity_gets_a_token_with_the_password_from_the_environment() {
    let server = Server::start().await;
    let pki = make_pki(2, true);
    server.trust(&pki.root.cert_pem).await;
    let dir = tempfile::tempdir().expect("tmp");
    pki.write(dir.path(), "s3cret p12").expect("write");
    let p12 = dir.path().join("dev-0002.p12");

    // Library.
    let identity = Identity::from_pkcs12_file(&p12, "s3cret p12").expect("p12");
    let token = server.client(&identity, None).fetch().await.expect("token");
    assert_eq!(token.claims().sub, "device_dev-0002");

    // CLI, default and custom variable names.
    let base =
        ["token", "--url", &server.device_url, "--pkcs12", &path_str(&p12), "--ca", &path_str(&server.ca_path())];
    let run = cli(&base, &[("ANCHORAGE_DEVICE_P12_PASSWORD", "s3cret p12")]).await;
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), token.as_str());
    let mut custom = base.to_vec();
    custom.extend(["--pkcs12-password-env", "MY_P12_PW"]);
    assert!(cli(&custom, &[("MY_P12_PW", "s3cret p12")]).await.ok);
    let run = cli(&custom, &[("MY_P12_PW", "wrong")]).await;
    assert!(!run.ok && run.stderr.contains("wrong password"), "{}", run.stderr);
    let run = cli(&custom, &[]).await;
    assert!(!run.ok && run.stderr.contains("set MY_P12_PW"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_under_an_intermediate_that_was_not_uploaded_needs_the_chain_header() {
    let server = Server::start().await;
    let pki = make_pki(1, true);
    server.trust(&pki.root.cert_pem).await;
    let device = &pki.devices[0];
    let dir = tempfile::tempdir().expect("tmp");
    // A device that keeps only its own certificate for TLS, and the chain apart.
    let (leaf, key, chain) = (dir.path().join("leaf.pem"), dir.path().join("leaf.key"), dir.path().join("chain.pem"));
    std::fs::write(&leaf, &device.cert_pem).expect("leaf");
    std::fs::write(&key, &device.key_pem).expect("key");
    std::fs::write(&chain, &device.intermediate_pem).expect("chain");
    let identity = Identity::from_pem_files(&leaf, &key).expect("identity");

    // Without the header: refused, and the library says why.
    match server.client(&identity, None).fetch().await {
        Err(FetchError::Refused { status: 401, message }) => assert!(message.contains("not trusted"), "{message}"),
        other => panic!("expected a 401, got {other:?}"),
    }
    // With it (the file lacks the leaf; it is put in front).
    let header =
        anchorage_device::identity::chain_header(&identity, device.intermediate_pem.as_bytes()).expect("header");
    let token = server.client(&identity, Some(header)).fetch().await.expect("token");
    assert_eq!(token.claims().sub, "device_dev-0001");

    // The same through the CLI.
    let args = [
        "token",
        "--url",
        &server.device_url,
        "--cert",
        &path_str(&leaf),
        "--key",
        &path_str(&key),
        "--ca",
        &path_str(&server.ca_path()),
    ];
    let run = cli(&args, &[]).await;
    assert!(!run.ok && run.stderr.contains("401"), "{}", run.stderr);
    let mut with_chain = args.to_vec();
    let chain = path_str(&chain);
    with_chain.extend(["--chain", &chain]);
    let run = cli(&with_chain, &[]).await;
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), token.as_str());
}
