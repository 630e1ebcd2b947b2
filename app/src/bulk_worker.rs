//! Parsing bulk-registration files off the page's thread.
//!
//! Parsing and checking a 100,000-row file takes tens of milliseconds in the browser, and
//! reading it as long again: too long to block the page. It runs in a Web Worker instead: a small wasm
//! module of its own (`app/src/bin/bulk_worker.rs`, loaded by `public/bulk-worker.js`), so
//! that the parser is not part of the console's first load. The page hands it the `File`;
//! the worker reads it and parses it as it reads. The worker keeps the parsed file;
//! the page sees only what it shows: the counts, one status byte per row, and the rows it
//! scrolls to, on request ([`protocol`]).

pub mod protocol;

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

pub use protocol::{FLAG_ERROR, Overview, Reply, Request, RowId, RowView, now_ms};

/// The page's side: sends requests to the worker and hands every reply to the callback given
/// at start.
pub struct Parser {
    worker: Option<web_sys::Worker>,
    /// Set when the worker failed.
    broken: Rc<std::cell::Cell<bool>>,
    _listeners: Vec<Closure<dyn FnMut(web_sys::MessageEvent)>>,
}

impl Parser {
    /// Starts the worker. `on_broken` is told when it fails later (the request in flight is
    /// then lost); [`Parser::is_running`] tells whether it runs.
    pub fn start(
        on_reply: impl Fn(Reply, Option<js_sys::ArrayBuffer>) + 'static,
        on_broken: impl Fn() + 'static,
    ) -> Parser {
        let broken = Rc::new(std::cell::Cell::new(false));
        let options = web_sys::WorkerOptions::new();
        options.set_type(web_sys::WorkerType::Module);
        let Ok(worker) = web_sys::Worker::new_with_options("/bulk-worker.js", &options) else {
            broken.set(true);
            return Parser { worker: None, broken, _listeners: Vec::new() };
        };
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some((reply, payload)) = protocol::decode::<Reply>(&e.data()) {
                on_reply(reply, payload.and_then(|p| p.dyn_into().ok()));
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // The event is an `ErrorEvent`; only the fact matters.
        let failed = broken.clone();
        let on_error = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
            failed.set(true);
            on_broken();
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Parser { worker: Some(worker), broken, _listeners: vec![on_message, on_error] }
    }

    /// Whether the worker runs (it started and has not failed).
    pub fn is_running(&self) -> bool {
        self.worker.is_some() && !self.broken.get()
    }

    /// Sends a request, with the file (a `File`) or nothing as payload.
    pub fn send(&self, request: &Request, payload: Option<&JsValue>) {
        let Some(worker) = &self.worker else { return };
        if let Some((message, transfer)) = protocol::encode(request, payload) {
            let _ = worker.post_message_with_transfer(&message, &transfer);
        }
    }
}

impl Drop for Parser {
    fn drop(&mut self) {
        if let Some(worker) = &self.worker {
            worker.terminate();
        }
    }
}
