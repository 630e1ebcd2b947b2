//! Certificate inspection and acceptance rules over certificates generated at test time
//! (rcgen and the openssl CLI), with computed fields compared against `openssl x509`.

use std::path::Path;
use std::process::Command;

use anchorage_common::cert::{self, Rejection, Rule, inspect};
use anchorage_common::pem::{decode_certificates, to_pem};
use num_bigint::BigInt;
use rcgen::{BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, KeyPair};
use time::{Duration, OffsetDateTime};

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn params(cn: &str, ca: IsCa) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "DE");
    dn.push(DnType::StateOrProvinceName, "Bavaria");
    dn.push(DnType::OrganizationName, "Example Corp");
    dn.push(DnType::OrganizationalUnitName, "Devices");
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.is_ca = ca;
    p.not_before = now() - Duration::days(1);
    p.not_after = now() + Duration::days(365);
    p
}

fn self_signed(p: CertificateParams) -> Vec<u8> {
    let key = KeyPair::generate().expect("key");
    p.self_signed(&key).expect("sign").der().to_vec()
}

fn ca_der() -> Vec<u8> {
    self_signed(params("Anchorage Test CA", IsCa::Ca(BasicConstraints::Unconstrained)))
}

fn failing(der: &[u8], at: OffsetDateTime) -> Vec<Rule> {
    inspect(der, at).expect("parses").checks.iter().filter(|c| !c.passed).map(|c| c.rule).collect()
}

/// Runs openssl with `args`, returning stdout; panics with stderr on failure.
fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl").current_dir(dir).args(args).output().expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8")
}

fn read_pem_file(path: &Path) -> Vec<u8> {
    let text = std::fs::read_to_string(path).expect("read");
    decode_certificates(&text).expect("decodes").remove(0)
}

#[test]
fn ecdsa_p256_ca_passes_every_rule_with_platform_fields() {
    let der = ca_der();
    let i = inspect(&der, now()).expect("parses");
    assert!(i.acceptable(), "{:?}", i.checks);
    assert_eq!(i.info.algorithm_name, "SHA256withECDSA");
    assert_eq!(i.info.version, 3);
    assert_eq!(i.info.subject, "CN=Anchorage Test CA, OU=Devices, O=Example Corp, ST=Bavaria, C=DE");
    assert_eq!(i.info.issuer, i.info.subject);
    assert_eq!(i.info.common_name.as_deref(), Some("Anchorage Test CA"));
    assert!(i.info.not_before_text().ends_with(".000Z"));
    assert_eq!(i.info.fingerprint.len(), 40);
}

#[test]
fn computed_fields_match_openssl() {
    let dir = tempfile::tempdir().expect("tmp");
    let der = ca_der();
    std::fs::write(dir.path().join("ca.pem"), to_pem(&der)).expect("write");
    let i = inspect(&der, now()).expect("parses");

    let fp = openssl(dir.path(), &["x509", "-in", "ca.pem", "-noout", "-fingerprint", "-sha1"]);
    let fp = fp.trim().rsplit('=').next().expect("value").replace(':', "").to_lowercase();
    assert_eq!(i.info.fingerprint, fp);

    let serial = openssl(dir.path(), &["x509", "-in", "ca.pem", "-noout", "-serial"]);
    let hex = serial.trim().trim_start_matches("serial=");
    let decimal = BigInt::parse_bytes(hex.as_bytes(), 16).expect("hex").to_string();
    assert_eq!(i.info.serial_number, decimal);

    // RFC 2253 prints the RDNs in the same (reversed) order as Java, separated by bare commas.
    let subject = openssl(dir.path(), &["x509", "-in", "ca.pem", "-noout", "-subject", "-nameopt", "RFC2253"]);
    let subject = subject.trim().trim_start_matches("subject=").replace(',', ", ");
    assert_eq!(i.info.subject, subject);

    let end = openssl(dir.path(), &["x509", "-in", "ca.pem", "-noout", "-enddate", "-dateopt", "iso_8601"]);
    let end = end.trim().trim_start_matches("notAfter=").replace(' ', "T").replace('Z', ".000Z");
    assert_eq!(i.info.not_after_text(), end);
}

#[test]
fn rsa_2048_ca_from_openssl_is_accepted_as_sha256_with_rsa() {
    let dir = tempfile::tempdir().expect("tmp");
    openssl(
        dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/O=Example/CN=RSA Root/emailAddress=pki@example.com",
            "-addext",
            "basicConstraints=critical,CA:true",
        ],
    );
    let der = read_pem_file(&dir.path().join("ca.pem"));
    let i = inspect(&der, now()).expect("parses");
    assert!(i.acceptable(), "{:?}", i.checks);
    assert_eq!(i.info.algorithm_name, "SHA256withRSA");
    assert_eq!(i.info.subject, "EMAILADDRESS=pki@example.com, CN=RSA Root, O=Example");
}

#[test]
fn version_1_certificate_fails_the_version_rule() {
    let dir = tempfile::tempdir().expect("tmp");
    openssl(
        dir.path(),
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "k.pem",
            "-subj",
            "/CN=v1",
            "-out",
            "r.csr",
        ],
    );
    openssl(dir.path(), &["x509", "-req", "-in", "r.csr", "-signkey", "k.pem", "-days", "2", "-out", "v1.pem"]);
    let der = read_pem_file(&dir.path().join("v1.pem"));
    let i = inspect(&der, now()).expect("parses");
    assert_eq!(i.info.version, 1);
    assert_eq!(failing(&der, now()), vec![Rule::Version3, Rule::CaTrue]);
    let pem = to_pem(&der);
    let err = cert::accept_one(&pem, now()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot add certificate - it is X.509 version 1; only version 3 certificates can be trusted."
    );
}

#[test]
fn leaf_with_ca_false_and_certificate_without_basic_constraints_fail_the_ca_rule() {
    let leaf = self_signed(params("leaf", IsCa::ExplicitNoCa));
    assert_eq!(failing(&leaf, now()), vec![Rule::CaTrue]);
    let err = cert::accept_one(&to_pem(&leaf), now()).unwrap_err();
    assert!(matches!(err, Rejection::Rule { rule: Rule::CaTrue, .. }));
    assert!(err.to_string().contains("CA:false"), "{err}");

    let none = self_signed(params("no-bc", IsCa::NoCa));
    assert_eq!(failing(&none, now()), vec![Rule::CaTrue]);
    assert!(cert::accept_one(&to_pem(&none), now()).unwrap_err().to_string().contains("no BasicConstraints"));
}

#[test]
fn expired_and_not_yet_valid_fail_the_date_rule() {
    let mut p = params("old", IsCa::Ca(BasicConstraints::Unconstrained));
    p.not_before = now() - Duration::days(30);
    p.not_after = now() - Duration::days(1);
    let expired = self_signed(p);
    assert_eq!(failing(&expired, now()), vec![Rule::InDate]);
    assert!(cert::accept_one(&to_pem(&expired), now()).unwrap_err().to_string().contains("expired on"));

    let mut p = params("future", IsCa::Ca(BasicConstraints::Unconstrained));
    p.not_before = now() + Duration::days(2);
    p.not_after = now() + Duration::days(30);
    let future = self_signed(p);
    assert_eq!(failing(&future, now()), vec![Rule::InDate]);
    assert!(cert::accept_one(&to_pem(&future), now()).unwrap_err().to_string().contains("not valid before"));

    // The clock is injected: the same certificate passes inside its window.
    assert!(failing(&future, now() + Duration::days(3)).is_empty());
}

#[test]
fn unknown_critical_extension_fails_and_known_ones_pass() {
    let mut p = params("odd", IsCa::Ca(BasicConstraints::Unconstrained));
    let mut ext = CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55555, 1], vec![0x05, 0x00]);
    ext.set_criticality(true);
    p.custom_extensions.push(ext);
    let der = self_signed(p);
    assert_eq!(failing(&der, now()), vec![Rule::KnownCriticalExtensions]);
    assert!(cert::accept_one(&to_pem(&der), now()).unwrap_err().to_string().contains("1.3.6.1.4.1.55555.1"));

    let mut p = params("odd-but-harmless", IsCa::Ca(BasicConstraints::Constrained(1)));
    p.custom_extensions.push(CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55555, 1], vec![0x05, 0x00]));
    assert!(failing(&self_signed(p), now()).is_empty());
}

#[test]
fn garbage_is_refused_with_the_platform_message_and_never_panics() {
    for input in ["", "hello", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "MAMCAQE="] {
        let err = cert::accept_one(input, now()).unwrap_err();
        let Rejection::Unparsable(msg) = err else { panic!("{input:?} gave {err:?}") };
        assert!(msg.starts_with("Cannot parse X509 certificate. : Could not parse certificate: "), "{msg}");
    }
    // Truncations and bit flips of a real certificate: errors, never panics.
    let der = ca_der();
    for cut in (0..der.len()).step_by(7) {
        let _ = inspect(&der[..cut], now());
    }
    for i in (0..der.len()).step_by(3) {
        let mut d = der.clone();
        d[i] ^= 0xff;
        let _ = inspect(&d, now());
    }
    // Trailing bytes after a certificate are refused.
    let mut trailing = der.clone();
    trailing.extend_from_slice(&[0, 0]);
    assert!(inspect(&trailing, now()).unwrap_err().0.contains("unexpected data"));
}

#[test]
fn der_as_bare_base64_is_the_same_certificate_as_pem() {
    let der = ca_der();
    let from_b64 = cert::accept_one(&anchorage_common::pem::to_single_line_base64(&der), now()).expect("base64");
    let from_pem = cert::accept_one(&to_pem(&der), now()).expect("pem");
    assert_eq!(from_b64, from_pem);
    assert_eq!(from_pem.cert_in_pem_format(), anchorage_common::pem::to_single_line_base64(&der));
}

#[test]
fn a_bundle_yields_each_certificate_and_single_create_refuses_it() {
    let (a, b) = (ca_der(), ca_der());
    let bundle = format!("{}{}", to_pem(&a), to_pem(&b));
    let ders = decode_certificates(&bundle).expect("bundle");
    assert_eq!(ders, vec![a, b]);
    let err = cert::accept_one(&bundle, now()).unwrap_err();
    assert!(err.to_string().contains("holds 2 certificates"), "{err}");
}
