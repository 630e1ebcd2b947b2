//! The chain doctor's path building, shared by the console and the server.
//!
//! A device's chain arrives as a heap of certificates: pasted PEM, files in PEM or DER, in any
//! order, possibly with certificates that do not belong to it. [`build_path`] puts them in
//! order the way the server's verification (rustls-webpki, `server/src/device_trust.rs`)
//! walks them: the device certificate first, then each certificate's issuer, found by its DER
//! name (and, when both sides carry one, by authority key id = subject key id), until a
//! trusted certificate of the tenant ([`AnchorInfo`]) issues the last one. Every certificate
//! of the path gets its checks at an injected `now` (the server's clock, in the console), and
//! the [`Diagnosis`] says which trusted certificate anchors the path and whether that anchor
//! lets devices in, or in words why none anchors it.
//!
//! Signatures are not verified here (the browser has no signature code; see
//! [`Verdict::ByServer`]): two certificates with the same name but different keys look alike
//! unless they carry key identifiers. The server's verdict
//! (`POST /tenant/trusted-certificates/verify-cert-chain`, [`VerifyChainAnswer`]) is the
//! authority; the doctor's job is to say *where* a chain breaks.
//!
//! Nothing here panics, whatever the input, and the work is bounded: at most
//! [`MAX_CERTIFICATES`] certificates are examined, each compared with the others and with each
//! trusted certificate once per path step.

use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;

use crate::api::{CertificateStatus, TrustedCertificate};
use crate::cert::{self, CertificateInfo};
use crate::pem;
use crate::refusal::Reason;
use crate::timefmt;

/// Most certificates examined at once (a chain, plus a few strays); any further ones are
/// listed as not examined.
pub const MAX_CERTIFICATES: usize = 32;

/// Most certificates `verify-cert-chain` accepts in one chain (the platform's cloud limit).
pub const MAX_VERIFY_CHAIN: usize = 10;

/// Reads one input (a file's bytes or pasted text): PEM text holding one or several
/// certificates, bare base64 DER, or a single binary DER certificate. The error is a sentence
/// for the person who supplied the input.
pub fn decode_any(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if bytes.len() > pem::MAX_INPUT_BYTES {
        return Err(sentence(&pem::DecodeError::TooLarge.to_string()));
    }
    // DER starts with a SEQUENCE tag; a certificate is longer than 127 bytes, so its length
    // uses the long form (a byte ≥ 0x80), which never occurs in PEM or base64 text.
    let looks_der = matches!(bytes, [0x30, len, ..] if *len >= 0x80);
    match std::str::from_utf8(bytes) {
        Ok(text) if !looks_der => pem::decode_certificates(text).map_err(|e| sentence(&e.to_string())),
        _ => Ok(vec![bytes.to_vec()]),
    }
}

/// "the input is empty" → "The input is empty."
fn sentence(s: &str) -> String {
    let mut chars = s.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// A trusted certificate of the tenant, as path building needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorInfo {
    /// Lowercase hex SHA-1 of the DER.
    pub fingerprint: String,
    pub name: String,
    pub status: CertificateStatus,
    /// Its subject, as the platform writes it.
    pub subject: String,
    /// The DER of its subject name, compared with the issuer names of the chain.
    pub subject_der: Vec<u8>,
    /// Its subject key identifier, lowercase hex.
    pub subject_key_id: Option<String>,
    pub not_after: OffsetDateTime,
    pub der: Vec<u8>,
}

impl AnchorInfo {
    /// Reads a trusted certificate's DER; `None` when it cannot be parsed (then it anchors
    /// nothing, on the server either).
    pub fn new(name: &str, status: CertificateStatus, der: &[u8]) -> Option<AnchorInfo> {
        // The validity rules are not wanted here: any `now` does.
        let info = cert::inspect(der, OffsetDateTime::UNIX_EPOCH).ok()?.info;
        Some(AnchorInfo {
            fingerprint: info.fingerprint,
            name: name.to_string(),
            status,
            subject: info.subject,
            subject_der: info.subject_der,
            subject_key_id: info.subject_key_id,
            not_after: info.not_after,
            der: info.der,
        })
    }

    /// A trusted certificate as the API lists it.
    pub fn from_trusted(cert: &TrustedCertificate) -> Option<AnchorInfo> {
        let der = pem::decode_certificates(&cert.cert_in_pem_format).ok()?.into_iter().next()?;
        AnchorInfo::new(&cert.name, cert.status, &der)
    }
}

/// One check of one certificate of the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    /// `now` lies within `notBefore..=notAfter`.
    Validity,
    /// `CA:true` for a certificate that issues another; not a CA for the device certificate.
    BasicConstraints,
    /// A CA's `pathLenConstraint` allows the intermediate CAs below it.
    PathLength,
    /// `keyCertSign` for a CA, `digitalSignature` for the device, when `KeyUsage` is present.
    KeyUsage,
    /// `clientAuth`, when `ExtendedKeyUsage` is present.
    ExtendedKeyUsage,
    /// Its issuer's signature (checked by the server only).
    Signature,
}

impl Check {
    /// A short label, as shown beside the outcome.
    pub fn label(self) -> &'static str {
        match self {
            Check::Validity => "Validity",
            Check::BasicConstraints => "BasicConstraints",
            Check::PathLength => "Path length",
            Check::KeyUsage => "Key usage",
            Check::ExtendedKeyUsage => "Extended key usage",
            Check::Signature => "Signature",
        }
    }
}

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Pass,
    /// The server refuses the chain for it.
    Fail,
    /// RFC 5280 says no, but the server's verification does not check it: devices pass here,
    /// other verifiers (MQTT brokers, OpenSSL) may refuse them.
    Warn,
    /// Cannot be checked in the browser: the server's verdict covers it.
    ByServer,
}

impl Verdict {
    /// The spelling of `data-verdict` attributes and tests.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Warn => "warn",
            Verdict::ByServer => "server",
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainCheck {
    pub check: Check,
    pub verdict: Verdict,
    /// What was found, in words.
    pub detail: String,
    /// For a failure: the reason the server gives when it refuses the chain for it.
    pub reason: Option<Reason>,
}

impl ChainCheck {
    fn new(check: Check, verdict: Verdict, detail: impl Into<String>) -> Self {
        ChainCheck { check, verdict, detail: detail.into(), reason: None }
    }
    fn fail(check: Check, reason: Reason, detail: impl Into<String>) -> Self {
        ChainCheck { check, verdict: Verdict::Fail, detail: detail.into(), reason: Some(reason) }
    }
}

/// What a certificate is on the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathRole {
    /// The first: the device's own certificate.
    Device,
    /// A CA between the device and the anchor.
    Intermediate,
    /// A self-signed CA the path ends with.
    Root,
}

impl PathRole {
    /// In words, as a heading.
    pub fn label(self) -> &'static str {
        match self {
            PathRole::Device => "Device certificate",
            PathRole::Intermediate => "Intermediate CA",
            PathRole::Root => "Root CA",
        }
    }
}

/// A certificate of the path, with its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathCertificate {
    pub info: CertificateInfo,
    pub role: PathRole,
    pub checks: Vec<ChainCheck>,
}

impl PathCertificate {
    /// Whether a check refuses the chain.
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.verdict == Verdict::Fail)
    }
}

/// A given certificate that is not on the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraCertificate {
    pub info: CertificateInfo,
    /// Why it is not on the path, in words.
    pub note: String,
}

/// A given input that is not a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// 1-based position among the given certificates.
    pub position: usize,
    pub reason: String,
}

/// Why the anchor found does not let devices in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorProblem {
    Disabled,
    Expired { on: OffsetDateTime },
}

/// The trusted certificate that issues the last certificate of the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchored {
    pub fingerprint: String,
    pub name: String,
    pub status: CertificateStatus,
    pub subject: String,
    pub not_after: OffsetDateTime,
    /// Empty when the anchor lets devices in.
    pub problems: Vec<AnchorProblem>,
    /// Other trusted certificates that would anchor the path too (same name and key).
    pub alternatives: usize,
}

impl Anchored {
    /// The verdict in words: which trusted certificate, and what is wrong with it.
    pub fn describe(&self) -> String {
        let mut text = format!("Anchored by the trusted certificate '{}' ({}).", self.name, self.subject);
        for p in &self.problems {
            text.push(' ');
            text.push_str(&match p {
                AnchorProblem::Disabled => format!(
                    "It is DISABLED: the server refuses every chain that ends there (CA_DISABLED). Enable '{}' if \
                     the devices it issued should connect.",
                    self.name
                ),
                AnchorProblem::Expired { on } => format!(
                    "It expired on {}: the server refuses every chain that ends there (CA_EXPIRED). Upload the CA's \
                     renewed certificate.",
                    timefmt::platform(*on)
                ),
            });
        }
        text
    }
}

/// Why no trusted certificate anchors the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unanchored {
    /// No certificate could be read.
    Empty,
    /// The path ends with a self-signed root that is not a trusted certificate.
    RootNotTrusted { subject: String },
    /// The issuer of the path's last certificate is neither given nor trusted.
    MissingIssuer { certificate: String, issuer: String },
    /// Trusted certificates have the issuer's name, but another key (their subject key id is
    /// not the authority key id of the path's last certificate).
    KeyMismatch { certificate: String, issuer: String, names: Vec<String> },
}

impl Unanchored {
    /// The verdict in words, with what to do.
    pub fn describe(&self) -> String {
        match self {
            Unanchored::Empty => "No certificate to examine.".to_string(),
            Unanchored::RootNotTrusted { subject } => format!(
                "No trusted certificate with subject {subject}: the chain ends with this self-signed root, which is \
                 not uploaded. Upload it as a trusted certificate (and enable it)."
            ),
            Unanchored::MissingIssuer { certificate, issuer } => format!(
                "The issuer of {certificate} is missing: no given certificate and no trusted certificate has the \
                 subject {issuer}. Add that intermediate CA to the chain, or upload it as a trusted certificate."
            ),
            Unanchored::KeyMismatch { certificate, issuer, names } => format!(
                "No trusted certificate issued {certificate}: {} the subject {issuer}, but another key (its subject \
                 key identifier is not the authority key identifier of {certificate}). Upload the CA certificate \
                 that actually issued it.",
                match names.as_slice() {
                    [one] => format!("the trusted certificate '{one}' has"),
                    many => format!("the trusted certificates {} have", quoted_list(many)),
                }
            ),
        }
    }
}

fn quoted_list(names: &[String]) -> String {
    names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
}

/// Which trusted certificate anchors the path, or why none does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchoring {
    Anchored(Anchored),
    Unanchored(Unanchored),
}

impl Anchoring {
    /// The verdict in words.
    pub fn describe(&self) -> String {
        match self {
            Anchoring::Anchored(a) => a.describe(),
            Anchoring::Unanchored(u) => u.describe(),
        }
    }
}

/// Everything [`build_path`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// The device certificate first, then each issuer in turn.
    pub path: Vec<PathCertificate>,
    /// The given certificates that are not on the path.
    pub extra: Vec<ExtraCertificate>,
    /// Given inputs that are not certificates, and those beyond [`MAX_CERTIFICATES`].
    pub unreadable: Vec<Unreadable>,
    /// Certificates given more than once (counted once on the path).
    pub duplicates: usize,
    pub anchoring: Anchoring,
    /// The time the checks were made at.
    pub now: OffsetDateTime,
}

impl Diagnosis {
    /// The device certificate, if any certificate could be read.
    pub fn device(&self) -> Option<&PathCertificate> {
        self.path.first()
    }

    /// The path as PEM, device certificate first: what `verify-cert-chain` is sent.
    pub fn path_pem(&self) -> String {
        self.path.iter().map(|c| pem::to_pem(&c.info.der)).collect()
    }

    /// What refuses the chain, in words, one sentence each: every failed check (naming its
    /// certificate), a path too long for the server, then the anchor's problems or why there is
    /// none. Empty when the browser finds nothing wrong.
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .path
            .iter()
            .flat_map(|c| {
                c.checks.iter().filter(|k| k.verdict == Verdict::Fail).map(move |k| {
                    format!("{} ({}): {}: {}.", c.role.label(), c.info.subject, k.check.label(), k.detail)
                })
            })
            .collect();
        if self.path.len() > MAX_VERIFY_CHAIN {
            out.push(format!(
                "The path has {} certificates; the server accepts chains of at most {MAX_VERIFY_CHAIN}.",
                self.path.len()
            ));
        }
        match &self.anchoring {
            Anchoring::Anchored(a) if a.problems.is_empty() => {}
            Anchoring::Unanchored(Unanchored::Empty) if !self.path.is_empty() => {}
            other => out.push(other.describe()),
        }
        out
    }

    /// The refusal the server should answer, as far as the browser can tell (signatures,
    /// revocation and registration are the server's to judge): none of the path's checks,
    /// then the anchor, in the order the server's verification meets them.
    pub fn expected_refusal(&self) -> Option<Reason> {
        if self.path.is_empty() {
            return Some(if self.unreadable.is_empty() {
                Reason::NoClientCertificate
            } else {
                Reason::UnreadableCertificate
            });
        }
        if self.path.len() > MAX_VERIFY_CHAIN {
            return Some(Reason::UnreadableChain);
        }
        let anchored = match &self.anchoring {
            Anchoring::Unanchored(_) => return Some(Reason::UnknownIssuer),
            Anchoring::Anchored(a) => a,
        };
        if let Some(reason) = self.path.iter().flat_map(|c| &c.checks).find_map(|c| c.reason) {
            return Some(reason);
        }
        anchored.problems.first().map(|p| match p {
            AnchorProblem::Disabled => Reason::CaDisabled,
            AnchorProblem::Expired { .. } => Reason::CaExpired,
        })
    }
}

/// What path building reads of a certificate besides [`CertificateInfo`].
struct Parsed {
    info: CertificateInfo,
    authority_key_id: Option<String>,
    basic: Basic,
    key_usage: Option<Result<KeyUsageBits, String>>,
    ext_key_usage: Option<Result<Eku, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Basic {
    Absent,
    Ca { path_len: Option<u32> },
    NotCa,
    Invalid(String),
}

#[derive(Debug, Clone, Copy)]
struct KeyUsageBits {
    digital_signature: bool,
    key_cert_sign: bool,
    flags: u16,
}

#[derive(Debug, Clone)]
struct Eku {
    client_auth: bool,
    any: bool,
    /// The purposes listed, by name.
    listed: Vec<String>,
}

const KU_NAMES: [&str; 9] = [
    "digitalSignature",
    "nonRepudiation",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
    "encipherOnly",
    "decipherOnly",
];

impl KeyUsageBits {
    fn listed(&self) -> String {
        let set: Vec<&str> =
            KU_NAMES.iter().enumerate().filter(|(i, _)| (self.flags >> i) & 1 == 1).map(|(_, n)| *n).collect();
        if set.is_empty() { "no usage at all".to_string() } else { set.join(", ") }
    }
}

fn parse(der: &[u8], now: OffsetDateTime) -> Result<Parsed, String> {
    let info = cert::inspect(der, now).map_err(|e| sentence(&e.platform_message()))?.info;
    let (_, c) = X509Certificate::from_der(der).map_err(|_| sentence(cert::NOT_DER))?;
    let authority_key_id = c.iter_extensions().find_map(|e| match e.parsed_extension() {
        ParsedExtension::AuthorityKeyIdentifier(a) => a.key_identifier.as_ref().map(|k| hex::encode(k.0)),
        _ => None,
    });
    let basic = match c.basic_constraints() {
        Ok(Some(bc)) if bc.value.ca => Basic::Ca { path_len: bc.value.path_len_constraint },
        Ok(Some(_)) => Basic::NotCa,
        Ok(None) => Basic::Absent,
        Err(e) => Basic::Invalid(e.to_string()),
    };
    let key_usage = match c.key_usage() {
        Ok(Some(ku)) => Some(Ok(KeyUsageBits {
            digital_signature: ku.value.digital_signature(),
            key_cert_sign: ku.value.key_cert_sign(),
            flags: ku.value.flags,
        })),
        Ok(None) => None,
        Err(e) => Some(Err(e.to_string())),
    };
    let ext_key_usage = match c.extended_key_usage() {
        Ok(Some(eku)) => {
            let v = eku.value;
            let mut listed = Vec::new();
            for (set, name) in [
                (v.any, "anyExtendedKeyUsage"),
                (v.server_auth, "serverAuth"),
                (v.client_auth, "clientAuth"),
                (v.code_signing, "codeSigning"),
                (v.email_protection, "emailProtection"),
                (v.time_stamping, "timeStamping"),
                (v.ocsp_signing, "OCSPSigning"),
            ] {
                if set {
                    listed.push(name.to_string());
                }
            }
            listed.extend(v.other.iter().map(crate::dn::oid_text));
            Some(Ok(Eku { client_auth: v.client_auth, any: v.any, listed }))
        }
        Ok(None) => None,
        Err(e) => Some(Err(e.to_string())),
    };
    Ok(Parsed { info, authority_key_id, basic, key_usage, ext_key_usage })
}

/// Key identifiers, when both sides have one, must agree.
fn same_key(authority_key_id: Option<&str>, subject_key_id: Option<&str>) -> bool {
    match (authority_key_id, subject_key_id) {
        (Some(a), Some(s)) => a == s,
        _ => true,
    }
}

/// Whether `parent` issued `child`, as far as names and key identifiers tell.
fn issued_by(child: &Parsed, parent: &Parsed) -> bool {
    child.info.issuer_der == parent.info.subject_der
        && same_key(child.authority_key_id.as_deref(), parent.info.subject_key_id.as_deref())
}

/// Whether the trusted certificate `anchor` issued `child`. A self-signed `child` is anchored
/// only by itself: the same certificate, or one with its name and the same key identifier (a
/// re-issued root); another root with the same name is another CA.
fn anchors(anchor: &AnchorInfo, child: &Parsed) -> bool {
    if child.info.issuer_der != anchor.subject_der {
        return false;
    }
    if child.info.self_issued {
        return anchor.der == child.info.der
            || matches!((&anchor.subject_key_id, &child.info.subject_key_id), (Some(a), Some(c)) if a == c);
    }
    same_key(child.authority_key_id.as_deref(), anchor.subject_key_id.as_deref())
}

/// Orders `ders` into a path from the device certificate towards the tenant's trusted
/// certificates `anchors`, checks every certificate of it at `now`, and says which trusted
/// certificate anchors it, or why none does.
///
/// The device certificate is the one that issues none of the others (a non-CA preferred, then
/// the earliest given). Each step looks first for a trusted certificate that issued the
/// current certificate (as the server's verification does: it prefers its trust anchors), and
/// otherwise for a given certificate (a CA preferred).
pub fn build_path(ders: &[Vec<u8>], anchors_given: &[AnchorInfo], now: OffsetDateTime) -> Diagnosis {
    let Examined { certs, unreadable, duplicates, .. } = examine(ders, now);

    let mut used = vec![false; certs.len()];
    let mut order: Vec<usize> = Vec::new();
    let anchoring = match choose_device(&certs) {
        None => Anchoring::Unanchored(Unanchored::Empty),
        Some(first) => {
            order.push(first);
            if let Some(u) = used.get_mut(first) {
                *u = true;
            }
            walk(&certs, anchors_given, &mut used, &mut order, now)
        }
    };

    let last = order.len().saturating_sub(1);
    let path: Vec<PathCertificate> = order
        .iter()
        .enumerate()
        .filter_map(|(position, &index)| {
            let c = certs.get(index)?;
            let role = match position {
                0 => PathRole::Device,
                p if p == last && c.info.self_issued => PathRole::Root,
                _ => PathRole::Intermediate,
            };
            let child = position.checked_sub(1).and_then(|p| order.get(p)).and_then(|&i| certs.get(i));
            let issuer = match (position == last, &anchoring) {
                (true, Anchoring::Anchored(a)) if !c.info.self_issued => {
                    Some(format!("the trusted certificate '{}'", a.name))
                }
                _ => None,
            };
            Some(PathCertificate { checks: checks(c, position, child, issuer, now), info: c.info.clone(), role })
        })
        .collect();

    let anchor_der = match &anchoring {
        Anchoring::Anchored(a) => anchors_given.iter().find(|x| x.fingerprint == a.fingerprint).map(|x| &x.der),
        Anchoring::Unanchored(_) => None,
    };
    let extra = certs
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(c, _)| {
            let note = if anchor_der == Some(&c.info.der) {
                "The trusted certificate that anchors the path itself: the server has it, the chain need not carry it."
                    .to_string()
            } else if let Some(t) = anchors_given.iter().find(|a| a.der == c.info.der) {
                format!("A trusted certificate ('{}'), but not on the device certificate's path.", t.name)
            } else {
                "Not on the device certificate's path: it issued none of the path's certificates.".to_string()
            };
            ExtraCertificate { info: c.info.clone(), note }
        })
        .collect();

    Diagnosis { path, extra, unreadable, duplicates, anchoring, now }
}

/// Puts the device certificate first: the one [`build_path`] starts its path with (one that
/// issues none of the others, a non-CA preferred, then the earliest given); the others stay in
/// the order given. A device sends its chain leaf first; a chain pasted or uploaded may come in
/// any order. `ders` is left as it is when none of them can be read.
pub fn device_first(mut ders: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    // Which certificate issued which does not depend on the time: any `now` does.
    let examined = examine(&ders, OffsetDateTime::UNIX_EPOCH);
    let device = choose_device(&examined.certs).and_then(|i| examined.positions.get(i).copied());
    if let Some(i) = device.filter(|&i| i > 0 && i < ders.len()) {
        let device = ders.remove(i);
        ders.insert(0, device);
    }
    ders
}

/// The given certificates path building examines.
struct Examined {
    /// The readable ones, each once, in the order given.
    certs: Vec<Parsed>,
    /// The index in the input of each of `certs`.
    positions: Vec<usize>,
    /// Inputs that are not certificates, and those beyond [`MAX_CERTIFICATES`].
    unreadable: Vec<Unreadable>,
    /// Certificates given more than once.
    duplicates: usize,
}

/// Reads at most [`MAX_CERTIFICATES`] of `ders`, each distinct certificate once.
fn examine(ders: &[Vec<u8>], now: OffsetDateTime) -> Examined {
    let mut out = Examined { certs: Vec::new(), positions: Vec::new(), unreadable: Vec::new(), duplicates: 0 };
    let mut examined = 0;
    for (i, der) in ders.iter().enumerate() {
        let position = i + 1;
        if examined == MAX_CERTIFICATES {
            out.unreadable.push(Unreadable {
                position,
                reason: format!(
                    "This and the following {} were not examined: at most {MAX_CERTIFICATES} certificates are.",
                    ders.len() - position
                ),
            });
            break;
        }
        if out.certs.iter().any(|c| c.info.der == *der) {
            out.duplicates += 1;
            continue;
        }
        examined += 1;
        match parse(der, now) {
            Ok(p) => {
                out.certs.push(p);
                out.positions.push(i);
            }
            Err(reason) => out.unreadable.push(Unreadable { position, reason }),
        }
    }
    out
}

/// The device certificate: one that issues none of the others, a non-CA first.
fn choose_device(certs: &[Parsed]) -> Option<usize> {
    let issues_another =
        |i: usize, c: &Parsed| certs.iter().enumerate().any(|(j, other)| j != i && issued_by(other, c));
    let leaves: Vec<usize> = certs.iter().enumerate().filter(|(i, c)| !issues_another(*i, c)).map(|(i, _)| i).collect();
    let non_ca = |i: &&usize| certs.get(**i).is_some_and(|c| !c.info.is_ca);
    leaves
        .iter()
        .find(non_ca)
        .or(leaves.first())
        .copied()
        .or_else(|| certs.iter().position(|c| !c.info.is_ca))
        .or(if certs.is_empty() { None } else { Some(0) })
}

/// Follows issuers from the last certificate of `order` until a trusted certificate issues it
/// or no issuer is found. Every step adds an unused certificate or ends, so it ends.
fn walk(
    certs: &[Parsed],
    anchors_given: &[AnchorInfo],
    used: &mut [bool],
    order: &mut Vec<usize>,
    now: OffsetDateTime,
) -> Anchoring {
    loop {
        let Some(current) = order.last().and_then(|&i| certs.get(i)) else {
            return Anchoring::Unanchored(Unanchored::Empty);
        };
        let matching: Vec<&AnchorInfo> = anchors_given.iter().filter(|a| anchors(a, current)).collect();
        if let Some(best) = best_anchor(&matching, now) {
            let mut problems = Vec::new();
            if best.status != CertificateStatus::Enabled {
                problems.push(AnchorProblem::Disabled);
            }
            if best.not_after < now {
                problems.push(AnchorProblem::Expired { on: best.not_after });
            }
            return Anchoring::Anchored(Anchored {
                fingerprint: best.fingerprint.clone(),
                name: best.name.clone(),
                status: best.status,
                subject: best.subject.clone(),
                not_after: best.not_after,
                problems,
                alternatives: matching.len().saturating_sub(1),
            });
        }
        if current.info.self_issued {
            return Anchoring::Unanchored(match same_name(anchors_given, current) {
                names if !names.is_empty() => Unanchored::KeyMismatch {
                    certificate: current.info.subject.clone(),
                    issuer: current.info.issuer.clone(),
                    names,
                },
                _ => Unanchored::RootNotTrusted { subject: current.info.subject.clone() },
            });
        }
        let unused = |(j, c): &(usize, &Parsed)| used.get(*j) == Some(&false) && issued_by(current, c);
        let next = certs
            .iter()
            .enumerate()
            .filter(unused)
            .find(|(_, c)| c.info.is_ca)
            .or_else(|| certs.iter().enumerate().find(unused))
            .map(|(j, _)| j);
        match next {
            Some(j) => {
                if let Some(u) = used.get_mut(j) {
                    *u = true;
                }
                order.push(j);
            }
            None => {
                let names = same_name(anchors_given, current);
                return Anchoring::Unanchored(if names.is_empty() {
                    Unanchored::MissingIssuer {
                        certificate: current.info.subject.clone(),
                        issuer: current.info.issuer.clone(),
                    }
                } else {
                    Unanchored::KeyMismatch {
                        certificate: current.info.subject.clone(),
                        issuer: current.info.issuer.clone(),
                        names,
                    }
                });
            }
        }
    }
}

/// The names of the trusted certificates whose subject is `cert`'s issuer name.
fn same_name(anchors_given: &[AnchorInfo], cert: &Parsed) -> Vec<String> {
    anchors_given.iter().filter(|a| a.subject_der == cert.info.issuer_der).map(|a| a.name.clone()).collect()
}

/// Of the trusted certificates that issued a certificate, the one the server would accept
/// first: enabled and in date, then enabled, then in date, then the first.
fn best_anchor<'a>(matching: &[&'a AnchorInfo], now: OffsetDateTime) -> Option<&'a AnchorInfo> {
    let enabled = |a: &&&AnchorInfo| a.status == CertificateStatus::Enabled;
    let in_date = |a: &&&AnchorInfo| a.not_after >= now;
    matching
        .iter()
        .find(|a| enabled(a) && in_date(a))
        .or_else(|| matching.iter().find(enabled))
        .or_else(|| matching.iter().find(in_date))
        .or(matching.first())
        .copied()
}

/// The checks of the certificate at `position` of the path (0 = device). `child` is the
/// certificate it issued; `anchor` names the trusted certificate that issued it, when it is
/// the last of the path.
fn checks(
    c: &Parsed,
    position: usize,
    child: Option<&Parsed>,
    anchor: Option<String>,
    now: OffsetDateTime,
) -> Vec<ChainCheck> {
    let info = &c.info;
    let mut out = Vec::with_capacity(6);
    out.push(if now < info.not_before {
        ChainCheck::fail(
            Check::Validity,
            Reason::NotYetValid,
            format!("not valid until {}", timefmt::platform(info.not_before)),
        )
    } else if now > info.not_after {
        ChainCheck::fail(Check::Validity, Reason::Expired, format!("expired on {}", timefmt::platform(info.not_after)))
    } else {
        ChainCheck::new(
            Check::Validity,
            Verdict::Pass,
            format!("in date, from {} until {}", timefmt::platform(info.not_before), timefmt::platform(info.not_after)),
        )
    });

    let device = position == 0;
    if device {
        out.push(match &c.basic {
            Basic::Ca { .. } => ChainCheck::fail(
                Check::BasicConstraints,
                Reason::NotACa,
                "CA:true: it is a CA certificate, and the server refuses a CA as a device certificate",
            ),
            Basic::NotCa => ChainCheck::new(Check::BasicConstraints, Verdict::Pass, "CA:false, as a device needs"),
            Basic::Absent => {
                ChainCheck::new(Check::BasicConstraints, Verdict::Pass, "absent: not a CA, as a device needs")
            }
            Basic::Invalid(e) => {
                ChainCheck::fail(Check::BasicConstraints, Reason::InvalidChain, format!("unreadable ({e})"))
            }
        });
    } else {
        let issued = child.map(|c| c.info.subject.as_str()).unwrap_or("the certificate below it");
        out.push(match &c.basic {
            Basic::Ca { path_len } => ChainCheck::new(
                Check::BasicConstraints,
                Verdict::Pass,
                match path_len {
                    Some(n) => format!("CA:true, pathlen:{n}"),
                    None => "CA:true".to_string(),
                },
            ),
            Basic::NotCa => ChainCheck::fail(
                Check::BasicConstraints,
                Reason::NotACa,
                format!("CA:false, yet it issued {issued}: only a CA may issue certificates"),
            ),
            Basic::Absent => ChainCheck::fail(
                Check::BasicConstraints,
                Reason::NotACa,
                format!("absent, yet it issued {issued}: only a CA (CA:true) may issue certificates"),
            ),
            Basic::Invalid(e) => {
                ChainCheck::fail(Check::BasicConstraints, Reason::InvalidChain, format!("unreadable ({e})"))
            }
        });
        if let Basic::Ca { path_len } = &c.basic {
            // The CAs between this one and the device certificate.
            let below = position.saturating_sub(1);
            let cas = match below {
                1 => "1 intermediate CA".to_string(),
                n => format!("{n} intermediate CAs"),
            };
            out.push(match path_len {
                None => ChainCheck::new(Check::PathLength, Verdict::Pass, "no limit"),
                Some(n) if below as u64 <= u64::from(*n) => {
                    ChainCheck::new(Check::PathLength, Verdict::Pass, format!("pathlen:{n} allows the {cas} below it"))
                }
                Some(n) => ChainCheck::fail(
                    Check::PathLength,
                    Reason::InvalidChain,
                    format!("pathlen:{n}, but {cas} are below it"),
                ),
            });
        }
    }

    out.push(match &c.key_usage {
        None => ChainCheck::new(Check::KeyUsage, Verdict::Pass, "not restricted (no KeyUsage extension)"),
        Some(Err(e)) => ChainCheck::fail(Check::KeyUsage, Reason::KeyUsage, format!("unreadable ({e})")),
        Some(Ok(ku)) if device && ku.digital_signature => ChainCheck::new(Check::KeyUsage, Verdict::Pass, ku.listed()),
        Some(Ok(ku)) if !device && ku.key_cert_sign => ChainCheck::new(Check::KeyUsage, Verdict::Pass, ku.listed()),
        Some(Ok(ku)) if device => ChainCheck::new(
            Check::KeyUsage,
            Verdict::Warn,
            format!(
                "{}, without digitalSignature, which a TLS client's key needs to sign the handshake. The server does \
                 not check key usage, but other verifiers refuse it",
                ku.listed()
            ),
        ),
        Some(Ok(ku)) => ChainCheck::new(
            Check::KeyUsage,
            Verdict::Warn,
            format!(
                "{}, without keyCertSign, which RFC 5280 requires of a CA. The server does not check key usage, but \
                 other verifiers refuse it",
                ku.listed()
            ),
        ),
    });

    out.push(match &c.ext_key_usage {
        None => {
            ChainCheck::new(Check::ExtendedKeyUsage, Verdict::Pass, "not restricted (no ExtendedKeyUsage extension)")
        }
        Some(Err(e)) => ChainCheck::fail(Check::ExtendedKeyUsage, Reason::KeyUsage, format!("unreadable ({e})")),
        Some(Ok(eku)) if eku.client_auth => {
            ChainCheck::new(Check::ExtendedKeyUsage, Verdict::Pass, eku.listed.join(", "))
        }
        Some(Ok(eku)) => {
            let what = if device {
                "the device certificate"
            } else {
                "a CA's ExtendedKeyUsage limits every certificate below it, so the chain"
            };
            let any = if eku.any { " (the server does not take anyExtendedKeyUsage for clientAuth)" } else { "" };
            ChainCheck::fail(
                Check::ExtendedKeyUsage,
                Reason::KeyUsage,
                format!(
                    "{} without clientAuth{any}: {what} cannot be used for client authentication",
                    if eku.listed.is_empty() { "empty".to_string() } else { eku.listed.join(", ") }
                ),
            )
        }
    });

    let by = match anchor {
        Some(a) => format!("issued by {a}"),
        None if info.self_issued => "self-signed".to_string(),
        None => format!("issued by {}", info.issuer),
    };
    out.push(ChainCheck::new(Check::Signature, Verdict::ByServer, format!("{by}: checked by the server")));
    out
}

/// The server's own clock, from an HTTP `Date` header (IMF-fixdate,
/// `Sun, 06 Nov 1994 08:49:37 GMT`), for checking validity at the time the server checks it.
pub fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    let mut parts = value.split_whitespace();
    let _weekday = parts.next()?.strip_suffix(',')?;
    let day: u8 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => Month::January,
        "Feb" => Month::February,
        "Mar" => Month::March,
        "Apr" => Month::April,
        "May" => Month::May,
        "Jun" => Month::June,
        "Jul" => Month::July,
        "Aug" => Month::August,
        "Sep" => Month::September,
        "Oct" => Month::October,
        "Nov" => Month::November,
        "Dec" => Month::December,
        _ => return None,
    };
    let year: i32 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':').map(|p| p.parse::<u8>().ok());
    let (hour, minute, second) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// The trusted certificate that anchored a chain, in [`VerifyChainAnswer`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorRef {
    pub fingerprint: String,
    pub name: String,
}

/// The 200 answer of `POST /tenant/trusted-certificates/verify-cert-chain`: the platform's
/// `successfullyValidated` and `tenantId`, and anchorage's extension, which says what the
/// device would get from `deviceAccessToken`. (Refusals are 401 error bodies with `reason`,
/// [`crate::api::ErrorBody`].)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyChainAnswer {
    pub successfully_validated: bool,
    #[serde(default)]
    pub tenant_id: String,
    #[serde(default)]
    pub trusted_certificate: Option<AnchorRef>,
    /// The device user the certificate maps to, `device_<CN>`.
    #[serde(default)]
    pub device_user: Option<String>,
    /// Whether `deviceAccessToken` would issue a token now.
    #[serde(default)]
    pub token_would_be_issued: bool,
    /// Why no token would be issued although the chain is valid (e.g. `NOT_REGISTERED`).
    #[serde(default)]
    pub reason: Option<Reason>,
    #[serde(default)]
    pub message: Option<String>,
    /// The revocation check could not tell, and the tenant lets devices in regardless: why.
    #[serde(default)]
    pub revocation_warning: Option<String>,
}

#[cfg(test)]
mod tests {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    use time::Duration;

    use super::*;

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2026-03-01 12:00 UTC)
    }

    fn params(cn: &str, is_ca: IsCa) -> CertificateParams {
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.is_ca = is_ca;
        p.not_before = now() - Duration::days(1);
        p.not_after = now() + Duration::days(365);
        p.use_authority_key_identifier_extension = true;
        p
    }

    fn ca_params(cn: &str) -> CertificateParams {
        params(cn, IsCa::Ca(BasicConstraints::Unconstrained))
    }

    /// A certificate and what signs with its key.
    struct Made {
        der: Vec<u8>,
        issuer: Issuer<'static, KeyPair>,
    }

    fn root(p: CertificateParams) -> Made {
        let key = KeyPair::generate().unwrap();
        let der = p.self_signed(&key).unwrap().der().to_vec();
        Made { der, issuer: Issuer::new(p, key) }
    }

    fn signed(p: CertificateParams, by: &Made) -> Made {
        let key = KeyPair::generate().unwrap();
        let der = p.signed_by(&key, &by.issuer).unwrap().der().to_vec();
        Made { der, issuer: Issuer::new(p, key) }
    }

    fn device_params(cn: &str) -> CertificateParams {
        let mut p = params(cn, IsCa::ExplicitNoCa);
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p
    }

    fn anchor(m: &Made, name: &str, status: CertificateStatus) -> AnchorInfo {
        AnchorInfo::new(name, status, &m.der).unwrap()
    }

    /// Root → intermediate → device.
    fn chain() -> (Made, Made, Made) {
        let r = root(ca_params("Doctor Root"));
        let i = signed(ca_params("Doctor Intermediate"), &r);
        let d = signed(device_params("device-1"), &i);
        (r, i, d)
    }

    fn failing(d: &Diagnosis) -> Vec<(PathRole, Check)> {
        d.path
            .iter()
            .flat_map(|c| c.checks.iter().filter(|k| k.verdict == Verdict::Fail).map(move |k| (c.role, k.check)))
            .collect()
    }

    fn subjects(d: &Diagnosis) -> Vec<String> {
        d.path.iter().map(|c| c.info.subject.clone()).collect()
    }

    #[test]
    fn orders_a_shuffled_chain_and_finds_its_enabled_anchor() {
        let (r, i, d) = chain();
        let anchors = [anchor(&r, "Root", CertificateStatus::Enabled)];
        let diag = build_path(&[i.der.clone(), d.der.clone()], &anchors, now());
        assert_eq!(subjects(&diag), ["CN=device-1", "CN=Doctor Intermediate"]);
        assert_eq!(diag.path[0].role, PathRole::Device);
        assert_eq!(diag.path[1].role, PathRole::Intermediate);
        assert!(failing(&diag).is_empty(), "{diag:#?}");
        let Anchoring::Anchored(a) = &diag.anchoring else { panic!("{:?}", diag.anchoring) };
        assert_eq!(a.name, "Root");
        assert!(a.problems.is_empty());
        assert_eq!(diag.expected_refusal(), None);
        assert!(diag.problems().is_empty());
        // Every certificate's signature is left to the server.
        for c in &diag.path {
            let sig = c.checks.iter().find(|k| k.check == Check::Signature).unwrap();
            assert_eq!(sig.verdict, Verdict::ByServer);
        }
        assert!(diag.path[1].checks.iter().any(|k| k.detail.contains("the trusted certificate 'Root'")));
        // The PEM sent to the server is in path order.
        assert_eq!(pem::decode_certificates(&diag.path_pem()).unwrap(), vec![d.der.clone(), i.der.clone()]);
    }

    #[test]
    fn without_authority_key_identifiers_names_alone_link_the_path() {
        let plain = |mut p: CertificateParams| {
            p.use_authority_key_identifier_extension = false;
            p
        };
        let r = root(plain(ca_params("Plain Root")));
        let i = signed(plain(ca_params("Plain Intermediate")), &r);
        let d = signed(plain(device_params("device-plain")), &i);
        let aki = |der: &[u8]| {
            X509Certificate::from_der(der)
                .unwrap()
                .1
                .iter_extensions()
                .any(|e| matches!(e.parsed_extension(), ParsedExtension::AuthorityKeyIdentifier(_)))
        };
        assert!(!aki(&i.der) && !aki(&d.der), "no authority key identifiers to go by");
        let anchors = [anchor(&r, "Plain", CertificateStatus::Enabled)];
        let diag = build_path(&[i.der.clone(), d.der.clone()], &anchors, now());
        assert_eq!(subjects(&diag), ["CN=device-plain", "CN=Plain Intermediate"]);
        assert!(matches!(&diag.anchoring, Anchoring::Anchored(a) if a.name == "Plain"), "{:?}", diag.anchoring);
    }

    #[test]
    fn the_root_given_too_is_an_extra_when_it_is_trusted() {
        let (r, i, d) = chain();
        let anchors = [anchor(&r, "Root", CertificateStatus::Enabled)];
        let diag = build_path(&[r.der.clone(), d.der.clone(), i.der.clone()], &anchors, now());
        assert_eq!(subjects(&diag), ["CN=device-1", "CN=Doctor Intermediate"]);
        assert_eq!(diag.extra.len(), 1);
        assert!(diag.extra[0].note.contains("anchors the path itself"), "{}", diag.extra[0].note);
    }

    #[test]
    fn an_untrusted_root_given_ends_the_path_and_is_named() {
        let (r, i, d) = chain();
        let diag = build_path(&[r.der.clone(), i.der.clone(), d.der.clone()], &[], now());
        assert_eq!(subjects(&diag), ["CN=device-1", "CN=Doctor Intermediate", "CN=Doctor Root"]);
        assert_eq!(diag.path[2].role, PathRole::Root);
        assert_eq!(
            diag.anchoring,
            Anchoring::Unanchored(Unanchored::RootNotTrusted { subject: "CN=Doctor Root".into() })
        );
        assert!(diag.anchoring.describe().contains("No trusted certificate with subject CN=Doctor Root"));
        assert_eq!(diag.expected_refusal(), Some(Reason::UnknownIssuer));
    }

    #[test]
    fn a_missing_intermediate_is_named() {
        let (r, _i, d) = chain();
        let anchors = [anchor(&r, "Root", CertificateStatus::Enabled)];
        let diag = build_path(std::slice::from_ref(&d.der), &anchors, now());
        assert_eq!(subjects(&diag), ["CN=device-1"]);
        assert_eq!(
            diag.anchoring,
            Anchoring::Unanchored(Unanchored::MissingIssuer {
                certificate: "CN=device-1".into(),
                issuer: "CN=Doctor Intermediate".into()
            })
        );
        let words = diag.anchoring.describe();
        assert!(words.contains("The issuer of CN=device-1 is missing"), "{words}");
        assert!(words.contains("CN=Doctor Intermediate"), "{words}");
    }

    #[test]
    fn a_disabled_anchor_is_explained_and_an_enabled_twin_is_preferred() {
        let (r, i, d) = chain();
        let disabled = [anchor(&r, "Root", CertificateStatus::Disabled)];
        let diag = build_path(&[d.der.clone(), i.der.clone()], &disabled, now());
        let Anchoring::Anchored(a) = &diag.anchoring else { panic!() };
        assert_eq!(a.problems, [AnchorProblem::Disabled]);
        assert!(a.describe().contains("DISABLED"), "{}", a.describe());
        assert_eq!(diag.expected_refusal(), Some(Reason::CaDisabled));

        // The same CA key re-issued and enabled: the server takes that one.
        let mut again = ca_params("Doctor Root");
        again.not_after = now() + Duration::days(700);
        let reissued = Made {
            der: again.self_signed(r.issuer.key()).unwrap().der().to_vec(),
            issuer: Issuer::new(ca_params("unused"), KeyPair::generate().unwrap()),
        };
        let both =
            [anchor(&r, "Root", CertificateStatus::Disabled), anchor(&reissued, "Root 2", CertificateStatus::Enabled)];
        let diag = build_path(&[d.der.clone(), i.der.clone()], &both, now());
        let Anchoring::Anchored(a) = &diag.anchoring else { panic!() };
        assert_eq!((a.name.as_str(), a.alternatives), ("Root 2", 1));
        assert!(a.problems.is_empty());
    }

    #[test]
    fn an_expired_intermediate_and_an_expired_anchor_are_told_apart() {
        let mut rp = ca_params("Old Root");
        rp.not_before = now() - Duration::days(400);
        rp.not_after = now() - Duration::days(10);
        let r = root(rp);
        let mut ip = ca_params("Old Intermediate");
        ip.not_before = now() - Duration::days(300);
        ip.not_after = now() - Duration::days(2);
        let i = signed(ip, &r);
        let d = signed(device_params("device-2"), &i);
        let anchors = [anchor(&r, "Old", CertificateStatus::Enabled)];
        let diag = build_path(&[d.der.clone(), i.der.clone()], &anchors, now());
        assert_eq!(failing(&diag), [(PathRole::Intermediate, Check::Validity)]);
        let validity = &diag.path[1].checks[0];
        assert!(validity.detail.starts_with("expired on "), "{}", validity.detail);
        let problems = diag.problems();
        assert!(
            problems[0].starts_with("Intermediate CA (CN=Old Intermediate): Validity: expired on "),
            "{problems:?}"
        );
        assert!(problems[1].contains("CA_EXPIRED"), "{problems:?}");
        assert_eq!(diag.expected_refusal(), Some(Reason::Expired));
        let Anchoring::Anchored(a) = &diag.anchoring else { panic!() };
        assert!(matches!(a.problems.as_slice(), [AnchorProblem::Expired { .. }]));

        // Not yet valid, at a time before everything began.
        let early = now() - Duration::days(500);
        let diag = build_path(&[d.der.clone(), i.der.clone()], &anchors, early);
        assert_eq!(diag.expected_refusal(), Some(Reason::NotYetValid));
    }

    #[test]
    fn ca_flags_path_length_and_usages_are_checked() {
        let mut rp = ca_params("Strict Root");
        rp.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let r = root(rp);
        let i1 = signed(ca_params("Level 1"), &r);
        let mut i2p = ca_params("Level 2");
        i2p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        i2p.key_usages = vec![KeyUsagePurpose::CrlSign];
        let i2 = signed(i2p, &i1);
        let mut dp = params("device-3", IsCa::ExplicitNoCa);
        dp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        dp.key_usages = vec![KeyUsagePurpose::KeyEncipherment];
        let d = signed(dp, &i2);
        let diag = build_path(&[d.der.clone(), i2.der.clone(), i1.der.clone(), r.der.clone()], &[], now());
        assert_eq!(subjects(&diag), ["CN=device-3", "CN=Level 2", "CN=Level 1", "CN=Strict Root"]);
        assert_eq!(
            failing(&diag),
            [(PathRole::Device, Check::ExtendedKeyUsage), (PathRole::Root, Check::PathLength)],
            "{diag:#?}"
        );
        let verdict = |role: PathRole, check: Check| {
            diag.path.iter().find(|c| c.role == role).unwrap().checks.iter().find(|k| k.check == check).unwrap().clone()
        };
        assert_eq!(verdict(PathRole::Device, Check::KeyUsage).verdict, Verdict::Warn);
        let ku = verdict(PathRole::Intermediate, Check::KeyUsage);
        assert_eq!(ku.verdict, Verdict::Warn, "Level 2 lacks keyCertSign");
        assert!(ku.detail.contains("cRLSign"), "{}", ku.detail);
        assert!(verdict(PathRole::Root, Check::PathLength).detail.contains("pathlen:0, but 2 intermediate CAs"));

        // A certificate with CA:false that signs another, and a CA used as the device.
        let not_ca = signed(params("Not a CA", IsCa::ExplicitNoCa), &r);
        let below = signed(device_params("device-4"), &not_ca);
        let diag =
            build_path(&[below.der.clone(), not_ca.der.clone()], &[anchor(&r, "R", CertificateStatus::Enabled)], now());
        assert_eq!(failing(&diag), [(PathRole::Intermediate, Check::BasicConstraints)]);
        assert_eq!(diag.expected_refusal(), Some(Reason::NotACa));
        let diag = build_path(std::slice::from_ref(&i1.der), &[anchor(&r, "R", CertificateStatus::Enabled)], now());
        assert_eq!(failing(&diag), [(PathRole::Device, Check::BasicConstraints)]);
    }

    #[test]
    fn a_trusted_ca_with_the_same_name_but_another_key_does_not_anchor() {
        let (_r, i, d) = chain();
        // Another root with the same name: rcgen writes key identifiers, which tell them apart.
        let impostor = root(ca_params("Doctor Root"));
        let anchors = [anchor(&impostor, "Look-alike", CertificateStatus::Enabled)];
        let diag = build_path(&[d.der.clone(), i.der.clone()], &anchors, now());
        let Anchoring::Unanchored(Unanchored::KeyMismatch { names, .. }) = &diag.anchoring else {
            panic!("{:?}", diag.anchoring)
        };
        assert_eq!(names, &["Look-alike".to_string()]);
        assert!(diag.anchoring.describe().contains("another key"));
    }

    #[test]
    fn strays_duplicates_and_garbage_are_reported_not_fatal() {
        let (r, i, d) = chain();
        let stray = root(ca_params("Stray CA"));
        let anchors = [anchor(&r, "Root", CertificateStatus::Enabled)];
        let input = [stray.der.clone(), d.der.clone(), b"\x30\x82\x00\x01junk".to_vec(), i.der.clone(), d.der.clone()];
        let diag = build_path(&input, &anchors, now());
        assert_eq!(subjects(&diag), ["CN=device-1", "CN=Doctor Intermediate"]);
        assert_eq!(diag.extra.len(), 1);
        assert_eq!(diag.extra[0].info.subject, "CN=Stray CA");
        assert_eq!(diag.unreadable.len(), 1);
        assert_eq!(diag.unreadable[0].position, 3);
        assert_eq!(diag.duplicates, 1);

        let empty = build_path(&[], &anchors, now());
        assert!(empty.path.is_empty());
        assert_eq!(empty.anchoring, Anchoring::Unanchored(Unanchored::Empty));
        assert_eq!(empty.expected_refusal(), Some(Reason::NoClientCertificate));
        let garbage = build_path(&[vec![0x30, 0x00]], &anchors, now());
        assert_eq!(garbage.expected_refusal(), Some(Reason::UnreadableCertificate));
    }

    #[test]
    fn device_first_moves_the_path_s_device_certificate_to_the_front() {
        let (r, i, d) = chain();
        let garbage = b"\x30\x82\x00\x01junk".to_vec();
        let stray = root(ca_params("Stray CA"));
        // The rest stay in the order given, unreadable inputs and duplicates included.
        assert_eq!(
            device_first(vec![r.der.clone(), garbage.clone(), i.der.clone(), d.der.clone(), r.der.clone()]),
            [d.der.clone(), r.der.clone(), garbage.clone(), i.der.clone(), r.der.clone()]
        );
        for given in [
            vec![d.der.clone(), i.der.clone()],
            vec![i.der.clone(), d.der.clone()],
            vec![stray.der.clone(), i.der.clone(), garbage.clone(), d.der.clone()],
            vec![r.der.clone(), i.der.clone()],
            vec![i.der.clone(), d.der.clone(), i.der.clone()],
        ] {
            let ordered = device_first(given.clone());
            let diag = build_path(&given, &[], now());
            assert_eq!(ordered.first(), diag.device().map(|c| &c.info.der), "{:?}", subjects(&diag));
            let (mut a, mut b) = (ordered, given);
            a.sort();
            b.sort();
            assert_eq!(a, b, "nothing added or lost");
        }
        // Nothing readable: as given.
        assert_eq!(device_first(vec![garbage.clone(), vec![0x30, 0x00]]), [garbage, vec![0x30, 0x00]]);
        assert!(device_first(Vec::new()).is_empty());
    }

    #[test]
    fn work_is_bounded_and_cycles_end() {
        // Two CAs that issue each other (same names, no key ids would match both ways): the
        // walk uses each certificate once.
        let a = root(ca_params("Loop A"));
        let b = signed(ca_params("Loop B"), &a);
        let a2 = signed(ca_params("Loop A"), &b);
        let diag = build_path(&[a2.der.clone(), b.der.clone(), a.der.clone()], &[], now());
        assert!(diag.path.len() <= 3);

        let many: Vec<Vec<u8>> = (0..MAX_CERTIFICATES + 3).map(|n| root(ca_params(&format!("R{n}"))).der).collect();
        let diag = build_path(&many, &[], now());
        assert_eq!(diag.path.len() + diag.extra.len(), MAX_CERTIFICATES);
        assert_eq!(diag.unreadable.len(), 1);
        assert_eq!(diag.unreadable[0].position, MAX_CERTIFICATES + 1);
        assert!(diag.unreadable[0].reason.contains("following 2"), "{}", diag.unreadable[0].reason);
    }

    #[test]
    fn decode_any_reads_pem_bundles_and_binary_der() {
        let (r, i, _d) = chain();
        let bundle = format!("{}{}", pem::to_pem(&r.der), pem::to_pem(&i.der));
        assert_eq!(decode_any(bundle.as_bytes()).unwrap(), vec![r.der.clone(), i.der.clone()]);
        assert_eq!(decode_any(&r.der).unwrap(), vec![r.der.clone()]);
        assert_eq!(decode_any(pem::to_single_line_base64(&r.der).as_bytes()).unwrap(), vec![r.der.clone()]);
        assert_eq!(decode_any(b"  ").unwrap_err(), "No certificate found in the input.");
        let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(decode_any(key.as_bytes()).unwrap_err().contains("PRIVATE KEY"));
        assert!(decode_any(&vec![b'A'; pem::MAX_INPUT_BYTES + 1]).is_err());
    }

    #[test]
    fn anchors_come_from_listed_trusted_certificates() {
        let (r, _, _) = chain();
        // As the API lists it (decoded from JSON, so that new optional fields need no change here).
        let listed: TrustedCertificate = serde_json::from_value(serde_json::json!({
            "name": "Listed", "certInPemFormat": pem::to_single_line_base64(&r.der), "fingerprint": "",
            "status": "DISABLED", "autoRegistrationEnabled": false, "serialNumber": "1", "version": 3,
            "algorithmName": "", "subject": "", "issuer": "", "notBefore": "", "notAfter": "",
        }))
        .unwrap();
        let a = AnchorInfo::from_trusted(&listed).unwrap();
        assert_eq!(
            (a.name.as_str(), a.status, a.subject.as_str()),
            ("Listed", CertificateStatus::Disabled, "CN=Doctor Root")
        );
        assert_eq!(a.der, r.der);
    }

    #[test]
    fn http_dates_are_read() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(time::macros::datetime!(1994-11-06 08:49:37 UTC))
        );
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 CET"), None);
        assert_eq!(parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date(""), None);
    }

    #[test]
    fn the_verify_answer_reads_the_platform_form_and_the_extension() {
        let platform: VerifyChainAnswer =
            serde_json::from_str(r#"{"successfullyValidated": true, "tenantId": "t123"}"#).unwrap();
        assert!(platform.successfully_validated && platform.reason.is_none() && !platform.token_would_be_issued);
        let ours: VerifyChainAnswer = serde_json::from_str(
            r#"{"successfullyValidated": true, "tenantId": "t1", "trustedCertificate": {"fingerprint": "ab", "name": "R"},
                "deviceUser": "device_x", "tokenWouldBeIssued": false, "reason": "NOT_REGISTERED", "message": "m"}"#,
        )
        .unwrap();
        assert_eq!(ours.reason, Some(Reason::NotRegistered));
        assert_eq!(ours.trusted_certificate.unwrap().name, "R");
    }
}
