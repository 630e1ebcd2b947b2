// The bulk-registration file parser's Web Worker: loads the worker's wasm module (built from
// app/src/bin/bulk_worker.rs) and hands it each message. Messages that arrive while the
// module loads wait for it, in order.
import init, { bulk_worker_message } from '/pkg/anchorage_bulk_worker.js';

const ready = init();
self.onmessage = (event) => {
  ready.then(() => bulk_worker_message(event.data));
};
