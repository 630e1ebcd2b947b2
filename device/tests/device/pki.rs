//! `pki`: the files it writes, checked with the openssl CLI (chain, PKCS#12) and read back.

use std::path::Path;

use anchorage_device::identity::Identity;

use crate::support::*;

fn openssl(args: &[&str]) -> std::process::Output {
    std::process::Command::new("openssl").args(args).output().expect("openssl runs")
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).expect("meta").permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread")]
async fn pki_writes_a_chain_openssl_verifies_and_stores_it_reads() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("pki");
    let run = cli(
        &[
            "pki",
            "--out",
            &path_str(&out),
            "--root-cn",
            "Test Root",
            "--intermediate",
            "--devices",
            "3",
            "--prefix",
            "dev-",
            "--days",
            "30",
        ],
        &[("ANCHORAGE_DEVICE_P12_PASSWORD", "p12 pass")],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    let p = |name: &str| out.join(name);
    for name in ["root.pem", "root.key", "intermediate.pem", "intermediate.key", "devices.csv"] {
        assert!(p(name).is_file(), "{name}");
    }
    for id in ["dev-0001", "dev-0002", "dev-0003"] {
        for ext in ["pem", "key", "p12"] {
            assert!(p(&format!("{id}.{ext}")).is_file(), "{id}.{ext}");
        }
        assert_eq!(mode(&p(&format!("{id}.key"))), 0o600);
        assert_eq!(mode(&p(&format!("{id}.p12"))), 0o600);
    }
    assert_eq!(mode(&p("root.key")), 0o600);
    assert!(!p("dev-0004.pem").exists());
    assert!(!p("p12-password.txt").exists(), "the password came from the environment");

    // The chain verifies for client authentication.
    let verify = openssl(&[
        "verify",
        "-purpose",
        "sslclient",
        "-CAfile",
        &path_str(&p("root.pem")),
        "-untrusted",
        &path_str(&p("intermediate.pem")),
        &path_str(&p("dev-0001.pem")),
    ]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
    assert!(String::from_utf8_lossy(&verify.stdout).contains("OK"));

    // The device certificate: CN = id, CA:false, clientAuth, 30 days.
    let text = openssl(&["x509", "-in", &path_str(&p("dev-0002.pem")), "-noout", "-text", "-subject"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("CN = dev-0002") || text.contains("CN=dev-0002"), "{text}");
    assert!(text.contains("CA:FALSE"), "{text}");
    assert!(text.contains("TLS Web Client Authentication"), "{text}");
    assert!(text.contains("prime256v1") || text.contains("P-256"), "{text}");
    let end =
        openssl(&["x509", "-in", &path_str(&p("dev-0002.pem")), "-noout", "-checkend", &(31 * 86400).to_string()]);
    assert!(!end.status.success(), "valid for 30 days, not 31");
    let end =
        openssl(&["x509", "-in", &path_str(&p("dev-0002.pem")), "-noout", "-checkend", &(29 * 86400).to_string()]);
    assert!(end.status.success(), "still valid in 29 days");

    // openssl reads the PKCS#12 stores: the key and both certificates.
    let info =
        openssl(&["pkcs12", "-info", "-nodes", "-passin", "pass:p12 pass", "-in", &path_str(&p("dev-0003.p12"))]);
    let stdout = String::from_utf8_lossy(&info.stdout);
    assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
    assert!(stdout.contains("BEGIN PRIVATE KEY"), "{stdout}");
    assert_eq!(stdout.matches("BEGIN CERTIFICATE").count(), 2, "{stdout}");
    assert!(stdout.contains("CN = dev-0003") || stdout.contains("CN=dev-0003"), "{stdout}");
    let wrong = openssl(&["pkcs12", "-info", "-nodes", "-passin", "pass:nope", "-in", &path_str(&p("dev-0003.p12"))]);
    assert!(!wrong.status.success());
    // …and so does `token --pkcs12`'s reader.
    let from_p12 = Identity::from_pkcs12_file(&p("dev-0003.p12"), "p12 pass").expect("p12");
    let from_pem = Identity::from_pem_files(&p("dev-0003.pem"), &p("dev-0003.key")).expect("pem");
    assert_eq!(from_p12.chain(), from_pem.chain());
    // Stores made by openssl read too: its default (AES-256, PBKDF2) and the older 3DES kind.
    for extra in [&[][..], &["-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"][..]] {
        let made = dir.path().join("openssl.p12");
        let (ins, keys, outs) = (path_str(&p("dev-0003.pem")), path_str(&p("dev-0003.key")), path_str(&made));
        let mut args = vec!["pkcs12", "-export", "-in", &ins, "-inkey", &keys, "-passout", "pass:o p", "-out", &outs];
        args.extend_from_slice(extra);
        let export = openssl(&args);
        assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
        let read = Identity::from_pkcs12_file(&made, "o p").expect("an openssl PKCS#12 store");
        assert_eq!(read.leaf(), from_pem.leaf());
        std::fs::remove_file(&made).expect("rm");
    }

    // The bulk-registration CSV.
    let csv = std::fs::read_to_string(p("devices.csv")).expect("csv");
    let row = |id: &str| format!("\"{id}\";\"CERTIFICATES\";\"\";\"c8y_Device\";\"{id}\"\n");
    assert_eq!(
        csv,
        format!(
            "\"ID\";\"AUTH_TYPE\";\"CREDENTIALS\";\"TYPE\";\"NAME\"\n{}{}{}",
            row("dev-0001"),
            row("dev-0002"),
            row("dev-0003")
        )
    );
    // …which `bench --pki` reads back with common's parser.
    let read = anchorage_device::pki::read_dir(&out).expect("read back");
    assert_eq!(
        read.devices.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
        ["dev-0001", "dev-0002", "dev-0003"]
    );

    // Nothing is overwritten.
    let again = cli(&["pki", "--out", &path_str(&out), "--devices", "1", "--p12-password", "x"], &[]).await;
    assert!(!again.ok && again.stderr.contains("root.pem"), "{}", again.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_password_one_is_generated_into_an_owner_only_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let run = cli(&["pki", "--out", &path_str(dir.path()), "--devices", "1"], &[]).await;
    assert!(run.ok, "{}", run.stderr);
    let file = dir.path().join("p12-password.txt");
    assert_eq!(mode(&file), 0o600);
    let password = std::fs::read_to_string(&file).expect("password");
    assert!(!run.stdout.contains(password.trim()) && !run.stderr.contains(password.trim()));
    let id = Identity::from_pkcs12_file(&dir.path().join("dev-0001.p12"), password.trim()).expect("p12");
    assert_eq!(id.chain().len(), 1);
}
