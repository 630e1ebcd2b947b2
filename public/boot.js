// Loads the console's wasm and mounts it. Kept in its own file so the page has no inline
// script (the Content-Security-Policy allows scripts from 'self' only).
import init, { start } from '/pkg/anchorage_app.js';

init().then(() => start());
