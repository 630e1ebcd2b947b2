// Loads the console's wasm. Kept in its own file so the page has no inline script (the
// Content-Security-Policy allows scripts from 'self' only).
import init from '/pkg/anchorage_app.js';

init();
