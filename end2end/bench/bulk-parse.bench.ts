// Benchmark: the bulk-registration preview (parse and check every row) against PapaParse
// (`header: true`) parsing the same file in the same tab, at 1,000, 10,000, 100,000 and
// 1,000,000 rows (BENCH_ROWS=a,b,… to choose), each run in a fresh tab (a browser context of
// its own), runs interleaved: ours, then each PapaParse variant.
//
// Both sides start from the same point, a `File` the page holds, and end with every row
// parsed (ours: also checked against every rule, and the preview rendered):
// - anchorage: from the file input's change event to the preview showing its counts and
//   first rows (`data-ready-ms`, measured by the page: the File goes to the Web Worker,
//   which reads it as a stream and parses and checks each piece as it arrives; the row flags
//   and first rows come back; the page renders). Also printed: when the worker's reply
//   arrived (`data-parsed-ms`), the worker's read + parse time (`data-worker-ms`) and the
//   parser's own share of it (`data-parse-ms`). Each tab first previews a one-row file, so
//   that the worker is started and compiled, as for a user who picks a second file (the
//   first file's start-up is in the console's time to interactive, console.bench.ts).
// - PapaParse 5.7.1 with `header: true` (and `skipEmptyLines`, as our parser skips blank
//   lines), on the page's thread, two idiomatic ways: `Papa.parse(await file.text())`, and
//   `Papa.parse(file)` (PapaParse reading the file itself). The ratio is taken against the
//   faster of the two.
// - Memory: the tab's renderer process (the page and its workers) as the kernel counts it:
//   its peak resident set during each side's run less its resident set at the start of the
//   run (the peak is reset to it then; tab.ts), after a garbage collection.
// Medians are printed, with the machine's load average before and after, and written to
// BENCH_JSON (section "bulkPreview") when set.
// BENCH_TRACE=<file.json> records a Chromium trace of our side's last run at the largest size
// (open it in Chrome's DevTools Performance panel or ui.perfetto.dev).
// Not part of the test run: `cd end2end && npm run bench` (BENCH_RUNS=n to change the number
// of runs, default 5; ANCHORAGE_BIN as for the tests). scripts/bench.sh runs it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Page, expect, test } from '@playwright/test';
import { logIn, navigate } from '../tests/support';
import { loadAverage, median, newTab, record } from './tab';

const SIZES = (process.env.BENCH_ROWS ?? '1000,10000,100000,1000000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'anchorage-bench-'));

function makeFile(rows: number): { file: string; bytes: number } {
  const file = path.join(dir, `bulk-${rows}.csv`);
  const out = fs.openSync(file, 'w');
  let bytes = 0;
  const write = (s: string) => {
    fs.writeSync(out, s);
    bytes += Buffer.byteLength(s);
  };
  write('ID;TYPE;NAME;PATH;AUTH_TYPE;CREDENTIALS\n');
  for (let start = 0; start < rows; start += 10_000) {
    const lines = [];
    for (let i = start; i < Math.min(rows, start + 10_000); i += 1) {
      const n = String(i).padStart(7, '0');
      lines.push(`bench-device-${n};c8y_Linux;Device ${n} hall ${i % 7};Region ${i % 5}/Site ${i % 13}/Hall ${i % 7};BASIC;pw-${n}-correct-horse-battery\n`);
    }
    write(lines.join(''));
  }
  fs.closeSync(out);
  return { file, bytes };
}

/** Chooses `file` in the page's CSV input and waits for its preview, without polling the page
 * (Playwright's visibility checks force style and layout, which would land inside the interval
 * being measured). */
async function preview(page: Page, file: string): Promise<void> {
  await page.evaluate(() => {
    document.querySelector('.bulk-preview')?.setAttribute('data-old', '');
    (window as unknown as { gc?: () => void }).gc?.();
    (window as unknown as { longest: number }).longest = 0;
  });
  const shown = page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const ready = () => document.querySelector('.bulk-preview[data-ready-ms]:not([data-old])') !== null;
        const observer = new MutationObserver(() => {
          if (ready()) {
            observer.disconnect();
            resolve();
          }
        });
        observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-ready-ms'] });
      }),
  );
  await page.getByLabel('CSV file').setInputFiles(file);
  await shown;
}

const gc = (page: Page) => page.evaluate(() => (window as unknown as { gc?: () => void }).gc?.());

interface Size {
  rows: number;
  bytes: number;
  runs: number;
  anchorageMs: number;
  anchorageRunsMs: number[];
  workerReplyMs: number;
  workerMs: number;
  parserMs: number;
  longestMainThreadTaskMs: number;
  papaTextMs: number;
  papaFileMs: number;
  timesPapaParse: number;
  anchoragePeakBytes: number;
  papaTextPeakBytes: number;
  papaFilePeakBytes: number;
  loadAverageBefore: string;
  loadAverageAfter: string;
}
const results: Size[] = [];

for (const rows of SIZES) {
  test(`bulk file parse, ${rows.toLocaleString('en')} rows: anchorage vs PapaParse`, async ({ browser }) => {
    test.setTimeout(120_000 + rows * 0.5);
    const loadBefore = loadAverage();
    const { file, bytes } = makeFile(rows);
    const one = makeFile(1).file;
    const m = {
      ours: [] as number[], parsed: [] as number[], worker: [] as number[], parse: [] as number[], longest: [] as number[],
      papaText: [] as number[], papaFile: [] as number[], oursPeak: [] as number[], textPeak: [] as number[], filePeak: [] as number[],
    };
    for (let run = 0; run < RUNS; run += 1) {
      const tab = await newTab(browser);
      const page = tab.page;
      await tab.open('/');
      await logIn(page);
      await navigate(page, 'Bulk registration');
      await page.addScriptTag({ path: require.resolve('papaparse/papaparse.min.js') });
      // A second file input for PapaParse (the page's own input forgets its file once read), and
      // a record of the longest main-thread task.
      await page.evaluate(() => {
        const input = document.createElement('input');
        input.type = 'file';
        input.id = 'bench-file';
        input.hidden = true;
        document.body.append(input);
        const w = window as unknown as { longest: number };
        w.longest = 0;
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) w.longest = Math.max(w.longest, e.duration);
        }).observe({ type: 'longtask', buffered: false });
      });
      await page.locator('#bench-file').setInputFiles(file);
      await preview(page, one);

      await gc(page);
      let before = tab.resetPeak();
      const trace = process.env.BENCH_TRACE && run === RUNS - 1 && rows === Math.max(...SIZES) ? process.env.BENCH_TRACE : undefined;
      if (trace) await browser.startTracing(page, { path: trace, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'blink'] });
      await preview(page, file);
      if (trace) await browser.stopTracing();
      m.oursPeak.push(tab.peak() - before);
      const shown = page.locator('.bulk-preview[data-ready-ms]:not([data-old])');
      await expect(shown).toBeVisible();
      await expect(page.getByRole('list', { name: 'Counts' }).getByRole('listitem').first()).toHaveText(`${rows.toLocaleString('en')} rows`);
      m.ours.push(Number(await shown.getAttribute('data-ready-ms')));
      m.parsed.push(Number(await shown.getAttribute('data-parsed-ms')));
      m.worker.push(Number(await shown.getAttribute('data-worker-ms')));
      m.parse.push(Number(await shown.getAttribute('data-parse-ms')));
      m.longest.push(await page.evaluate(() => (window as unknown as { longest: number }).longest));

      await gc(page);
      before = tab.resetPeak();
      const text = await page.evaluate(async () => {
        const f = (document.getElementById('bench-file') as HTMLInputElement).files![0];
        const Papa = (window as unknown as { Papa: { parse: (t: string, o: object) => { data: unknown[] } } }).Papa;
        const t0 = performance.now();
        const parsed = Papa.parse(await f.text(), { header: true, skipEmptyLines: true });
        return { ms: performance.now() - t0, rows: parsed.data.length };
      });
      m.textPeak.push(tab.peak() - before);
      expect(text.rows).toBe(rows);
      m.papaText.push(text.ms);

      await gc(page);
      before = tab.resetPeak();
      const own = await page.evaluate(async () => {
        const f = (document.getElementById('bench-file') as HTMLInputElement).files![0];
        const Papa = (window as unknown as { Papa: { parse: (f: File, o: object) => void } }).Papa;
        const t0 = performance.now();
        const n = await new Promise<number>((resolve) =>
          Papa.parse(f, { header: true, skipEmptyLines: true, complete: (r: { data: unknown[] }) => resolve(r.data.length) }),
        );
        return { ms: performance.now() - t0, rows: n };
      });
      m.filePeak.push(tab.peak() - before);
      expect(own.rows).toBe(rows);
      m.papaFile.push(own.ms);
      await tab.close();
    }

    const mb = bytes / 1e6;
    const rate = (ms: number) => `${(mb / (ms / 1000)).toFixed(1)} MB/s`;
    const runs = (xs: number[]) => `[runs: ${xs.map((x) => x.toFixed(0)).join(', ')}]`;
    const mem = (x: number) => `${(x / 1e6).toFixed(1)} MB (${(x / bytes).toFixed(2)}x the file)`;
    const oursMs = median(m.ours);
    const papaMs = Math.min(median(m.papaText), median(m.papaFile));
    const ratio = papaMs / oursMs;
    const loadAfter = loadAverage();
    console.log(
      [
        `Bulk CSV preview: ${rows.toLocaleString('en')} rows, ${mb.toFixed(1)} MB; ${RUNS} interleaved runs, each in a fresh tab; medians`,
        `machine: ${os.cpus().length} CPUs; load average (1, 5, 15 min) before: ${loadBefore}, after: ${loadAfter}`,
        `anchorage, file chosen -> preview + validation complete: ${oursMs.toFixed(0)} ms, ${rate(oursMs)}  ${runs(m.ours)}`,
        `  worker's reply received by the page:   ${median(m.parsed).toFixed(0)} ms after the change event`,
        `  worker, read + parse (overlapped):     ${median(m.worker).toFixed(0)} ms  ${runs(m.worker)}`,
        `  of which the parser (bulk::StreamParser, every rule): ${median(m.parse).toFixed(0)} ms  ${runs(m.parse)}`,
        `  longest main-thread task meanwhile:    ${median(m.longest).toFixed(0)} ms`,
        `  the tab's memory, peak over the run:   ${mem(median(m.oursPeak))}`,
        `PapaParse 5.7.1 header:true, File -> file.text() -> Papa.parse: ${median(m.papaText).toFixed(0)} ms, ${rate(median(m.papaText))}, ${mem(median(m.textPeak))}  ${runs(m.papaText)}`,
        `PapaParse 5.7.1 header:true, Papa.parse(File):                  ${median(m.papaFile).toFixed(0)} ms, ${rate(median(m.papaFile))}, ${mem(median(m.filePeak))}  ${runs(m.papaFile)}`,
        `throughput ratio anchorage / faster PapaParse: ${ratio.toFixed(2)}x  (goal >= 1.5x: ${ratio >= 1.5 ? 'met' : 'NOT met'})`,
      ].join('\n'),
    );
    results.push({
      rows, bytes, runs: RUNS, anchorageMs: oursMs, anchorageRunsMs: m.ours, workerReplyMs: median(m.parsed),
      workerMs: median(m.worker), parserMs: median(m.parse), longestMainThreadTaskMs: median(m.longest),
      papaTextMs: median(m.papaText), papaFileMs: median(m.papaFile), timesPapaParse: ratio,
      anchoragePeakBytes: median(m.oursPeak), papaTextPeakBytes: median(m.textPeak), papaFilePeakBytes: median(m.filePeak),
      loadAverageBefore: loadBefore, loadAverageAfter: loadAfter,
    });
    record('bulkPreview', results);
    fs.rmSync(file);
  });
}
