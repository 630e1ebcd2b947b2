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

// ---------------------------------------------------------------------------------------------
// Keys and signature algorithms the device-side chain verification (rustls-webpki 0.103 with
// aws-lc-rs) can or cannot use. Certificates are made at test time by the openssl CLI, or
// written here as DER where openssl cannot make them quickly (an RSA key over 8192 bits) or at
// all (a malformed key).

/// A self-signed CA made by `openssl req -x509` with the key options `newkey` (and `extra`
/// options, e.g. a digest), as DER.
fn openssl_ca(newkey: &[&str], extra: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tmp");
    let mut args = vec!["req", "-x509"];
    args.extend_from_slice(newkey);
    args.extend_from_slice(&["-nodes", "-keyout", "k.pem", "-out", "ca.pem", "-days", "30", "-subj", "/CN=Key CA"]);
    args.extend_from_slice(&["-addext", "basicConstraints=critical,CA:true"]);
    args.extend_from_slice(extra);
    openssl(dir.path(), &args);
    read_pem_file(&dir.path().join("ca.pem"))
}

fn outcome(der: &[u8], rule: Rule) -> (bool, String) {
    let i = inspect(der, now()).expect("parses");
    let c = i.checks.iter().find(|c| c.rule == rule).expect("rule evaluated");
    (c.passed, c.detail.clone())
}

fn refusal(der: &[u8]) -> String {
    cert::accept_one(&to_pem(der), now()).expect_err("refused").to_string()
}

#[test]
fn an_rsa_1024_ca_is_refused_at_upload_saying_why() {
    let der = openssl_ca(&["-newkey", "rsa:1024"], &[]);
    assert_eq!(failing(&der, now()), vec![Rule::UsableKey]);
    let err = cert::accept_one(&to_pem(&der), now()).unwrap_err();
    assert!(matches!(err, Rejection::Rule { rule: Rule::UsableKey, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "Cannot add certificate - its RSA key of 1024 bits is too weak: devices' chains would be refused. \
         Use a key of 2048 bits or more."
    );
}

#[test]
fn keys_the_verifier_cannot_use_are_refused_in_words() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp256k1"],
            "its elliptic-curve key is on the curve secp256k1, which devices' chain verification does not support",
        ),
        (
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:brainpoolP256r1"],
            "its elliptic-curve key is on the curve brainpoolP256r1, which",
        ),
        (
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-pkeyopt", "ec_param_enc:explicit"],
            "its elliptic-curve key spells out its curve's parameters instead of naming the curve",
        ),
        (&["-newkey", "ed448"], "its key is an Ed448 key, which devices' chain verification does not support"),
        (
            &["-newkey", "rsa-pss", "-pkeyopt", "rsa_keygen_bits:2048"],
            "its key is an RSA-PSS key (id-RSASSA-PSS), which devices' chain verification does not support",
        ),
    ];
    for (newkey, want) in cases {
        let der = openssl_ca(newkey, &[]);
        let (passed, detail) = outcome(&der, Rule::UsableKey);
        assert!(!passed && detail.starts_with(want), "{newkey:?}: {detail}");
        assert!(detail.contains("devices' chains would be refused"), "{newkey:?}: {detail}");
        let err = refusal(&der);
        assert!(err.starts_with(&format!("Cannot add certificate - {want}")), "{newkey:?}: {err}");
    }
}

#[test]
fn keys_the_verifier_uses_are_accepted() {
    let cases: [(&[&str], &str); 4] = [
        (&["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"], "ECDSA P-384"),
        (&["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"], "ECDSA P-521"),
        (&["-newkey", "ed25519"], "Ed25519"),
        (&["-newkey", "rsa:3072", "-sigopt", "rsa_padding_mode:pss"], "RSA 3072 bits"),
    ];
    for (newkey, want) in cases {
        let der = openssl_ca(newkey, &[]);
        let i = inspect(&der, now()).expect("parses");
        assert!(i.acceptable(), "{newkey:?}: {:?}", i.checks);
        assert_eq!(outcome(&der, Rule::UsableKey), (true, want.to_string()), "{newkey:?}");
    }
    // rcgen's default key (ECDSA P-256, SHA-256).
    let der = ca_der();
    assert_eq!(outcome(&der, Rule::UsableKey), (true, "ECDSA P-256".to_string()));
    assert_eq!(outcome(&der, Rule::SupportedSignature), (true, "signed with SHA256withECDSA".to_string()));
}

#[test]
fn weak_or_unsupported_signature_algorithms_are_refused_in_words() {
    let sha1 = openssl_ca(&["-newkey", "rsa:2048"], &["-sha1"]);
    assert_eq!(failing(&sha1, now()), vec![Rule::SupportedSignature]);
    assert_eq!(
        refusal(&sha1),
        "Cannot add certificate - it is signed with SHA1withRSA: SHA-1 signatures are no longer secure and \
         devices' chain verification refuses them, so certificates this CA signs the same way would be refused. \
         Re-issue the CA signed with SHA-256 or stronger."
    );
    let md5 = openssl_ca(&["-newkey", "rsa:2048"], &["-md5"]);
    assert_eq!(failing(&md5, now()), vec![Rule::SupportedSignature]);
    assert!(
        refusal(&md5).starts_with("Cannot add certificate - it is signed with MD5withRSA: MD5 signatures are broken")
    );
    let ed448 = openssl_ca(&["-newkey", "ed448"], &[]);
    assert_eq!(failing(&ed448, now()), vec![Rule::UsableKey, Rule::SupportedSignature]);
    let (_, detail) = outcome(&ed448, Rule::SupportedSignature);
    assert!(
        detail.starts_with("it is signed with Ed448, which devices' chain verification does not support"),
        "{detail}"
    );
    // RSASSA-PSS with SHA-256 is fine.
    let pss = openssl_ca(&["-newkey", "rsa:2048"], &["-sigopt", "rsa_padding_mode:pss", "-sha256"]);
    assert_eq!(outcome(&pss, Rule::SupportedSignature), (true, "signed with RSASSA-PSS and SHA-256".to_string()));
}

/// DER by hand, for keys openssl cannot make quickly or at all.
mod der;

/// A v3 CA certificate around `spki`, "signed" with `sig_alg` (the signature is not checked at
/// upload, so it is a few bytes).
fn handmade_ca(spki: Vec<u8>, sig_alg: Vec<u8>) -> Vec<u8> {
    use der::*;
    let utc = |t: OffsetDateTime| {
        let s = format!(
            "{:02}{:02}{:02}{:02}{:02}{:02}Z",
            t.year() % 100,
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        tlv(0x17, s.as_bytes())
    };
    let name = seq(&[tlv(0x31, &seq(&[oid("2.5.4.3"), tlv(0x0c, b"Handmade CA")]))]);
    let bc = seq(&[oid("2.5.29.19"), tlv(0x01, &[0xff]), tlv(0x04, &seq(&[tlv(0x01, &[0xff])]))]);
    let tbs = seq(&[
        tlv(0xa0, &tlv(0x02, &[2])),
        tlv(0x02, &[1]),
        sig_alg.clone(),
        name.clone(),
        seq(&[utc(now() - Duration::days(1)), utc(now() + Duration::days(30))]),
        name,
        spki,
        tlv(0xa3, &seq(&[bc])),
    ]);
    seq(&[tbs, sig_alg, bits(&[1, 2, 3, 4])])
}

fn sha256_with_rsa() -> Vec<u8> {
    der::seq(&[der::oid("1.2.840.113549.1.1.11"), der::NULL.to_vec()])
}

/// An RSA key's SubjectPublicKeyInfo with the parameters `params` (NULL as required, or not).
fn rsa_spki(modulus: &[u8], exponent: &[u8], params: Option<&[u8]>) -> Vec<u8> {
    let mut alg = vec![der::oid("1.2.840.113549.1.1.1")];
    alg.extend(params.map(<[u8]>::to_vec));
    der::seq(&[der::seq(&alg), der::bits(&der::seq(&[der::uint(modulus), der::uint(exponent)]))])
}

/// An odd modulus of exactly `bits` bits (not a real key: only its size is looked at).
fn modulus(bits: usize) -> Vec<u8> {
    let mut m = vec![0x5a; bits.div_ceil(8)];
    let top = (bits - 1) % 8;
    m[0] = (m[0] & ((1u16 << (top + 1)) - 1) as u8) | (1 << top);
    *m.last_mut().expect("bytes") |= 1;
    m
}

#[test]
fn rsa_keys_are_judged_as_aws_lc_judges_them() {
    let e = [0x01, 0x00, 0x01];
    let key = |bits: usize, e: &[u8]| handmade_ca(rsa_spki(&modulus(bits), e, Some(&der::NULL)), sha256_with_rsa());
    for bits in [2048, 4096, 8192] {
        assert_eq!(outcome(&key(bits, &e), Rule::UsableKey), (true, format!("RSA {bits} bits")));
        assert!(failing(&key(bits, &e), now()).is_empty());
    }
    assert_eq!(outcome(&key(2048, &[3]), Rule::UsableKey), (true, "RSA 2048 bits".to_string()));
    assert!(outcome(&key(2047, &e), Rule::UsableKey).1.starts_with("its RSA key of 2047 bits is too weak"));
    assert_eq!(
        refusal(&key(8200, &e)),
        "Cannot add certificate - its RSA key of 8200 bits is larger than devices' chain verification accepts \
         (8192 bits at most): devices' chains would be refused. Use a key of 2048 to 8192 bits."
    );
    for bad_e in [&[1u8][..], &[2], &[0x01, 0x00, 0x00], &[0x02, 0x00, 0x00, 0x00, 0x01]] {
        let (passed, detail) = outcome(&key(2048, bad_e), Rule::UsableKey);
        assert!(!passed && detail.starts_with("its RSA public exponent"), "{bad_e:?}: {detail}");
    }
    // Exponents up to 33 bits are accepted, as aws-lc does.
    assert!(outcome(&key(2048, &[0x01, 0x00, 0x00, 0x00, 0x01]), Rule::UsableKey).0);
    let mut even = modulus(2048);
    *even.last_mut().expect("bytes") &= 0xfe;
    let even = handmade_ca(rsa_spki(&even, &e, Some(&der::NULL)), sha256_with_rsa());
    assert!(outcome(&even, Rule::UsableKey).1.starts_with("its RSA modulus is even"));
    // webpki matches the key's algorithm identifier byte for byte: the NULL must be there.
    let absent = handmade_ca(rsa_spki(&modulus(2048), &e, None), sha256_with_rsa());
    assert!(outcome(&absent, Rule::UsableKey).1.contains("NULL parameters"));
    let garbage = handmade_ca(
        der::seq(&[der::seq(&[der::oid("1.2.840.113549.1.1.1"), der::NULL.to_vec()]), der::bits(b"not a key")]),
        sha256_with_rsa(),
    );
    assert!(outcome(&garbage, Rule::UsableKey).1.starts_with("its RSA public key cannot be read"));
}

#[test]
fn other_key_algorithms_are_judged_by_their_identifier() {
    let spki = |alg: Vec<u8>, key: &[u8]| der::seq(&[der::seq(&[alg]), der::bits(key)]);
    let ecdsa = der::seq(&[der::oid("1.2.840.10045.4.3.2")]);
    let ml_dsa = handmade_ca(
        spki(der::oid("2.16.840.1.101.3.4.3.18"), &[7; 1952]),
        der::seq(&[der::oid("2.16.840.1.101.3.4.3.18")]),
    );
    assert!(failing(&ml_dsa, now()).is_empty(), "{:?}", inspect(&ml_dsa, now()).unwrap().checks);
    assert_eq!(outcome(&ml_dsa, Rule::UsableKey), (true, "ML-DSA-65".to_string()));
    let x25519 = handmade_ca(spki(der::oid("1.3.101.110"), &[9; 32]), ecdsa.clone());
    assert!(outcome(&x25519, Rule::UsableKey).1.starts_with("its key (X25519) can only agree or encrypt keys"));
    let unknown = handmade_ca(spki(der::oid("1.3.6.1.4.1.55555.9"), &[1; 16]), ecdsa.clone());
    assert_eq!(
        outcome(&unknown, Rule::UsableKey).1,
        "its public key algorithm (OID 1.3.6.1.4.1.55555.9) is not one devices' chain verification supports: \
         devices' chains would be refused. Use ECDSA P-256 or P-384, Ed25519, or RSA of 2048 bits or more"
    );
    let ec = |curve: &str, point: &[u8]| {
        let alg = der::seq(&[der::oid("1.2.840.10045.2.1"), der::oid(curve)]);
        handmade_ca(der::seq(&[alg, der::bits(point)]), ecdsa.clone())
    };
    let uncompressed = [&[4u8][..], &[1; 64]].concat();
    assert_eq!(outcome(&ec("1.2.840.10045.3.1.7", &uncompressed), Rule::UsableKey).1, "ECDSA P-256");
    assert!(outcome(&ec("1.2.840.10045.3.1.7", &[[2u8].as_slice(), &[1; 32]].concat()), Rule::UsableKey).0);
    assert!(outcome(&ec("1.2.840.10045.3.1.7", &[5; 65]), Rule::UsableKey).1.contains("not a valid point encoding"));
    assert!(outcome(&ec("1.3.132.0.34", &uncompressed), Rule::UsableKey).1.contains("not a valid point encoding"));
    assert!(outcome(&ec("1.2.999.1", &uncompressed), Rule::UsableKey).1.contains("the curve with OID 1.2.999.1"));
    let unknown_sig = handmade_ca(
        rsa_spki(&modulus(2048), &[1, 0, 1], Some(&der::NULL)),
        der::seq(&[der::oid("1.3.6.1.4.1.55555.10")]),
    );
    assert_eq!(failing(&unknown_sig, now()), vec![Rule::SupportedSignature]);
    assert!(refusal(&unknown_sig).contains("it is signed with 1.3.6.1.4.1.55555.10, which devices' chain"));
}

// ---------------------------------------------------------------------------------------------
// Names: one rule (`common::names`) for names given by users and names made from a CN.

#[test]
fn a_default_name_from_the_cn_loses_control_and_bidi_characters() {
    use anchorage_common::{api, names};
    let der = self_signed(params("Evil\u{202e}gnp.exe\r\nCA\u{7}", IsCa::Ca(BasicConstraints::Unconstrained)));
    let info = inspect(&der, now()).expect("parses").info;
    assert_eq!(info.common_name.as_deref(), Some("Evil\u{202e}gnp.exe\r\nCA\u{7}"));
    assert_eq!(api::default_name(&info), "Evilgnp.exe CA");
    assert!(names::check_display_name(&api::default_name(&info)).is_ok());
    // The same text given as a name is refused, by the same rule.
    let given = api::check_name(&serde_json::Value::String("Evil\u{202e}gnp.exe".into())).unwrap_err();
    assert_eq!(
        given,
        "name must not contain bidirectional formatting characters (found U+202E, right-to-left override): \
         they make text show in another order than it is written"
    );
    let given = api::check_name(&serde_json::Value::String("two\nlines".into())).unwrap_err();
    assert_eq!(given, "name must not contain control characters or line breaks (found U+000A)");

    // A CN with nothing left: the subject; no subject at all: the fingerprint.
    let der = self_signed(params("\u{2067}\u{0}", IsCa::Ca(BasicConstraints::Unconstrained)));
    let info = inspect(&der, now()).expect("parses").info;
    assert_eq!(api::default_name(&info), "CN= , OU=Devices, O=Example Corp, ST=Bavaria, C=DE");
    let mut p = params("x", IsCa::Ca(BasicConstraints::Unconstrained));
    p.distinguished_name = DistinguishedName::new();
    let info = inspect(&self_signed(p), now()).expect("parses").info;
    assert_eq!((info.subject.as_str(), api::default_name(&info)), ("", info.fingerprint.clone()));
    // Long CNs are cut to the limit.
    let der = self_signed(params(&"é".repeat(300), IsCa::Ca(BasicConstraints::Unconstrained)));
    assert_eq!(api::default_name(&inspect(&der, now()).expect("parses").info).chars().count(), names::MAX_NAME_CHARS);
}

#[test]
fn every_sanitized_name_passes_the_given_name_rule() {
    use anchorage_common::names;
    let palette: Vec<char> = "a Zé日😀\u{0}\t\n\r\u{7f}\u{85}\u{9f}\u{2028}\u{2029}\u{61c}\u{200e}\u{200f}\u{202a}\u{202c}\u{202e}\u{2066}\u{2069}\u{200d}\u{a0}\u{3000}"
        .chars()
        .collect();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..20_000 {
        let len = (next() % 300) as usize;
        let s: String = (0..len).map(|_| palette[(next() % palette.len() as u64) as usize]).collect();
        let clean = names::sanitize(&s);
        assert!(clean.is_empty() || names::check_display_name(&clean) == Ok(clean.clone()), "{s:?} → {clean:?}");
        assert!(names::first_unsafe(&clean).is_none());
        // A given name passes exactly when it has no refused character (and fits).
        let trimmed = s.trim();
        let fits = !trimmed.is_empty() && trimmed.chars().count() <= names::MAX_NAME_CHARS;
        assert_eq!(names::check_display_name(&s).is_ok(), fits && names::first_unsafe(trimmed).is_none(), "{s:?}");
    }
}
