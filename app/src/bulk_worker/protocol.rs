//! The messages between the bulk registration page and its parser worker, shared by the
//! console (`app/src/bulk_worker.rs`) and the worker (`app/src/bin/bulk_worker.rs`, which
//! includes this file by path so that it needs nothing else from the console).
//!
//! A message is a JS array `[json, payload?]`: a [`Request`] or [`Reply`] in JSON and an
//! optional payload: the chosen `File` in (a handle: the worker reads the file itself), an
//! `ArrayBuffer` out (the row flags, the CSV of the valid rows), transferred, not copied.

use anchorage_common::bulk::{Issue, Summary};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// The row has at least one error.
pub const FLAG_ERROR: u8 = 1;
/// The row has at least one warning.
pub const FLAG_WARNING: u8 = 2;

/// What the page asks. `file` numbers the files chosen, so late answers about an earlier
/// file are recognised and dropped.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Request {
    /// Read and parse the file (a `File`) in the payload.
    Parse { file: u32 },
    /// The rows at these indices (0-based, in file order).
    Rows { file: u32, indices: Vec<u32> },
    /// A CSV of the header and the valid rows, in the payload of the reply.
    ValidCsv { file: u32 },
    /// The device ids of the valid rows (the page asks the server which exist).
    Ids { file: u32 },
}

/// What the parser answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Reply {
    /// The file was parsed; the payload holds one byte of `FLAG_*` bits per row. The first
    /// rows come along, so the preview needs no second round trip to show them.
    Parsed { file: u32, overview: Overview, first_rows: Vec<RowView> },
    /// The file cannot be read at all.
    Unreadable { file: u32, message: String },
    /// The rows asked for.
    Rows { file: u32, rows: Vec<RowView> },
    /// The CSV of the valid rows is in the payload.
    Csv { file: u32 },
    /// The valid rows' device ids, in file order.
    Ids { file: u32, ids: Vec<RowId> },
}

/// The device id of a valid row: the row's index, the id, and whether the row is a
/// certificate device (`AUTH_TYPE` `CERTIFICATES`; else a password device).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowId(pub u32, pub String, pub bool);

/// The file as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub header: Vec<String>,
    pub summary: Summary,
    /// Problems of the file rather than of a row (e.g. its encoding).
    pub file_issues: Vec<Issue>,
    /// Milliseconds the worker spent parsing and checking (the parser's own time, while the
    /// file was read and after).
    pub parse_ms: u32,
    /// Milliseconds from the worker getting the request to the file parsed: reading the file
    /// and parsing it, which overlap.
    pub worker_ms: u32,
}

/// One row as the preview shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowView {
    pub index: u32,
    pub line: u32,
    pub cells: Vec<String>,
    pub errors: u32,
    pub warnings: u32,
    pub issues: Vec<Issue>,
}

/// Rows sent along with [`Reply::Parsed`]: the ones the preview renders at first (the 15
/// visible and 20 below), and a few more. The rows it prefetches beyond them are asked for
/// once the preview shows, so they do not delay it.
pub const FIRST_ROWS: u32 = 40;

/// Milliseconds on the high-resolution clock of the window or worker. (Durations are shown
/// as whole milliseconds: integers, so that the console needs no float formatting code.)
pub fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map_or(0.0, |p| p.now())
}

/// A message: the JSON of `value` and the payload; an `ArrayBuffer` payload goes in the
/// transfer list (a `File` is cloned: a handle, not its bytes).
pub fn encode<T: Serialize>(value: &T, payload: Option<&JsValue>) -> Option<(js_sys::Array, js_sys::Array)> {
    let json = serde_json::to_string(value).ok()?;
    let (message, transfer) = (js_sys::Array::new(), js_sys::Array::new());
    message.push(&JsValue::from_str(&json));
    if let Some(payload) = payload {
        message.push(payload);
        if payload.is_instance_of::<js_sys::ArrayBuffer>() {
            transfer.push(payload);
        }
    }
    Some((message, transfer))
}

/// The value and payload of a message.
pub fn decode<T: serde::de::DeserializeOwned>(data: &JsValue) -> Option<(T, Option<JsValue>)> {
    let parts: &js_sys::Array = data.dyn_ref()?;
    let value = serde_json::from_str(&parts.get(0).as_string()?).ok()?;
    let payload = parts.get(1);
    Some((value, (!payload.is_undefined()).then_some(payload)))
}

/// A message as a sentence: `the file is empty` → `The file is empty.`
pub fn sentence(s: &str) -> String {
    let mut c = s.chars();
    let mut out: String = c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
