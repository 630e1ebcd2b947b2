//! What the fuzz target of the console's JSON decoders checks (`fuzz/fuzz_targets/`, issue 17):
//! [`crate::api::wire`], the small parser of the first load, must read every text exactly as
//! serde_json does (the same value, or both refuse), and its decoders must not panic. Replayed
//! over the saved corpus by `app/tests/fuzz_corpus.rs`.
//!
//! Not part of the API: for the fuzz target and its replay only (nothing in the console calls
//! it, so it is not in the wasm).

use anchorage_common::api::{CurrentTenant, CurrentUser, TrustedCertificate};
use anchorage_common::users::User;

use crate::api::wire::{self, FromJson, Json};

/// One JSON text through `wire` and through serde_json.
pub fn wire(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let ours = wire::parse(text);
    let theirs = serde_json::from_str::<serde_json::Value>(text);
    match (&ours, &theirs) {
        (Ok(value), Ok(expected)) => {
            assert_eq!(&to_serde(value), expected, "wire and serde_json read {text:?} differently")
        }
        // serde_json refuses numbers beyond f64; wire keeps a number's text.
        (Ok(_), Err(e)) => assert!(e.to_string().contains("number out of range"), "wire accepts {text:?}: {e}"),
        // wire's nesting limit (64) is below serde_json's (128).
        (Err(e), Ok(_)) => assert!(e.contains("nesting too deep"), "wire refuses {text:?}: {e}"),
        (Err(_), Err(_)) => {}
    }
    if let Ok(value) = &ours {
        let _ = TrustedCertificate::from_json(value);
        let _ = wire::Certificates::from_json(value);
        let _ = CurrentUser::from_json(value);
        let _ = CurrentTenant::from_json(value);
        let _ = User::from_json(value);
        let _ = wire::error_message(text);
    }
}

/// A parsed value as serde_json's (both keep the last of repeated keys).
fn to_serde(v: &Json) -> serde_json::Value {
    match v {
        Json::Null => serde_json::Value::Null,
        Json::Bool(b) => serde_json::Value::Bool(*b),
        Json::Number(n) => serde_json::from_str(n).unwrap_or(serde_json::Value::Null),
        Json::String(s) => serde_json::Value::String(s.clone()),
        Json::Array(items) => items.iter().map(to_serde).collect(),
        Json::Object(fields) => fields.iter().map(|(k, v)| (k.clone(), to_serde(v))).collect(),
    }
}
