// What the console's first load is (issue 2: ≤ 150 KB gzip), measured where it matters: the
// files Chromium fetches to show the login page and, after the login, the home page. The other
// pages and the certificate checks are wasm chunks (app/src/lazy.rs), fetched when first
// needed: none of them may be in the first load, and each page must work once fetched.
import { APIRequestContext, Page, Request, expect, test } from '@playwright/test';
import { logIn, navigate } from './support';

/** The first load's goal: 150 KB (not KiB) of gzip, as the server sends it. */
const GOAL_GZIP_BYTES = 150_000;
/** What the first load is today, rounded up: it may shrink, not grow unnoticed. 148,9xx B
 * after proof of possession, revocation and the chain doctor (146,748 B before); 158,886 B
 * with issue 16's console, then 148,825 B once toasts were plain elements, the later parts'
 * styles moved to pages.css, wasm-streams' unused classes dropped and two split points merged
 * (docs/benchmarks.md); 149,313 B with issue 17's fixes (subjects shown with <U+XXXX> escapes,
 * timestamps refused outside the printable years). */
const REGRESSION_BUDGET_GZIP_BYTES = 149_500;

/** The console's own files (not the API calls) the page has requested so far. */
function recordFiles(page: Page): string[] {
  const files: string[] = [];
  page.on('request', (request: Request) => {
    const url = new URL(request.url());
    const isFile = ['document', 'script', 'stylesheet', 'image'].includes(request.resourceType()) || url.pathname.endsWith('.wasm');
    if (isFile) files.push(url.pathname);
  });
  return files;
}

const isChunk = (path: string) => /^\/pkg\/.*\.wasm$/.test(path) && path !== '/pkg/anchorage_app_bg.wasm';

/** Opens the console, logs in, and measures what was fetched: the files, and their gzip bytes
 * as the server sends them (its precompressed .gz). */
async function firstLoad(page: Page, request: APIRequestContext): Promise<{ files: string[]; gzipBytes: number }> {
  const files = recordFiles(page);
  await page.goto('/');
  await logIn(page);
  await expect(page.getByRole('button', { name: 'Add trusted certificate' }).first()).toBeVisible();
  let gzipBytes = 0;
  const sizes: string[] = [];
  for (const path of [...new Set(files)]) {
    const res = await request.get(path, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(res.status(), path).toBe(200);
    expect(res.headers()['content-encoding'], path).toBe('gzip');
    const length = Number(res.headers()['content-length']);
    expect(length, `${path} has a Content-Length`).toBeGreaterThan(0);
    gzipBytes += length;
    sizes.push(`${path} ${length}`);
  }
  console.log(`first load, gzip: ${gzipBytes} bytes\n  ${sizes.join('\n  ')}`);
  return { files, gzipBytes };
}

test('the first load is the login and the home page only, and does not grow', async ({ page, request }) => {
  const { files, gzipBytes } = await firstLoad(page, request);
  expect(files.filter(isChunk), 'no chunk is part of the first load').toEqual([]);
  expect(files).toContain('/pkg/anchorage_app_bg.wasm');
  expect(files).toContain('/pkg/__wasm_split.js');
  // Today's size plus a little: a change that makes the first load grow must say so here
  // (and in docs/benchmarks.md).
  expect(gzipBytes, 'first load (gzip bytes)').toBeLessThanOrEqual(REGRESSION_BUDGET_GZIP_BYTES);
});

test('the first load is within 150 KB gzip (issue 2)', async ({ page, request }) => {
  const { gzipBytes } = await firstLoad(page, request);
  expect(gzipBytes, 'first load (gzip bytes)').toBeLessThanOrEqual(GOAL_GZIP_BYTES);
});

test('each page and the certificate checks fetch their chunk when first needed, and work', async ({ page }) => {
  const files = recordFiles(page);
  await page.goto('/');
  await logIn(page);
  expect(files.filter(isChunk)).toEqual([]);
  expect(files, 'the later parts\' styles are not in the first load').not.toContain('/pages.css');

  // Each page fetches at least its own chunk the first time (a chunk of code shared by several
  // pages comes with the first of them); the page then shows.
  for (const name of ['Devices', 'Bulk registration', 'Settings', 'Users', 'Audit']) {
    const before = files.filter(isChunk).length;
    await navigate(page, name);
    expect(files.filter(isChunk).length, `${name} fetched its chunk`).toBeGreaterThan(before);
    // The styles of what loads later came with the first chunk, once, and apply.
    expect(files.filter((f) => f === '/pages.css'), `${name}: pages.css fetched once`).toHaveLength(1);
    const rules = await page.evaluate(() =>
      [...document.styleSheets].filter((s) => s.href?.endsWith('/pages.css')).map((s) => s.cssRules.length));
    expect(rules.length, 'pages.css applied').toBe(1);
    expect(rules[0]).toBeGreaterThan(50);
  }
  // A page visited again is not fetched again.
  const chunks = files.filter(isChunk).length;
  await navigate(page, 'Devices');
  await navigate(page, 'Trusted certificates');
  expect(files.filter(isChunk).length).toBe(chunks);
  expect(new Set(files.filter(isChunk)).size, 'no chunk fetched twice').toBe(chunks);

  // The add dialog's certificate checks are a chunk of their own.
  await page.getByRole('button', { name: 'Add trusted certificate' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Add trusted certificate' });
  await expect(dialog.getByLabel('Paste PEM')).toBeVisible();
  expect(files.filter(isChunk).length, 'the add dialog fetched its chunk').toBeGreaterThan(chunks);
});

test('a chunk that cannot be fetched is explained in words, and trying again works', async ({ page }) => {
  await page.goto('/');
  await logIn(page);
  await page.route(/\/pkg\/.*\.wasm$/, (route) =>
    isChunk(new URL(route.request().url()).pathname) ? route.abort('connectionreset') : route.continue(),
  );
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users', exact: true }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('This page could not be loaded.');
  await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toHaveCount(0);

  await page.unroute(/\/pkg\/.*\.wasm$/);
  await alert.getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
});
