//! What the "Add trusted certificate" dialog holds, as plain data: the inputs (files and
//! pasted text), the certificates found in them, each inspected with the shared rules of
//! `anchorage-common`, and the verdict — what would be uploaded, or why nothing can be yet.
//!
//! No browser types here, so it is unit-tested natively.

use std::collections::{HashMap, HashSet};

use anchorage_common::Inspection;
use anchorage_common::api::{self, MAX_BULK_CERTIFICATES, NewTrustedCertificate};
use anchorage_common::cert;
use anchorage_common::pem::{self, DecodeError};
use serde_json::Value;
use time::OffsetDateTime;

use crate::format;

/// One input: a file, or the pasted text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Unique within the dialog.
    pub id: u32,
    /// The file name, or "Pasted PEM".
    pub label: String,
    /// The DER certificates found in it, or why none could be read.
    pub content: Result<Vec<Vec<u8>>, String>,
}

/// Why a file or paste over [`pem::MAX_INPUT_BYTES`] is not read, as the dialog says it.
pub fn too_large() -> String {
    capitalise(&DecodeError::TooLarge.to_string())
}

/// Reads a file's bytes: PEM (one or a bundle), bare base64, or binary DER.
pub fn read_bytes(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if bytes.len() > pem::MAX_INPUT_BYTES {
        return Err(too_large());
    }
    // DER starts with a SEQUENCE tag; a certificate is longer than 127 bytes, so its length
    // uses the long form (a byte ≥ 0x80), which never occurs in PEM or base64 text.
    let looks_der = bytes.len() > 1 && bytes[0] == 0x30 && bytes[1] >= 0x80;
    match std::str::from_utf8(bytes) {
        Ok(text) if !looks_der => read_text(text),
        _ => Ok(vec![bytes.to_vec()]),
    }
}

/// Reads pasted or file text: PEM (one or a bundle) or bare base64 DER.
pub fn read_text(text: &str) -> Result<Vec<Vec<u8>>, String> {
    pem::decode_certificates(text).map_err(|e| capitalise(&e.to_string()))
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Why a readable certificate cannot be added although it passes every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Duplicate {
    /// The same certificate appears earlier in this selection (in the named input).
    InSelection(String),
    /// The tenant already trusts it, under the given name.
    Stored(String),
}

impl Duplicate {
    /// The reason, in words.
    pub fn describe(&self) -> String {
        match self {
            Duplicate::InSelection(source) => {
                format!("Duplicate: the same certificate is already selected ({source}).")
            }
            Duplicate::Stored(name) => format!("Already trusted as \"{name}\"."),
        }
    }
}

/// One card of the dialog: a certificate found in an input, or an input that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Unique and changes whenever the content does (a list key).
    pub key: String,
    /// Where it comes from: the file name, plus its position in a bundle.
    pub source: String,
    /// The inspection, or the reason the input cannot be read.
    pub outcome: Result<Inspection, String>,
    /// Set when the certificate is already selected or stored.
    pub duplicate: Option<Duplicate>,
}

impl Candidate {
    /// The inspection, when the certificate could be read.
    pub fn inspection(&self) -> Option<&Inspection> {
        self.outcome.as_ref().ok()
    }
}

/// Every candidate of `sources`, inspected at `now`; `stored` maps the fingerprints the tenant
/// already trusts to their names. Candidates whose key is in `removed` are left out.
pub fn candidates(
    sources: &[Source],
    stored: &HashMap<String, String>,
    removed: &HashSet<String>,
    now: OffsetDateTime,
) -> Vec<Candidate> {
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    for source in sources {
        let ders = match &source.content {
            Ok(ders) => ders,
            Err(reason) => {
                let key = format!("{}:err", source.id);
                if !removed.contains(&key) {
                    out.push(Candidate {
                        key,
                        source: source.label.clone(),
                        outcome: Err(reason.clone()),
                        duplicate: None,
                    });
                }
                continue;
            }
        };
        for (i, der) in ders.iter().enumerate() {
            let label = if ders.len() > 1 {
                format!("{} (certificate {} of {})", source.label, i + 1, ders.len())
            } else {
                source.label.clone()
            };
            // The reason in words (the server's 422 wraps the same words in the platform's text).
            let outcome = cert::inspect(der, now).map_err(|e| capitalise(&e.to_string()));
            let tag = match &outcome {
                Ok(inspection) => inspection.info.fingerprint.clone(),
                Err(_) => "err".to_string(),
            };
            let key = format!("{}:{}:{}", source.id, i, tag);
            if removed.contains(&key) {
                continue;
            }
            let duplicate = outcome.as_ref().ok().and_then(|inspection| {
                let fp = &inspection.info.fingerprint;
                if let Some(name) = stored.get(fp) {
                    Some(Duplicate::Stored(name.clone()))
                } else if let Some(first) = seen.get(fp) {
                    Some(Duplicate::InSelection(first.clone()))
                } else {
                    seen.insert(fp.clone(), label.clone());
                    None
                }
            });
            out.push(Candidate { key, source: label, outcome, duplicate });
        }
    }
    out
}

/// The name a candidate will be saved under: the one typed in `names` (by fingerprint), else
/// the platform's default.
pub fn name_of(inspection: &Inspection, names: &HashMap<String, String>) -> String {
    names.get(&inspection.info.fingerprint).cloned().unwrap_or_else(|| api::default_name(&inspection.info))
}

/// The checked name of a candidate, or why it is refused.
pub fn checked_name(inspection: &Inspection, names: &HashMap<String, String>) -> Result<String, String> {
    api::check_name(&Value::String(name_of(inspection, names))).map_err(|e| capitalise(&e))
}

/// What the dialog would upload, or why it cannot yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The certificates to upload, in order (empty when blocked).
    pub uploads: Vec<NewTrustedCertificate>,
    /// How many certificates the selection holds (readable or not).
    pub count: usize,
    /// How many of them would be added: readable, passing every rule, not already selected or
    /// stored (what the button counts).
    pub addable: usize,
    /// Why the button is disabled, in words.
    pub blocked: Option<String>,
}

/// Decides what to upload from `candidates`, with the names typed so far, the status and the
/// auto-registration chosen.
pub fn plan(candidates: &[Candidate], names: &HashMap<String, String>, enable: bool, auto_registration: bool) -> Plan {
    let count = candidates.len();
    let unreadable = candidates.iter().filter(|c| c.outcome.is_err()).count();
    let failing = candidates.iter().filter(|c| c.inspection().is_some_and(|i| !i.acceptable())).count();
    let in_selection = candidates.iter().filter(|c| matches!(c.duplicate, Some(Duplicate::InSelection(_)))).count();
    let stored = candidates.iter().filter(|c| matches!(c.duplicate, Some(Duplicate::Stored(_)))).count();
    let bad_names =
        candidates.iter().filter_map(Candidate::inspection).filter(|i| checked_name(i, names).is_err()).count();
    let addable =
        candidates.iter().filter(|c| c.duplicate.is_none() && c.inspection().is_some_and(|i| i.acceptable())).count();

    let mut reasons = Vec::new();
    if count == 0 {
        reasons.push("Nothing to add yet".to_string());
    }
    if unreadable > 0 {
        reasons.push(format!("{} cannot be read", format::count(unreadable, "input", "inputs")));
    }
    if failing > 0 {
        let verb = if failing == 1 { "fails" } else { "fail" };
        reasons.push(format!("{} {verb} a rule", format::count(failing, "certificate", "certificates")));
    }
    if in_selection > 0 {
        let verb = if in_selection == 1 { "is" } else { "are" };
        reasons.push(format!("{} {verb} selected twice", format::count(in_selection, "certificate", "certificates")));
    }
    if stored > 0 {
        let verb = if stored == 1 { "is" } else { "are" };
        reasons.push(format!("{} {verb} already trusted", format::count(stored, "certificate", "certificates")));
    }
    if bad_names > 0 {
        let verb = if bad_names == 1 { "needs" } else { "need" };
        reasons.push(format!("{} {verb} a valid name", format::count(bad_names, "certificate", "certificates")));
    }
    if count > MAX_BULK_CERTIFICATES {
        reasons.push(format!("At most {MAX_BULK_CERTIFICATES} certificates can be added at once"));
    }
    if !reasons.is_empty() {
        return Plan { uploads: Vec::new(), count, addable, blocked: Some(reasons.join("; ")) };
    }

    let status = if enable { "ENABLED" } else { "DISABLED" };
    let uploads = candidates
        .iter()
        .filter_map(Candidate::inspection)
        .map(|i| NewTrustedCertificate {
            name: checked_name(i, names).ok().map(Value::String),
            cert_in_pem_format: Some(Value::String(pem::to_pem(&i.info.der))),
            status: Some(Value::String(status.to_string())),
            auto_registration_enabled: Some(Value::Bool(auto_registration)),
        })
        .collect();
    Plan { uploads, count, addable, blocked: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

    fn certificate(cn: &str, ca: bool) -> Vec<u8> {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(rcgen::DnType::CommonName, cn);
        params.is_ca = if ca { IsCa::Ca(BasicConstraints::Unconstrained) } else { IsCa::ExplicitNoCa };
        let key = KeyPair::generate().expect("key");
        params.self_signed(&key).expect("certificate").der().to_vec()
    }

    fn source(id: u32, content: Result<Vec<Vec<u8>>, String>) -> Source {
        Source { id, label: format!("file{id}.pem"), content }
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    #[test]
    fn reads_pem_bundles_base64_and_binary_der() {
        let a = certificate("A", true);
        let b = certificate("B", true);
        let bundle = format!("{}{}", pem::to_pem(&a), pem::to_pem(&b));
        assert_eq!(read_bytes(bundle.as_bytes()).unwrap(), vec![a.clone(), b]);
        assert_eq!(read_bytes(&a).unwrap(), vec![a.clone()]);
        assert_eq!(read_bytes(pem::to_single_line_base64(&a).as_bytes()).unwrap(), vec![a]);
        assert_eq!(read_text("  ").unwrap_err(), "No certificate found in the input");
        assert!(read_bytes(&[0xff, 0xfe, 0x00]).is_ok(), "unknown binary is handed to the parser");
    }

    #[test]
    fn nothing_selected_explains_itself() {
        let plan = plan(&[], &HashMap::new(), false, false);
        assert_eq!(plan.blocked.as_deref(), Some("Nothing to add yet"));
        assert!(plan.uploads.is_empty());
    }

    #[test]
    fn a_valid_ca_is_planned_with_its_default_name_and_options() {
        let ca = certificate("Root CA", true);
        let cands = candidates(&[source(1, Ok(vec![ca]))], &HashMap::new(), &HashSet::new(), now());
        let plan = plan(&cands, &HashMap::new(), true, false);
        assert_eq!(plan.blocked, None);
        assert_eq!(plan.uploads.len(), 1);
        let up = &plan.uploads[0];
        assert_eq!(up.name, Some(Value::String("Root CA".into())));
        assert_eq!(up.status, Some(Value::String("ENABLED".into())));
        assert_eq!(up.auto_registration_enabled, Some(Value::Bool(false)));
        // What the browser sends is what the server accepts.
        assert!(up.check(now()).is_ok());
    }

    #[test]
    fn rule_failures_duplicates_and_bad_names_block_with_reasons() {
        let leaf = certificate("Leaf", false);
        let ca = certificate("CA", true);
        let other = certificate("Other", true);
        let sources =
            [source(1, Ok(vec![leaf, ca.clone()])), source(2, Ok(vec![ca.clone()])), source(3, Err("Broken".into()))];
        let stored = HashMap::from([(cert::inspect(&other, now()).unwrap().info.fingerprint, "Old".to_string())]);
        let cands = candidates(&sources, &stored, &HashSet::new(), now());
        assert_eq!(cands.len(), 4);
        assert_eq!(cands[2].duplicate, Some(Duplicate::InSelection("file1.pem (certificate 2 of 2)".into())));
        let fp = cands[1].inspection().unwrap().info.fingerprint.clone();
        let names = HashMap::from([(fp, "  ".to_string())]);
        let plan = plan(&cands, &names, false, false);
        assert_eq!(
            plan.blocked.as_deref(),
            Some(
                "1 input cannot be read; 1 certificate fails a rule; 1 certificate is selected twice; 2 certificates need a valid name"
            )
        );
        // The button counts only what would be added: the first CA (its name aside), not the
        // unreadable input, the leaf or the second copy.
        assert_eq!((plan.count, plan.addable), (4, 1));

        let with_stored = candidates(&[source(4, Ok(vec![other]))], &stored, &HashSet::new(), now());
        assert_eq!(with_stored[0].duplicate, Some(Duplicate::Stored("Old".into())));
    }

    #[test]
    fn removed_candidates_are_left_out() {
        let ca = certificate("CA", true);
        let cands = candidates(&[source(1, Ok(vec![ca.clone()]))], &HashMap::new(), &HashSet::new(), now());
        let removed = HashSet::from([cands[0].key.clone()]);
        assert!(candidates(&[source(1, Ok(vec![ca]))], &HashMap::new(), &removed, now()).is_empty());
    }

    #[test]
    fn garbage_is_reported_in_words() {
        let cands = candidates(
            &[source(1, Ok(vec![vec![0x30, 0x03, 0x02, 0x01, 0x01]]))],
            &HashMap::new(),
            &HashSet::new(),
            now(),
        );
        let reason = cands[0].outcome.clone().unwrap_err();
        assert_eq!(reason, "This is not a certificate (its DER could not be read)");
    }
}
