// Benchmark: parsing and checking a 100,000-row bulk-registration file (~11 MB) in the
// console, against PapaParse (`header: true`) parsing the same file in the same page.
//
// Ours: from the file input's change event to the preview showing its counts and first rows
// (`data-ready-ms`, measured by the page: read the file, transfer it to the worker, parse and
// validate with anchorage_common::bulk, send the row flags back, render). The worker's own
// `bulk::parse` time is `data-parse-ms`. PapaParse: from the File object to parsed rows
// (`file.text()` then `Papa.parse`), on the page's thread. Runs are interleaved; medians are
// printed. Not part of the test run: `cd end2end && npm run bench` (BENCH_RUNS=n to change
// the number of runs; ANCHORAGE_BIN as for the tests).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, test } from '@playwright/test';
import { navigate, openConsole } from '../tests/support';

const ROWS = 100_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

function makeFile(): { file: string; bytes: number } {
  const lines = ['ID;TYPE;NAME;PATH;AUTH_TYPE;CREDENTIALS'];
  for (let i = 0; i < ROWS; i += 1) {
    const n = String(i).padStart(6, '0');
    lines.push(`bench-device-${n};c8y_Linux;Device ${n} hall ${i % 7};Region ${i % 5}/Site ${i % 13}/Hall ${i % 7};BASIC;pw-${n}-correct-horse-battery`);
  }
  const text = lines.join('\n') + '\n';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'anchorage-bench-'));
  const file = path.join(dir, 'bulk-100k.csv');
  fs.writeFileSync(file, text);
  return { file, bytes: Buffer.byteLength(text) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test('bulk file parse: anchorage vs PapaParse', async ({ page }) => {
  const { file, bytes } = makeFile();
  await openConsole(page);
  await navigate(page, 'Bulk registration');
  await page.addScriptTag({ path: require.resolve('papaparse/papaparse.min.js') });
  // A second file input for PapaParse (the page's own input forgets its file once read), and a
  // record of the longest main-thread task.
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

  const ours: number[] = [];
  const parse: number[] = [];
  const read: number[] = [];
  const parsed: number[] = [];
  const longest: number[] = [];
  const papa: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    await page.evaluate(() => {
      document.querySelector('.bulk-preview')?.setAttribute('data-old', '');
      (window as unknown as { gc?: () => void }).gc?.();
      (window as unknown as { longest: number }).longest = 0;
    });
    await page.getByLabel('CSV file').setInputFiles(file);
    const preview = page.locator('.bulk-preview[data-ready-ms]:not([data-old])');
    await expect(preview).toBeVisible();
    await expect(page.getByRole('list', { name: 'Counts' }).getByRole('listitem').first()).toHaveText('100,000 rows');
    ours.push(Number(await preview.getAttribute('data-ready-ms')));
    parse.push(Number(await preview.getAttribute('data-parse-ms')));
    read.push(Number(await preview.getAttribute('data-read-ms')));
    parsed.push(Number(await preview.getAttribute('data-parsed-ms')));
    longest.push(await page.evaluate(() => (window as unknown as { longest: number }).longest));

    const result = await page.evaluate(async () => {
      (window as unknown as { gc?: () => void }).gc?.();
      const input = document.getElementById('bench-file') as HTMLInputElement;
      const f = input.files![0];
      const Papa = (window as unknown as { Papa: { parse: (t: string, o: object) => { data: unknown[] } } }).Papa;
      const t0 = performance.now();
      const text = await f.text();
      const parsed = Papa.parse(text, { header: true, skipEmptyLines: true });
      return { ms: performance.now() - t0, rows: parsed.data.length };
    });
    expect(result.rows).toBe(ROWS);
    papa.push(result.ms);
  }

  const mb = bytes / 1e6;
  const oursMs = median(ours);
  const papaMs = median(papa);
  const lines = [
    `file: ${ROWS.toLocaleString('en')} rows, ${mb.toFixed(1)} MB; ${RUNS} runs each, medians`,
    `anchorage (file chosen -> preview + validation complete): ${oursMs.toFixed(0)} ms, ${(mb / (oursMs / 1000)).toFixed(1)} MB/s  [runs: ${ours.map((x) => x.toFixed(0)).join(', ')}]`,
    `  file read: ${median(read).toFixed(0)} ms; parse reply received: ${median(parsed).toFixed(0)} ms (medians, from the change event)`,
    `  bulk::parse in the worker: ${median(parse).toFixed(0)} ms  [runs: ${parse.map((x) => x.toFixed(0)).join(', ')}]`,
    `  longest main-thread task meanwhile: ${median(longest).toFixed(0)} ms`,
    `PapaParse 5.7.1 (File -> text -> Papa.parse header:true): ${papaMs.toFixed(0)} ms, ${(mb / (papaMs / 1000)).toFixed(1)} MB/s  [runs: ${papa.map((x) => x.toFixed(0)).join(', ')}]`,
    `throughput ratio anchorage / PapaParse: ${(papaMs / oursMs).toFixed(2)}x`,
  ];
  console.log(lines.join('\n'));
});
