//! x509-limbo (C2SP/x509-limbo with the BetterTLS export, 9,780 cases) through anchorage's own
//! decision: the upload rules of the trusted certificates (`anchorage_common::cert::accept_one`,
//! at the case's validation time), then the device-trust path check
//! (`device_trust::presented` and `device_trust::anchor_for_usage`) with the case's peer
//! certificate as the TLS client certificate, its intermediates as the rest of the TLS chain,
//! and the candidates found by issuer name as the database finds them.
//!
//! The adaptation (why each case is in or out of scope) is in `server/tests/limbo/README.md`;
//! every remaining disagreement with limbo's expected result is listed, with its reason, in
//! `server/tests/limbo/exceptions.tsv`. A disagreement not listed there fails this test, and so
//! does a listed one that no longer disagrees (the list stays true). The figures are written to
//! `target/limbo-report.md` (docs/reliability.md quotes them).
//!
//! The corpus is not in the repository (it holds private keys, and it is 8 MB): it is looked up
//! at `$ANCHORAGE_LIMBO`, else at `shared/testdata/x509-limbo/limbo.json.gz` in a folder above
//! this repository. Without it the test says so and passes, unless `ANCHORAGE_LIMBO_REQUIRED=1`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anchorage_common::{cert, pem, timefmt};
use anchorage_server::db::trusted_certificates::AnchorRow;
use anchorage_server::device_trust;
use rustls::pki_types::{CertificateDer, ServerName};
use serde::Deserialize;
use time::OffsetDateTime;

#[derive(Deserialize)]
struct Corpus {
    testcases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    id: String,
    #[serde(default)]
    features: Vec<String>,
    validation_kind: String,
    trusted_certs: Vec<String>,
    untrusted_intermediates: Vec<String>,
    peer_certificate: String,
    validation_time: Option<String>,
    expected_result: String,
    expected_peer_name: Option<PeerName>,
    max_chain_depth: Option<u64>,
    #[serde(default)]
    crls: Vec<String>,
    #[serde(default)]
    signature_algorithms: Option<Vec<String>>,
    #[serde(default)]
    key_usage: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct PeerName {
    kind: String,
    value: String,
}

/// Why a case is not compared: anchorage has no input for what it tests.
fn out_of_scope(case: &Case) -> Option<&'static str> {
    if !case.crls.is_empty() || case.features.iter().any(|f| f == "has-crl") {
        return Some(
            "CRLs given with the case: anchorage's revocation sources are the tenant's list and the distribution \
             points it fetches, not CRLs handed to the verifier",
        );
    }
    if case.max_chain_depth.is_some() {
        return Some("a chain depth chosen by the case: anchorage's limit is fixed (10 certificates from the device)");
    }
    if case.signature_algorithms.as_ref().is_some_and(|a| !a.is_empty())
        || case.key_usage.as_ref().is_some_and(|k| !k.is_empty())
    {
        return Some("signature algorithms or key usages chosen by the case: anchorage's are fixed");
    }
    None
}

/// The case's certificates as anchorage would hold them: the trusted certificates that pass
/// the upload rules at `now`, with their subject names (the database looks candidates up by
/// issuer name).
fn stored_anchors(case: &Case, now: OffsetDateTime) -> Vec<(AnchorRow, Vec<u8>)> {
    case.trusted_certs
        .iter()
        .filter_map(|pem| cert::accept_one(pem, now).ok())
        .map(|info| {
            let row = AnchorRow {
                tenant_id: "t1".into(),
                fingerprint: info.fingerprint.clone(),
                name: info.subject.clone(),
                status: "ENABLED".into(),
                auto_registration_enabled: false,
                not_after: timefmt::platform(info.not_after),
                der: info.der.clone(),
            };
            (row, info.subject_der)
        })
        .collect()
}

/// anchorage's verdict: `Ok` if the chain anchors to a stored certificate, else the reason code.
fn decide(case: &Case, now: OffsetDateTime) -> Result<(), String> {
    let anchors = stored_anchors(case, now);
    let peer = pem::decode_certificates(&case.peer_certificate).map_err(|e| format!("UNREADABLE_CERTIFICATE ({e})"))?;
    let Some(peer) = peer.into_iter().next() else { return Err("NO_CLIENT_CERTIFICATE".into()) };
    let mut chain = vec![CertificateDer::from(peer.clone())];
    for pem_text in &case.untrusted_intermediates {
        for der in pem::decode_certificates(pem_text).map_err(|e| format!("UNREADABLE_CHAIN ({e})"))? {
            chain.push(CertificateDer::from(der));
        }
    }
    let leaf = cert::inspect(&peer, now).ok().map(|i| i.info);
    let presented = device_trust::presented(&chain, leaf.as_ref(), None).map_err(|r| r.reason.to_string())?;
    let candidates: Vec<&AnchorRow> =
        anchors.iter().filter(|(_, subject)| presented.issuers.contains(subject)).map(|(row, _)| row).collect();
    let revoked = vec![None; candidates.len()];
    let usage = if case.validation_kind == "CLIENT" {
        webpki::KeyUsage::client_auth()
    } else {
        webpki::KeyUsage::server_auth()
    };
    device_trust::anchor_for_usage(&presented, &candidates, &revoked, now, usage)
        .map(|_| ())
        .map_err(|(r, _)| r.reason.to_string())
}

/// Whether the peer certificate is valid for the case's expected peer name (a host name or an
/// address): anchorage identifies a device by its certificate's CN and checks no name, so a case
/// that fails only on the name is out of its scope.
fn valid_for_peer_name(case: &Case) -> bool {
    let Some(name) = &case.expected_peer_name else { return true };
    let Some(der) = pem::decode_certificates(&case.peer_certificate).ok().and_then(|d| d.into_iter().next()) else {
        return true;
    };
    let der = CertificateDer::from(der);
    let Ok(cert) = webpki::EndEntityCert::try_from(&der) else { return true };
    let server_name = match name.kind.as_str() {
        "DNS" | "IP" => ServerName::try_from(name.value.as_str()).ok(),
        _ => None,
    };
    match server_name {
        Some(n) => cert.verify_is_valid_for_subject_name(&n).is_ok(),
        None => true,
    }
}

/// The case's validation time (`null`: now).
fn validation_time(case: &Case) -> OffsetDateTime {
    case.validation_time
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(OffsetDateTime::now_utc)
}

fn corpus_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ANCHORAGE_LIMBO") {
        return Some(PathBuf::from(p));
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors().map(|a| a.join("shared/testdata/x509-limbo/limbo.json.gz")).find(|p| p.is_file())
}

/// The listed disagreements: id → (what anchorage answers: `accepts` or `refuses`, why).
fn exceptions() -> BTreeMap<String, (String, String)> {
    let text = include_str!("limbo/exceptions.tsv");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut parts = l.splitn(3, '\t');
            let id = parts.next().unwrap_or_default().to_string();
            let verdict = parts.next().unwrap_or_default().to_string();
            let why = parts.next().unwrap_or_default().to_string();
            assert!(verdict == "accepts" || verdict == "refuses", "exceptions.tsv: bad verdict in {l:?}");
            assert!(!why.trim().is_empty(), "exceptions.tsv: no reason for {id}");
            (id, (verdict, why))
        })
        .collect()
}

#[test]
fn x509_limbo_through_anchorages_decision() {
    let Some(path) = corpus_path().filter(|p| p.is_file()) else {
        assert!(
            std::env::var("ANCHORAGE_LIMBO_REQUIRED").as_deref() != Ok("1"),
            "the x509-limbo corpus is not found (ANCHORAGE_LIMBO, or shared/testdata above the repository)"
        );
        eprintln!("x509-limbo: corpus not found; skipped (set ANCHORAGE_LIMBO to its limbo.json.gz)");
        return;
    };
    let gz = std::process::Command::new("gzip").arg("-dc").arg(&path).output().expect("gzip -dc runs");
    assert!(gz.status.success(), "gzip -dc {}", path.display());
    let corpus: Corpus = serde_json::from_slice(&gz.stdout).expect("the corpus is limbo's JSON");

    let listed = exceptions();
    let mut out_counts: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut compared, mut passed, mut wrong_accepts, mut wrong_rejects) = (0usize, 0usize, 0usize, 0usize);
    let (mut explained_accepts, mut explained_rejects) = (0usize, 0usize);
    let mut unexplained = Vec::new();
    let mut seen = Vec::new();
    let mut no_device_id = 0usize;
    for case in &corpus.testcases {
        if let Some(why) = out_of_scope(case) {
            *out_counts.entry(why).or_default() += 1;
            continue;
        }
        let now = validation_time(case);
        let verdict = decide(case, now);
        let expected_ok = case.expected_result == "SUCCESS";
        if verdict.is_ok() && !expected_ok && !valid_for_peer_name(case) {
            *out_counts.entry(PEER_NAME).or_default() += 1;
            continue;
        }
        compared += 1;
        if verdict.is_ok() == expected_ok {
            passed += 1;
            if expected_ok
                && pem::decode_certificates(&case.peer_certificate)
                    .ok()
                    .and_then(|d| d.into_iter().next())
                    .and_then(|d| cert::inspect(&d, now).ok())
                    .is_some_and(|i| i.info.common_name.is_none())
            {
                no_device_id += 1;
            }
            continue;
        }
        let answer = if verdict.is_ok() { "accepts" } else { "refuses" };
        if verdict.is_ok() {
            wrong_accepts += 1;
        } else {
            wrong_rejects += 1;
        }
        match listed.get(&case.id) {
            Some((listed_answer, _)) if listed_answer == answer => {
                seen.push(case.id.clone());
                if verdict.is_ok() {
                    explained_accepts += 1;
                } else {
                    explained_rejects += 1;
                }
            }
            _ => unexplained.push(format!(
                "{}\t{answer}\t(limbo expects {}; anchorage: {})",
                case.id,
                case.expected_result,
                verdict.err().unwrap_or_else(|| "anchored".into())
            )),
        }
    }
    let stale: Vec<&String> = listed.keys().filter(|id| !seen.contains(id)).collect();

    let mut report = String::new();
    let total = corpus.testcases.len();
    let out_total: usize = out_counts.values().sum();
    report.push_str(&format!("x509-limbo through anchorage's decision: {total} cases\n\n"));
    report.push_str("| | cases |\n|---|---:|\n");
    for (why, n) in &out_counts {
        report.push_str(&format!("| out of scope: {why} | {n} |\n"));
    }
    report.push_str(&format!("| **compared** | **{compared}** (of {total}; {out_total} out of scope) |\n"));
    report.push_str(&format!(
        "| passed | {passed} ({:.2} %) |\n",
        if compared == 0 { 0.0 } else { 100.0 * passed as f64 / compared as f64 }
    ));
    report.push_str(&format!(
        "| wrongly accepted | {wrong_accepts} (explained in exceptions.tsv: {explained_accepts}) |\n"
    ));
    report.push_str(&format!(
        "| wrongly refused | {wrong_rejects} (explained in exceptions.tsv: {explained_rejects}) |\n"
    ));
    report.push_str(&format!(
        "| passed SUCCESS cases whose certificate has no CN (a device would also be refused: its id is the CN) | {no_device_id} |\n"
    ));
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let _ = std::fs::create_dir_all(&target);
    let _ = std::fs::write(target.join("limbo-report.md"), &report);
    eprintln!("{report}");

    assert!(
        unexplained.is_empty(),
        "{} disagreements with x509-limbo not in server/tests/limbo/exceptions.tsv:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    assert!(stale.is_empty(), "listed in exceptions.tsv but no longer disagreeing: {stale:?}");
}

/// The out-of-scope reason of a case that anchorage accepts and limbo refuses for its peer name.
const PEER_NAME: &str = "the peer's host name or address (a server check): anchorage identifies a device by its CN \
                         and checks no name, and the chain is otherwise accepted";
