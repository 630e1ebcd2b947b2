//! Parsing bulk-registration files off the page's thread.
//!
//! `anchorage_common::bulk::parse` takes about half a second for a 100,000-row file in the
//! browser, too long to block the page. The same wasm module therefore also runs in a Web
//! Worker (`public/bulk-worker.js` loads it and hands every message to
//! [`bulk_worker_message`]), where an [`Engine`] keeps the parsed file. The page sees only what
//! it shows: the counts, one status byte per row, and the rows it scrolls to, on request.
//!
//! Messages are a JS array `[json, payload?]`: a [`Request`] or [`Reply`] in JSON and an
//! optional `ArrayBuffer`, transferred, not copied (the file in, the row flags and the CSV of
//! the valid rows out). Where no worker can be started, the page runs the same [`Engine`]
//! itself ([`Parser::start`]).

use std::cell::RefCell;
use std::rc::Rc;

use anchorage_common::bulk::{self, BulkFile, Issue, Summary};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The row has at least one error.
pub const FLAG_ERROR: u8 = 1;
/// The row has at least one warning.
pub const FLAG_WARNING: u8 = 2;

/// What the page asks. `file` numbers the files chosen, so late answers about an earlier
/// file are recognised and dropped.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Request {
    /// Parse the file in the payload.
    Parse { file: u32 },
    /// The rows at these indices (0-based, in file order).
    Rows { file: u32, indices: Vec<u32> },
    /// A CSV of the header and the valid rows, in the payload of the reply.
    ValidCsv { file: u32 },
}

/// What the parser answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind")]
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
}

/// The file as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub header: Vec<String>,
    pub summary: Summary,
    /// Problems of the file rather than of a row (e.g. its encoding).
    pub file_issues: Vec<Issue>,
    /// How long `bulk::parse` took, in milliseconds.
    pub parse_ms: f64,
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

/// Rows sent along with [`Reply::Parsed`]: more than a screenful.
pub const FIRST_ROWS: u32 = 160;

/// Holds the parsed file and answers requests about it.
#[derive(Debug, Default)]
pub struct Engine {
    file: u32,
    parsed: Option<BulkFile>,
    /// The previous file, dropped after the reply about the new one is on its way (freeing
    /// a large file takes a while, and nobody waits for it then).
    stale: Option<BulkFile>,
}

impl Engine {
    /// Answers one request; the second value is the reply's payload.
    pub fn handle(&mut self, request: Request, payload: Option<Vec<u8>>) -> (Reply, Option<Vec<u8>>) {
        match request {
            Request::Parse { file } => {
                self.file = file;
                self.stale = self.parsed.take();
                let started = now_ms();
                match bulk::parse(payload.as_deref().unwrap_or_default()) {
                    Ok(parsed) => {
                        let parse_ms = now_ms() - started;
                        let flags = parsed
                            .rows
                            .iter()
                            .map(|r| (u8::from(r.errors > 0) * FLAG_ERROR) | (u8::from(r.warnings > 0) * FLAG_WARNING))
                            .collect();
                        let overview = Overview {
                            header: parsed.header.clone(),
                            summary: parsed.summary.clone(),
                            file_issues: parsed.issues_of(1).cloned().collect(),
                            parse_ms,
                        };
                        let first_rows = (0..FIRST_ROWS.min(u32::try_from(parsed.rows.len()).unwrap_or(u32::MAX)))
                            .filter_map(|i| row_view(&parsed, i))
                            .collect();
                        self.parsed = Some(parsed);
                        (Reply::Parsed { file, overview, first_rows }, Some(flags))
                    }
                    Err(e) => (Reply::Unreadable { file, message: crate::format::sentence(&e.to_string()) }, None),
                }
            }
            Request::Rows { file, indices } => {
                let rows = match &self.parsed {
                    Some(parsed) if file == self.file => indices.iter().filter_map(|&i| row_view(parsed, i)).collect(),
                    _ => Vec::new(),
                };
                (Reply::Rows { file, rows }, None)
            }
            Request::ValidCsv { file } => {
                let csv = match &self.parsed {
                    Some(parsed) if file == self.file => valid_rows_csv(parsed),
                    _ => Vec::new(),
                };
                (Reply::Csv { file }, Some(csv))
            }
        }
    }
}

impl Engine {
    /// Frees the previous file, if any.
    pub fn drop_stale(&mut self) {
        self.stale = None;
    }
}

fn row_view(parsed: &BulkFile, index: u32) -> Option<RowView> {
    let r = parsed.rows.get(index as usize)?;
    Some(RowView {
        index,
        line: r.line,
        cells: r.cells.clone(),
        errors: r.errors,
        warnings: r.warnings,
        issues: parsed.issues_of(r.line).cloned().collect(),
    })
}

/// The header and the valid rows of `file` as CSV with the file's separator; fields are
/// quoted where needed (separator, quote or line break inside), quotes doubled.
pub fn valid_rows_csv(file: &BulkFile) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(u8::try_from(file.separator).unwrap_or(b';'))
        .flexible(true)
        .from_writer(Vec::new());
    // Writing into a Vec cannot fail; a failure would only drop the row.
    let _ = writer.write_record(&file.header);
    for row in file.rows.iter().filter(|r| r.is_valid()) {
        let _ = writer.write_record(&row.cells);
    }
    writer.into_inner().unwrap_or_default()
}

/// Milliseconds on the high-resolution clock of the window or worker.
pub fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map_or(0.0, |p| p.now())
}

fn encode(json: &str, payload: Option<Vec<u8>>) -> (js_sys::Array, js_sys::Array) {
    let message = js_sys::Array::new();
    let transfer = js_sys::Array::new();
    message.push(&JsValue::from_str(json));
    if let Some(bytes) = payload {
        let buffer = js_sys::Uint8Array::from(bytes.as_slice()).buffer();
        message.push(&buffer);
        transfer.push(&buffer);
    }
    (message, transfer)
}

fn decode<T: serde::de::DeserializeOwned>(data: &JsValue) -> Option<(T, Option<js_sys::ArrayBuffer>)> {
    let parts: &js_sys::Array = data.dyn_ref()?;
    let value = serde_json::from_str(&parts.get(0).as_string()?).ok()?;
    Some((value, parts.get(1).dyn_into().ok()))
}

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::default());
}

/// Entry point of the worker: answers one message from the page.
#[wasm_bindgen]
pub fn bulk_worker_message(data: JsValue) {
    let Some((request, payload)) = decode::<Request>(&data) else { return };
    let payload = payload.map(|b| js_sys::Uint8Array::new(&b).to_vec());
    let (reply, payload) = ENGINE.with(|e| e.borrow_mut().handle(request, payload));
    let Ok(json) = serde_json::to_string(&reply) else { return };
    let (message, transfer) = encode(&json, payload);
    if let Ok(scope) = js_sys::global().dyn_into::<web_sys::DedicatedWorkerGlobalScope>() {
        let _ = scope.post_message_with_transfer(&message, &transfer);
    }
    ENGINE.with(|e| e.borrow_mut().drop_stale());
}

type OnReply = Rc<dyn Fn(Reply, Option<js_sys::ArrayBuffer>)>;

/// The page's side: sends requests to the worker (or to a local [`Engine`]) and hands every
/// reply to the callback given at start.
pub struct Parser {
    worker: Option<web_sys::Worker>,
    /// Set when the worker failed to start; requests are then answered on the page.
    broken: Rc<std::cell::Cell<bool>>,
    local: Rc<RefCell<Engine>>,
    on_reply: OnReply,
    _listeners: Vec<Closure<dyn FnMut(web_sys::MessageEvent)>>,
}

impl Parser {
    /// Starts the worker; falls back to parsing on the page where workers are unavailable.
    /// `on_broken` is told when a started worker fails (its current request is lost).
    pub fn start(on_reply: impl Fn(Reply, Option<js_sys::ArrayBuffer>) + 'static, on_broken: impl Fn() + 'static) -> Parser {
        let on_reply: OnReply = Rc::new(on_reply);
        let broken = Rc::new(std::cell::Cell::new(false));
        let options = web_sys::WorkerOptions::new();
        options.set_type(web_sys::WorkerType::Module);
        let worker = web_sys::Worker::new_with_options("/bulk-worker.js", &options).ok();
        let mut listeners = Vec::new();
        if let Some(worker) = &worker {
            let on_reply = on_reply.clone();
            let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                if let Some((reply, payload)) = decode::<Reply>(&e.data()) {
                    on_reply(reply, payload);
                }
            });
            worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            let failed = broken.clone();
            // The event is an `ErrorEvent`; only the fact matters.
            let on_error = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
                if !failed.replace(true) {
                    on_broken();
                }
            });
            worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            listeners = vec![on_message, on_error];
        }
        Parser { worker, broken, local: Rc::default(), on_reply, _listeners: listeners }
    }

    /// Sends a request, with the file or nothing as payload.
    pub fn send(&self, request: Request, payload: Option<js_sys::ArrayBuffer>) {
        if let Some(worker) = self.worker.as_ref().filter(|_| !self.broken.get()) {
            let Ok(json) = serde_json::to_string(&request) else { return };
            let (message, transfer) = (js_sys::Array::new(), js_sys::Array::new());
            message.push(&JsValue::from_str(&json));
            if let Some(buffer) = payload {
                message.push(&buffer);
                transfer.push(&buffer);
            }
            let _ = worker.post_message_with_transfer(&message, &transfer);
            return;
        }
        // No worker: answer on the page, after the current event (as a worker would).
        let local = self.local.clone();
        let on_reply = self.on_reply.clone();
        let payload = payload.map(|b| js_sys::Uint8Array::new(&b).to_vec());
        wasm_bindgen_futures::spawn_local(async move {
            let (reply, payload) = local.borrow_mut().handle(request, payload);
            let payload = payload.map(|bytes| js_sys::Uint8Array::from(bytes.as_slice()).buffer());
            on_reply(reply, payload);
            local.borrow_mut().drop_stale();
        });
    }
}

impl Drop for Parser {
    fn drop(&mut self) {
        if let Some(worker) = &self.worker {
            worker.terminate();
        }
    }
}
