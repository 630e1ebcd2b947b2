//! The bulk-registration parser's Web Worker, a wasm module of its own so that the parser is
//! not part of the console's first load. `public/bulk-worker.js` loads it and hands every
//! message from the page to [`bulk_worker_message`].

#[path = "../bulk_worker/engine.rs"]
mod engine;
#[path = "../bulk_worker/protocol.rs"]
mod protocol;

use std::cell::RefCell;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use engine::Engine;
use protocol::Request;

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::default());
}

/// Answers one message from the page.
#[wasm_bindgen]
pub fn bulk_worker_message(data: JsValue) {
    let Some((request, payload)) = protocol::decode::<Request>(&data) else { return };
    let payload = payload.map(|b| js_sys::Uint8Array::new(&b).to_vec());
    let (reply, payload) = ENGINE.with(|e| e.borrow_mut().handle(request, payload));
    let payload = payload.map(|bytes| js_sys::Uint8Array::from(bytes.as_slice()).buffer());
    if let (Some((message, transfer)), Ok(scope)) =
        (protocol::encode(&reply, payload), js_sys::global().dyn_into::<web_sys::DedicatedWorkerGlobalScope>())
    {
        let _ = scope.post_message_with_transfer(&message, &transfer);
    }
    // Freed after the reply is on its way: nobody waits for it then.
    ENGINE.with(|e| e.borrow_mut().drop_stale());
}

fn main() {}
