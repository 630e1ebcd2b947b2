//! The bulk-registration parser's Web Worker, a wasm module of its own so that the parser is
//! not part of the console's first load. `public/bulk-worker.js` loads it and hands every
//! message from the page to [`bulk_worker_message`].
//!
//! The page sends the chosen `File`; the worker hands it to a reader of its own, a nested
//! worker (`public/bulk-reader.js`) that reads it as a stream and sends the pieces back as
//! they come, and parses each piece as it arrives (`bulk::StreamParser`): reading and parsing
//! overlap, on two threads, and the bytes are copied once, from the piece into the parser.
//! Where a worker cannot start a worker, it reads the file itself, taking turns.

#[path = "../bulk_worker/engine.rs"]
mod engine;
#[path = "../bulk_worker/protocol.rs"]
mod protocol;

use std::cell::RefCell;

use anchorage_common::bulk::StreamParser;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use engine::Engine;
use protocol::{Reply, Request, now_ms};

/// The file being read: its number, the file, its parser, when it was asked for and the
/// parser's time so far.
struct Reading {
    file: u32,
    blob: web_sys::Blob,
    parser: StreamParser,
    started: f64,
    parse_ms: f64,
}

/// The reader worker and its message handler (kept alive with it).
struct Reader {
    worker: web_sys::Worker,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
}

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::default());
    /// The latest file asked for; pieces of any other are dropped.
    static READING: RefCell<Option<Reading>> = const { RefCell::new(None) };
    /// Started with the worker; `None` where it could not be, or once it failed.
    static READER: RefCell<Option<Reader>> = RefCell::new(start_reader());
}

/// Answers one message from the page.
#[wasm_bindgen]
pub fn bulk_worker_message(data: JsValue) {
    let Some((request, payload)) = protocol::decode::<Request>(&data) else { return };
    if let Request::Parse { file } = request {
        let Some(blob) = payload.and_then(|p| p.dyn_into::<web_sys::Blob>().ok()) else {
            post(Engine::unreadable(file, "The file could not be read."));
            return;
        };
        let parser = StreamParser::new(blob.size() as usize);
        let reading = Reading { file, blob: blob.clone(), parser, started: now_ms(), parse_ms: 0.0 };
        READING.with(|r| *r.borrow_mut() = Some(reading));
        let handed = READER.with(|r| {
            r.borrow().as_ref().is_some_and(|r| r.worker.post_message(&js_sys::Array::of2(&file.into(), &blob)).is_ok())
        });
        if !handed {
            wasm_bindgen_futures::spawn_local(read_itself(file, blob));
        }
        return;
    }
    let reply = ENGINE.with(|e| e.borrow_mut().handle(request));
    post(reply);
}

/// Starts the reader worker; its messages are pieces of the file being read.
fn start_reader() -> Option<Reader> {
    let worker = web_sys::Worker::new("/bulk-reader.js").ok()?;
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(|e: web_sys::MessageEvent| {
        let data: js_sys::Array = e.data().unchecked_into();
        let Some(file) = data.get(0).as_f64() else { return };
        let piece = data.get(1);
        match piece.dyn_into::<js_sys::Uint8Array>() {
            Ok(piece) => feed(file as u32, &piece),
            Err(end) => finish(file as u32, end.is_null()),
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // A reader that could not start (its script did not load) or broke: this worker reads
    // from then on, starting again the file being read, if any.
    let on_error = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(|_| {
        if let Some(reader) = READER.with(|r| r.borrow_mut().take()) {
            reader.worker.terminate();
        }
        let again = READING.with(|r| {
            r.borrow_mut().as_mut().map(|r| {
                r.parser = StreamParser::new(r.blob.size() as usize);
                r.parse_ms = 0.0;
                (r.file, r.blob.clone())
            })
        });
        if let Some((file, blob)) = again {
            wasm_bindgen_futures::spawn_local(read_itself(file, blob));
        }
    });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    Some(Reader { worker, _on_message: on_message })
}

/// Reads the file in this worker, where no reader could be started (taking turns: the next
/// piece comes only when this worker waits for it).
async fn read_itself(file: u32, blob: web_sys::Blob) {
    let reader: web_sys::ReadableStreamDefaultReader = blob.stream().get_reader().unchecked_into();
    loop {
        let Ok(result) = JsFuture::from(reader.read()).await else {
            finish(file, false);
            return;
        };
        if READING.with(|r| r.borrow().as_ref().map(|r| r.file)) != Some(file) {
            let _ = reader.cancel();
            return;
        }
        let result: web_sys::ReadableStreamReadResult = result.unchecked_into();
        if result.get_done().unwrap_or(true) {
            break;
        }
        feed(file, &result.get_value().unchecked_into());
    }
    finish(file, true);
}

/// The next piece of file number `file`, parsed at once (a piece of an earlier file is dropped).
fn feed(file: u32, piece: &js_sys::Uint8Array) {
    READING.with(|r| {
        let mut reading = r.borrow_mut();
        let Some(reading) = reading.as_mut().filter(|r| r.file == file) else { return };
        let t = now_ms();
        reading.parser.feed_with(piece.length() as usize, |space| piece.copy_to(space));
        reading.parse_ms += now_ms() - t;
    });
}

/// File number `file` was read to its end (`read`), or could not be: answers the page.
fn finish(file: u32, read: bool) {
    let Some(reading) = READING.with(|r| r.borrow_mut().take_if(|r| r.file == file)) else { return };
    if !read {
        post(Engine::unreadable(file, "The file could not be read."));
        return;
    }
    let t = now_ms();
    let parsed = reading.parser.finish();
    let parse_ms = reading.parse_ms + now_ms() - t;
    let worker_ms = (now_ms() - reading.started) as u32;
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

fn main() {
    // The reader starts with the worker, so it is ready when the first file comes.
    READER.with(|_| ());
}
