//! JSON for the first load, without serde_json: the answers the login and the home page read
//! (the session, the mode, the trusted certificates, error bodies) are decoded by the small
//! parser here, and the one body the home page sends (a certificate's changes) is written by
//! hand. serde_json, serde's visitors and the float formatting they bring (about 25 KB gzip)
//! are then only in the chunks of the other pages (docs/decisions.md).
//!
//! The decoders read the same fields as the serde derives of `anchorage-common` (which stay the
//! types' definition, and which the tests compare them with): unknown fields are ignored, a
//! field with a serde `default` may be missing, any other missing or mistyped field is an error
//! naming it. Numbers are kept as text until a field asks for an integer.

use anchorage_common::api::{
    CertificateChanges, CertificateStatus, CurrentTenant, CurrentUser, Role, TrustedCertificate,
};
use anchorage_common::users::{User, UserRole};

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    /// The number's text, as written (checked against JSON's grammar).
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// Deepest nesting accepted (the API's answers need 4); deeper input is an error, not a stack
/// overflow.
const MAX_DEPTH: usize = 64;

/// Parses a whole JSON text.
pub(crate) fn parse(text: &str) -> Result<Json, String> {
    let mut p = Parser { s: text.as_bytes(), i: 0 };
    let value = p.value(0)?;
    p.space();
    if p.i != p.s.len() {
        return Err(p.error("trailing characters"));
    }
    Ok(value)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        format!("invalid JSON: {what} at byte {}", self.i)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(value)
        } else {
            Err(self.error("unexpected character"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        self.space();
        match self.peek() {
            None => Err(self.error("unexpected end")),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.space();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.space();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return Err(self.error("expected , or ]")),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut fields = Vec::new();
                self.space();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(Json::Object(fields));
                }
                loop {
                    self.space();
                    if self.peek() != Some(b'"') {
                        return Err(self.error("expected a key"));
                    }
                    let key = self.string()?;
                    self.space();
                    if self.peek() != Some(b':') {
                        return Err(self.error("expected :"));
                    }
                    self.i += 1;
                    fields.push((key, self.value(depth + 1)?));
                    self.space();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Object(fields));
                        }
                        _ => return Err(self.error("expected , or }")),
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("unexpected character")),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let leading_zero = self.peek() == Some(b'0');
        match self.digits() {
            0 => return Err(self.error("expected a digit")),
            n if n > 1 && leading_zero => return Err(self.error("leading zero")),
            _ => {}
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.error("expected a digit"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("expected a digit"));
            }
        }
        // Only ASCII was consumed.
        Ok(Json::Number(String::from_utf8_lossy(&self.s[start..self.i]).into_owned()))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut n = 0;
        for _ in 0..4 {
            let d = self.peek().and_then(|c| (c as char).to_digit(16)).ok_or_else(|| self.error("bad \\u escape"))?;
            n = n * 16 + d;
            self.i += 1;
        }
        Ok(n)
    }

    /// A string, the opening quote at `self.i`.
    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let Some(c) = self.peek() else { return Err(self.error("unterminated string")) };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(e) = self.peek() else { return Err(self.error("unterminated string")) };
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let high = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&high) {
                                if !self.s[self.i..].starts_with(b"\\u") {
                                    return Err(self.error("lone surrogate"));
                                }
                                self.i += 2;
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return Err(self.error("lone surrogate"));
                                }
                                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                high
                            };
                            char::from_u32(code).ok_or_else(|| self.error("lone surrogate"))?
                        }
                        _ => return Err(self.error("bad escape")),
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0..0x20 => return Err(self.error("control character in string")),
                _ => out.push(c),
            }
        }
        // The input is a &str and escapes add whole characters: this never fails.
        String::from_utf8(out).map_err(|_| self.error("invalid UTF-8"))
    }
}

/// A JSON object's fields, read by name.
pub(crate) struct Fields<'a>(&'a [(String, Json)]);

impl<'a> Fields<'a> {
    /// The fields of `v`, which must be an object (`what` names it in the error).
    pub fn of(v: &'a Json, what: &str) -> Result<Self, String> {
        match v {
            Json::Object(fields) => Ok(Fields(fields)),
            _ => Err(format!("{what} is not an object")),
        }
    }

    fn get(&self, key: &str) -> Option<&'a Json> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn wrong(key: &str, kind: &str) -> String {
        format!("field `{key}` is missing or not {kind}")
    }

    /// A required string.
    pub fn string(&self, key: &str) -> Result<String, String> {
        match self.get(key) {
            Some(Json::String(s)) => Ok(s.clone()),
            _ => Err(Self::wrong(key, "a string")),
        }
    }

    /// A string that may be missing (then empty).
    pub fn string_or_default(&self, key: &str) -> Result<String, String> {
        match self.get(key) {
            None => Ok(String::new()),
            _ => self.string(key),
        }
    }

    /// A string that may be missing or `null`.
    pub fn optional_string(&self, key: &str) -> Result<Option<String>, String> {
        match self.get(key) {
            None | Some(Json::Null) => Ok(None),
            _ => self.string(key).map(Some),
        }
    }

    /// A required boolean.
    pub fn bool(&self, key: &str) -> Result<bool, String> {
        match self.get(key) {
            Some(Json::Bool(b)) => Ok(*b),
            _ => Err(Self::wrong(key, "a boolean")),
        }
    }

    /// A boolean that may be missing (then false).
    pub fn bool_or_default(&self, key: &str) -> Result<bool, String> {
        match self.get(key) {
            None => Ok(false),
            _ => self.bool(key),
        }
    }

    /// A required unsigned integer.
    pub fn u32(&self, key: &str) -> Result<u32, String> {
        match self.get(key) {
            Some(Json::Number(n)) => n.parse().map_err(|_| Self::wrong(key, "an unsigned integer")),
            _ => Err(Self::wrong(key, "an unsigned integer")),
        }
    }

    /// A required array, each item decoded by `item`.
    pub fn array<T>(&self, key: &str, item: fn(&Json) -> Result<T, String>) -> Result<Vec<T>, String> {
        match self.get(key) {
            Some(Json::Array(items)) => items.iter().map(item).collect(),
            _ => Err(Self::wrong(key, "an array")),
        }
    }

    /// An array that may be missing (then empty).
    pub fn array_or_default<T>(&self, key: &str, item: fn(&Json) -> Result<T, String>) -> Result<Vec<T>, String> {
        match self.get(key) {
            None => Ok(Vec::new()),
            _ => self.array(key, item),
        }
    }
}

/// A type the first load reads from JSON.
pub(crate) trait FromJson: Sized {
    fn from_json(v: &Json) -> Result<Self, String>;
}

/// Parses and decodes a whole answer.
pub(crate) fn decode<T: FromJson>(text: &str) -> Result<T, String> {
    T::from_json(&parse(text)?)
}

impl FromJson for CurrentUser {
    fn from_json(v: &Json) -> Result<Self, String> {
        let f = Fields::of(v, "the user")?;
        Ok(CurrentUser {
            id: f.string("id")?,
            user_name: f.string("userName")?,
            self_url: f.string_or_default("self")?,
            effective_roles: f.array_or_default("effectiveRoles", |r| {
                let f = Fields::of(r, "a role")?;
                Ok(Role { id: f.string("id")?, name: f.string("name")? })
            })?,
        })
    }
}

impl FromJson for CurrentTenant {
    fn from_json(v: &Json) -> Result<Self, String> {
        let f = Fields::of(v, "the tenant")?;
        Ok(CurrentTenant {
            name: f.string("name")?,
            domain_name: f.string("domainName")?,
            self_url: f.string_or_default("self")?,
            allow_create_tenants: f.bool_or_default("allowCreateTenants")?,
        })
    }
}

impl FromJson for User {
    fn from_json(v: &Json) -> Result<Self, String> {
        let f = Fields::of(v, "the user")?;
        Ok(User {
            id: f.string("id")?,
            user_name: f.string("userName")?,
            self_url: f.string_or_default("self")?,
            enabled: f.bool("enabled")?,
            role: UserRole::parse(&f.string("role")?)?,
            last_password_change: f.optional_string("lastPasswordChange")?,
        })
    }
}

impl FromJson for TrustedCertificate {
    fn from_json(v: &Json) -> Result<Self, String> {
        let f = Fields::of(v, "a certificate")?;
        let status = f.string("status")?;
        Ok(TrustedCertificate {
            name: f.string("name")?,
            cert_in_pem_format: f.string("certInPemFormat")?,
            fingerprint: f.string("fingerprint")?,
            status: CertificateStatus::parse(&status).ok_or_else(|| format!("unknown status \"{status}\""))?,
            auto_registration_enabled: f.bool("autoRegistrationEnabled")?,
            serial_number: f.string("serialNumber")?,
            version: f.u32("version")?,
            algorithm_name: f.string("algorithmName")?,
            subject: f.string("subject")?,
            issuer: f.string("issuer")?,
            not_before: f.string("notBefore")?,
            not_after: f.string("notAfter")?,
            self_url: f.string_or_default("self")?,
            proof_of_possession_valid: f.bool_or_default("proofOfPossessionValid")?,
            proof_of_possession_unsigned_verification_code: f
                .optional_string("proofOfPossessionUnsignedVerificationCode")?,
            proof_of_possession_verification_code_usable_until: f
                .optional_string("proofOfPossessionVerificationCodeUsableUntil")?,
            tenant_certificate_authority: f.bool_or_default("tenantCertificateAuthority")?,
        })
    }
}

/// The `certificates` of a collection answer (its statistics and links are not used).
pub(crate) struct Certificates(pub Vec<TrustedCertificate>);

impl FromJson for Certificates {
    fn from_json(v: &Json) -> Result<Self, String> {
        Fields::of(v, "the answer")?.array("certificates", TrustedCertificate::from_json).map(Certificates)
    }
}

/// The `message` of the platform's error body, when it has one.
pub(crate) fn error_message(body: &str) -> Option<String> {
    let json = parse(body).ok()?;
    let f = Fields::of(&json, "the error").ok()?;
    f.string("error").ok()?;
    f.string("message").ok()
}

/// Appends `s` as a JSON string.
pub(crate) fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The body of a certificate update (`PUT …/trusted-certificates/{fingerprint}`): the fields
/// that change.
pub(crate) fn certificate_changes(changes: &CertificateChanges) -> String {
    fn field(out: &mut String, key: &str) {
        if out.len() > 1 {
            out.push(',');
        }
        write_string(out, key);
        out.push(':');
    }
    let mut out = String::from("{");
    if let Some(name) = &changes.name {
        field(&mut out, "name");
        write_string(&mut out, name);
    }
    if let Some(status) = changes.status {
        field(&mut out, "status");
        write_string(&mut out, status.as_str());
    }
    if let Some(on) = changes.auto_registration_enabled {
        field(&mut out, "autoRegistrationEnabled");
        out.push_str(if on { "true" } else { "false" });
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use anchorage_common::api::{ErrorBody, TrustedCertificateCollection, UpdateTrustedCertificate};
    use serde_json::json;

    use super::*;

    /// The same text through serde_json and through `parse`.
    fn same(text: &str) {
        let ours = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(to_serde(&ours), serde_json::from_str::<serde_json::Value>(text).unwrap(), "{text}");
    }

    fn to_serde(v: &Json) -> serde_json::Value {
        match v {
            Json::Null => serde_json::Value::Null,
            Json::Bool(b) => json!(b),
            Json::Number(n) => serde_json::from_str(n).unwrap(),
            Json::String(s) => json!(s),
            Json::Array(items) => items.iter().map(to_serde).collect(),
            Json::Object(fields) => fields.iter().map(|(k, v)| (k.clone(), to_serde(v))).collect(),
        }
    }

    #[test]
    fn parses_what_serde_json_parses() {
        for text in [
            "null",
            " true ",
            "false",
            "0",
            "-12",
            "3.25e-2",
            "1E+3",
            r#""""#,
            r#""a\"b\\c\/d\b\f\n\r\t""#,
            r#""\u00e9\u20AC\ud83d\ude00 é€😀""#,
            "[]",
            "[1, [2, [3]], {}]",
            r#"{"a": {"b": [true, null, "x"]}, "c": -0.5}"#,
            "\n{\t\"k\" : \"v\"\r}\n",
        ] {
            same(text);
        }
    }

    #[test]
    fn refuses_what_json_forbids() {
        for text in [
            "",
            " ",
            "nul",
            "tru",
            "[1,]",
            "{\"a\":1,}",
            "{a:1}",
            "[1 2]",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "\"abc",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\ud800\"",
            "\"\\ud800\\u0041\"",
            "\"\\udc00\"",
            "\"a\u{1}b\"",
            "[1] x",
            "{\"a\" 1}",
            "+1",
        ] {
            assert!(parse(text).is_err(), "{text:?} parsed");
            assert!(serde_json::from_str::<serde_json::Value>(text).is_err(), "{text:?}: serde_json disagrees");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 2), "]".repeat(MAX_DEPTH + 2));
        assert!(parse(&deep).unwrap_err().contains("too deep"));
    }

    fn certificate(i: u32) -> TrustedCertificate {
        TrustedCertificate {
            name: format!("CA \"{i}\" é\n"),
            cert_in_pem_format: "MIIB\\/+".into(),
            fingerprint: format!("{i:040x}"),
            status: if i.is_multiple_of(2) { CertificateStatus::Enabled } else { CertificateStatus::Disabled },
            auto_registration_enabled: i.is_multiple_of(3),
            serial_number: "0a:1b".into(),
            version: 3,
            algorithm_name: "SHA256withECDSA".into(),
            subject: "CN=CA,O=Acme".into(),
            issuer: "CN=Root".into(),
            not_before: "2025-01-01T00:00:00.000Z".into(),
            not_after: "2035-01-01T00:00:00.000Z".into(),
            self_url: format!("https://h/tenant/tenants/t1/trusted-certificates/{i}"),
            proof_of_possession_valid: i.is_multiple_of(5),
            proof_of_possession_unsigned_verification_code: i.is_multiple_of(2).then(|| format!("c+/{i}==")),
            proof_of_possession_verification_code_usable_until: i
                .is_multiple_of(2)
                .then(|| "2030-01-01T00:00:00.000Z".to_string()),
            tenant_certificate_authority: i == 1,
        }
    }

    #[test]
    fn decodes_the_collection_as_serde_does() {
        let collection = TrustedCertificateCollection {
            certificates: (0..7).map(certificate).collect(),
            statistics: None,
            self_url: Some("https://h/x?pageSize=2000".into()),
            next: None,
            prev: None,
        };
        let text = serde_json::to_string_pretty(&collection).unwrap();
        assert_eq!(decode::<Certificates>(&text).unwrap().0, collection.certificates);
        // Defaults: the optional fields may be missing.
        let mut sparse = serde_json::to_value(certificate(0)).unwrap();
        for key in [
            "self",
            "proofOfPossessionValid",
            "proofOfPossessionUnsignedVerificationCode",
            "proofOfPossessionVerificationCodeUsableUntil",
            "tenantCertificateAuthority",
        ] {
            sparse.as_object_mut().unwrap().remove(key);
        }
        let expected: TrustedCertificate = serde_json::from_value(sparse.clone()).unwrap();
        assert_eq!(decode::<TrustedCertificate>(&sparse.to_string()).unwrap(), expected);
        // A missing required field or a wrong type is an error that names it.
        let mut broken = serde_json::to_value(certificate(0)).unwrap();
        broken["version"] = json!("3");
        assert!(decode::<TrustedCertificate>(&broken.to_string()).unwrap_err().contains("`version`"));
        broken.as_object_mut().unwrap().remove("version");
        assert!(decode::<TrustedCertificate>(&broken.to_string()).unwrap_err().contains("`version`"));
        assert!(decode::<Certificates>(r#"{"certificates": {}}"#).is_err());
    }

    #[test]
    fn decodes_the_session_as_serde_does() {
        let user = json!({"id": "u1", "userName": "admin", "self": "s", "effectiveRoles": [{"id": "ROLE_TENANT_ADMIN", "name": "ROLE_TENANT_ADMIN"}], "extra": 1.5});
        assert_eq!(
            decode::<CurrentUser>(&user.to_string()).unwrap(),
            serde_json::from_value::<CurrentUser>(user).unwrap()
        );
        let bare = json!({"id": "u1", "userName": "admin"});
        assert_eq!(
            decode::<CurrentUser>(&bare.to_string()).unwrap(),
            serde_json::from_value::<CurrentUser>(bare).unwrap()
        );
        let tenant = json!({"name": "t1", "domainName": "t1.example", "allowCreateTenants": true});
        assert_eq!(
            decode::<CurrentTenant>(&tenant.to_string()).unwrap(),
            serde_json::from_value::<CurrentTenant>(tenant).unwrap()
        );
        for account in [
            json!({"id": "u1", "userName": "admin", "self": "s", "enabled": true, "role": "admin", "lastPasswordChange": "2026-01-01T00:00:00Z"}),
            json!({"id": "u2", "userName": "r", "enabled": false, "role": "reader", "lastPasswordChange": null}),
        ] {
            assert_eq!(decode::<User>(&account.to_string()).unwrap(), serde_json::from_value::<User>(account).unwrap());
        }
        // A platform's user has no `role` (nor `enabled`): not an anchorage user, for both.
        let platform = json!({"id": "u1", "userName": "admin", "self": "s"});
        assert!(decode::<User>(&platform.to_string()).is_err());
        assert!(serde_json::from_value::<User>(platform).is_err());
    }

    #[test]
    fn reads_error_bodies() {
        let body = ErrorBody {
            error: "security/Unauthorized".into(),
            message: "No \"way\".".into(),
            info: String::new(),
            reason: None,
        };
        assert_eq!(error_message(&serde_json::to_string(&body).unwrap()).as_deref(), Some("No \"way\"."));
        assert_eq!(error_message("<html>Bad gateway</html>"), None);
        assert_eq!(error_message(r#"{"message": "no error field"}"#), None);
    }

    #[test]
    fn writes_changes_the_server_reads() {
        for changes in [
            CertificateChanges { name: Some("My \"CA\" \\ é\u{1}\n".into()), ..Default::default() },
            CertificateChanges { status: Some(CertificateStatus::Disabled), ..Default::default() },
            CertificateChanges { auto_registration_enabled: Some(true), ..Default::default() },
            CertificateChanges {
                name: Some("x".into()),
                status: Some(CertificateStatus::Enabled),
                auto_registration_enabled: Some(false),
            },
            CertificateChanges::default(),
        ] {
            let body = certificate_changes(&changes);
            let update: UpdateTrustedCertificate =
                serde_json::from_str(&body).unwrap_or_else(|e| panic!("{body}: {e}"));
            let want =
                CertificateChanges { name: changes.name.as_ref().map(|n| n.trim().to_string()), ..changes.clone() };
            match update.check() {
                Ok(got) => assert_eq!(got, want, "{body}"),
                // The server refuses control characters in names; the body itself was read.
                Err(e) => assert!(changes.name.is_some(), "{body}: {e}"),
            }
        }
    }
}
