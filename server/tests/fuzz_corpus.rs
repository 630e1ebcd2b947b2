//! The `X-Ssl-Cert-Chain` fuzz target's saved corpus, replayed as an ordinary test (issue 17),
//! plus a header made now from a fresh certificate (certificates are never committed).

use anchorage_common::fuzzing::replay;
use anchorage_server::fuzzing::chain_header;

#[test]
fn the_saved_chain_header_corpus_replays_without_a_finding() {
    assert!(replay("chain_header", chain_header) > 0, "fuzz/seeds/chain_header has seeds");
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::new()).expect("params");
    params.distinguished_name.push(rcgen::DnType::CommonName, "header-device");
    let pem = params.self_signed(&key).expect("certificate").pem();
    let header = format!("{pem}{pem}").replace(['\r', '\n'], " ");
    chain_header(header.as_bytes());
    for cut in (0..header.len()).step_by(11) {
        chain_header(&header.as_bytes()[..cut]);
    }
}
