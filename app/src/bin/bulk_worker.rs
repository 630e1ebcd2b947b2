//! The bulk-registration parser's Web Worker, a wasm module of its own so that the parser is
//! not part of the console's first load. `public/bulk-worker.js` loads it and hands every
//! message from the page to [`bulk_worker_message`].
//!
//! The page sends the chosen `File` itself; the worker reads it as a stream and parses each
//! piece as it arrives (`bulk::StreamParser`), so reading the file and parsing it overlap and
//! the file's bytes are copied once, into the parser.

#[path = "../bulk_worker/engine.rs"]
mod engine;
#[path = "../bulk_worker/protocol.rs"]
mod protocol;

use std::cell::{Cell, RefCell};

use anchorage_common::bulk::StreamParser;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use engine::Engine;
use protocol::{Reply, Request, now_ms};

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::default());
    /// The latest file asked for: reading an earlier one stops.
    static LATEST: Cell<u32> = const { Cell::new(0) };
}

/// Answers one message from the page.
#[wasm_bindgen]
pub fn bulk_worker_message(data: JsValue) {
    let Some((request, payload)) = protocol::decode::<Request>(&data) else { return };
    if let Request::Parse { file } = request {
        LATEST.with(|l| l.set(file));
        match payload.and_then(|p| p.dyn_into::<web_sys::Blob>().ok()) {
            Some(blob) => wasm_bindgen_futures::spawn_local(read_and_parse(file, blob)),
            None => post(Engine::unreadable(file, "The file could not be read.")),
        }
        return;
    }
    let reply = ENGINE.with(|e| e.borrow_mut().handle(request));
    post(reply);
}

/// Reads file number `file` piece by piece into the parser, then keeps it and answers.
async fn read_and_parse(file: u32, blob: web_sys::Blob) {
    let started = now_ms();
    let mut parse_ms = 0.0;
    let mut parser = StreamParser::new(blob.size() as usize);
    let reader: web_sys::ReadableStreamDefaultReader = blob.stream().get_reader().unchecked_into();
    let mut piece = Vec::new();
    loop {
        let Ok(result) = JsFuture::from(reader.read()).await else {
            post(Engine::unreadable(file, "The file could not be read."));
            return;
        };
        if LATEST.with(Cell::get) != file {
            let _ = reader.cancel();
            return;
        }
        let result: web_sys::ReadableStreamReadResult = result.unchecked_into();
        if result.get_done().unwrap_or(true) {
            break;
        }
        let chunk: js_sys::Uint8Array = result.get_value().unchecked_into();
        let t = now_ms();
        piece.resize(chunk.length() as usize, 0);
        chunk.copy_to(&mut piece);
        parser.feed(&piece);
        parse_ms += now_ms() - t;
    }
    let t = now_ms();
    let parsed = parser.finish();
    parse_ms += now_ms() - t;
    let worker_ms = (now_ms() - started) as u32;
    let reply = ENGINE.with(|e| e.borrow_mut().parsed(file, parsed, parse_ms as u32, worker_ms));
    post(reply);
}

/// Sends a reply to the page; then frees the previous file (nobody waits for that).
fn post((reply, payload): (Reply, Option<Vec<u8>>)) {
    let payload = payload.map(|bytes| JsValue::from(js_sys::Uint8Array::from(bytes.as_slice()).buffer()));
    if let (Some((message, transfer)), Ok(scope)) =
        (protocol::encode(&reply, payload.as_ref()), js_sys::global().dyn_into::<web_sys::DedicatedWorkerGlobalScope>())
    {
        let _ = scope.post_message_with_transfer(&message, &transfer);
    }
    ENGINE.with(|e| e.borrow_mut().drop_stale());
}

fn main() {}
