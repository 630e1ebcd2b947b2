// The bulk-registration file parser's Web Worker: the console's own wasm module, loaded
// here without mounting the page, answers each message (see app/src/bulk_worker.rs).
// Messages that arrive while the module loads wait for it, in order.
import init, { bulk_worker_message } from '/pkg/anchorage_app.js';

const ready = init();
self.onmessage = (event) => {
  ready.then(() => bulk_worker_message(event.data));
};
