// Loads the console's wasm and mounts it. Kept in its own file so the page has no inline
// script (the Content-Security-Policy allows scripts from 'self' only).
import init, { start } from '/pkg/anchorage_app.js';

// The styles of what loads later (every page but the login and the trusted certificates,
// dialogs, a certificate's details): added once, with the first chunk (app/src/lazy.rs); the
// promise settles when the sheet is applied (or could not be fetched: the part still shows).
let pages;
window.anchorageStyles = () => pages ??= new Promise((done) => {
  const link = Object.assign(document.createElement('link'), { rel: 'stylesheet', href: '/pages.css' });
  link.onload = link.onerror = () => done();
  document.head.append(link);
});

init().then(() => start());
