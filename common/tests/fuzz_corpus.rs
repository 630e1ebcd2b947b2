//! The fuzz targets' saved corpora, replayed as an ordinary test (issue 17): every seed and
//! every input of a fixed finding goes through the target's checks again
//! (`anchorage_common::fuzzing`), plus a few certificates and a CSR made now (certificates are
//! never committed).

use anchorage_common::fuzzing::{self, replay};

/// A CA, a device certificate it signed, and the device's CSR, as DER.
fn made_now() -> Vec<Vec<u8>> {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca = rcgen::CertificateParams::new(Vec::new()).expect("params");
    ca.distinguished_name.push(rcgen::DnType::CommonName, "Fuzz Root");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).expect("CA");
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate().expect("key");
    let mut leaf = rcgen::CertificateParams::new(vec!["device-1".into()]).expect("params");
    leaf.distinguished_name.push(rcgen::DnType::CommonName, "device-1");
    let csr = leaf.serialize_request(&key).expect("CSR").der().to_vec();
    let leaf = leaf.signed_by(&key, &issuer).expect("leaf");
    vec![ca_cert.der().to_vec(), leaf.der().to_vec(), csr]
}

#[test]
fn the_saved_corpora_replay_without_a_finding() {
    for (target, check) in [
        ("certificate", fuzzing::certificate as fn(&[u8])),
        ("pem", fuzzing::pem),
        ("bulk_stream", fuzzing::bulk_stream),
        ("time", fuzzing::time),
        ("crl", fuzzing::crl),
        ("csr", fuzzing::csr),
    ] {
        assert!(replay(target, check) > 0, "fuzz/seeds/{target} has seeds");
    }
}

#[test]
fn certificates_made_now_pass_every_check() {
    for der in made_now() {
        fuzzing::certificate(&der);
        fuzzing::csr(&der);
        let pem = anchorage_common::pem::to_pem(&der);
        fuzzing::pem(pem.as_bytes());
        fuzzing::csr(pem.as_bytes());
        // Each byte cut off, and each flipped in the first 64: no panic.
        for cut in (0..der.len()).step_by(7) {
            fuzzing::certificate(&der[..cut]);
        }
        for i in 0..der.len().min(64) {
            let mut flipped = der.clone();
            flipped[i] ^= 0xff;
            fuzzing::certificate(&flipped);
            fuzzing::csr(&flipped);
        }
    }
}
