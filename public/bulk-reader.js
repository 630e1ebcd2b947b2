// The bulk-registration parser's file reader: a Web Worker that the parser's worker
// (bulk-worker.js) starts. It reads each file it is handed, `[file number, File]`, as a stream
// and sends every piece back as it comes, `[file number, Uint8Array]` (transferred, not
// copied), then `[file number, null]` at the end, or `[file number, false]` if the file could
// not be read. A thread of its own: a thread that reads a stream gets the next piece only
// when it waits for it, so the parser reading the file itself would take turns reading and
// parsing instead of doing both at once. Reading stops when another file is handed over.
let latest = 0;
self.onmessage = async ({ data: [file, blob] }) => {
  latest = file;
  try {
    const reader = blob.stream().getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (file !== latest) {
        reader.cancel();
        return;
      }
      if (done) break;
      self.postMessage([file, value], [value.buffer]);
    }
    self.postMessage([file, null]);
  } catch {
    if (file === latest) self.postMessage([file, false]);
  }
};
