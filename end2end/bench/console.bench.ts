// Benchmark: the console's time to interactive and memory, in headless Chromium on localhost,
// each run in a fresh tab (a browser context of its own: empty cache, so the console is
// downloaded, compiled and started each time, as on a first visit):
// - the login page, opened logged out;
// - the trusted-certificates page with 2,000 certificates (the tenant gets them first, through
//   the bulk API), opened by a logged-in admin (the session cookie of one login, reused).
// Time to interactive: from the navigation's start (performance.now()'s origin) to the first
// moment the page's content is in the DOM (the login form's button; every one of the 2,000
// rows and the list no longer busy), then the next frame is drawn and the thread is free
// again (a task queued after that frame runs): when a click would be handled. It is recorded
// by a script that runs before the page's own (addInitScript) and awaited in one evaluation,
// so that nothing polls the page meanwhile (and the Playwright trace is off: bench.config.ts).
// Memory: the tab's renderer process (tab.ts) once interactive, its resident set and its peak
// since the tab opened.
// Median of BENCH_TTI_RUNS runs (default 9); written to BENCH_JSON (section "console") when set.
// BENCH_TRACE=<file.json> records a Chromium trace of the last trusted-certificates run (open it
// in DevTools' Performance panel; tracing slows that run, so take the times from a run without).
// Not part of the test run: `cd end2end && npm run bench -- console` (scripts/bench.sh runs it).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { APIRequestContext, Browser, expect, test } from '@playwright/test';
import { DEVICE_BIN } from '../tests/servers';
import { adminAuth, logIn, tenantId } from '../tests/support';
import { loadAverage, median, newTab, record } from './tab';

const RUNS = Number(process.env.BENCH_TTI_RUNS ?? 9);
const CERTIFICATES = 2000;
// The bulk API's limit a request (common's MAX_BULK_CERTIFICATES).
const BULK = 500;

type Watch = { kind: 'login' | 'certificates'; rows: number };

/** Runs in the page before its scripts: window.__tti is a promise of the time the page is
 * interactive. */
function watch({ kind, rows }: Watch): void {
  const ready =
    kind === 'login'
      ? () => [...document.querySelectorAll('button')].some((b) => b.textContent?.trim() === 'Log in')
      : () => document.querySelectorAll('table.certificates tbody tr').length >= rows && !document.querySelector('section.page[aria-busy]');
  (window as unknown as { __tti: Promise<number> }).__tti = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (!ready()) return;
      observer.disconnect();
      requestAnimationFrame(() => setTimeout(() => resolve(performance.now())));
    });
    observer.observe(document, { subtree: true, childList: true, attributes: true });
  });
}

interface Figures {
  timeToInteractiveMs: number;
  runsMs: number[];
  rssBytes: number;
  peakRssBytes: number;
}

async function measure(browser: Browser, what: Watch, storageState?: string): Promise<Figures> {
  const tti: number[] = [];
  const rss: number[] = [];
  const peak: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const tab = await newTab(browser, storageState ? { storageState } : {});
    await tab.context.addInitScript(watch, what);
    const trace = process.env.BENCH_TRACE && what.kind === 'certificates' && run === RUNS - 1 ? process.env.BENCH_TRACE : undefined;
    if (trace) await browser.startTracing(tab.page, { path: trace, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute'] });
    await tab.open('/');
    // One evaluation that waits for the page's own promise: nothing polls the page meanwhile.
    tti.push(await tab.page.evaluate(() => (window as unknown as { __tti: Promise<number> }).__tti));
    if (trace) await browser.stopTracing();
    rss.push(tab.rss());
    peak.push(tab.peak());
    // Interactive indeed: the page answers.
    if (what.kind === 'login') {
      await expect(tab.page.getByRole('button', { name: 'Log in' })).toBeEnabled();
    } else {
      await expect(tab.page.locator('table.certificates tbody tr')).toHaveCount(what.rows);
    }
    await tab.close();
  }
  return { timeToInteractiveMs: median(tti), runsMs: tti, rssBytes: median(rss), peakRssBytes: median(peak) };
}

async function trustCertificates(request: APIRequestContext, count: number): Promise<void> {
  const tenant = await tenantId(request);
  const url = `/tenant/tenants/${tenant}/trusted-certificates`;
  const have = (await (await request.get(`${url}?pageSize=1&withTotalElements=true`, { headers: { Authorization: adminAuth() } })).json())
    .statistics.totalElements as number;
  if (have >= count) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'anchorage-bench-cas-'));
  execFileSync(DEVICE_BIN, ['pki', '--out', dir, '--devices', '1', '--p12-password', 'bench', '--unrelated-cas', String(count - have)], {
    stdio: 'pipe',
  });
  const pems = fs.readFileSync(path.join(dir, 'unrelated-cas.pem'), 'utf8').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  expect(pems.length).toBe(count - have);
  for (let i = 0; i < pems.length; i += BULK) {
    const certificates = pems.slice(i, i + BULK).map((pem, j) => ({
      name: `bench CA ${String(have + i + j + 1).padStart(4, '0')}`,
      certInPemFormat: pem,
      status: 'ENABLED',
      autoRegistrationEnabled: false,
    }));
    const res = await request.post(`${url}/bulk`, { headers: { Authorization: adminAuth(), Accept: 'application/json' }, data: { certificates } });
    expect(res.status(), await res.text()).toBe(201);
  }
  fs.rmSync(dir, { recursive: true });
}

test('console: time to interactive and memory', async ({ browser, request }) => {
  test.setTimeout(300_000);
  const loadBefore = loadAverage();
  const login = await measure(browser, { kind: 'login', rows: 0 });

  await trustCertificates(request, CERTIFICATES);
  const state = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'anchorage-bench-')), 'state.json');
  const tab = await newTab(browser);
  await tab.open('/');
  await logIn(tab.page);
  await tab.context.storageState({ path: state });
  await tab.close();
  const certificates = await measure(browser, { kind: 'certificates', rows: CERTIFICATES }, state);
  const loadAfter = loadAverage();

  const mb = (x: number) => `${(x / 1e6).toFixed(1)} MB`;
  const line = (name: string, f: Figures) =>
    `${name}: ${f.timeToInteractiveMs.toFixed(0)} ms (goal <= 300 ms: ${f.timeToInteractiveMs <= 300 ? 'met' : 'NOT met'}); ` +
    `the tab's memory ${mb(f.rssBytes)}, peak ${mb(f.peakRssBytes)}  [runs: ${f.runsMs.map((x) => x.toFixed(0)).join(', ')}]`;
  console.log(
    [
      `Console time to interactive, headless Chromium on localhost, ${RUNS} runs each in a fresh tab; medians`,
      `machine: ${os.cpus().length} CPUs; load average (1, 5, 15 min) before: ${loadBefore}, after: ${loadAfter}`,
      line('login page', login),
      line(`trusted certificates, ${CERTIFICATES.toLocaleString('en')} rows`, certificates),
    ].join('\n'),
  );
  record('console', { runs: RUNS, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter, login, trustedCertificates: { rows: CERTIFICATES, ...certificates } });
});
