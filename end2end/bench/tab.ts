// What the benchmarks need beyond Playwright: a fresh tab whose renderer process is known, its
// memory as the kernel counts it (resident set, and its peak since a reset), and a results
// file. Linux only (procfs); the renderer is Chromium's `--type=renderer` process that appeared
// with the tab (a new browser context never shares a renderer with another), and it holds the
// page and its dedicated workers.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Browser, BrowserContext, Page } from '@playwright/test';

function renderers(): Set<number> {
  const found = new Set<number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'latin1');
      if (cmdline.includes('--type=renderer')) found.add(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]);
}

/** A page in a browser context of its own, with its renderer's process id. */
export interface Tab {
  context: BrowserContext;
  page: Page;
  /** Opens `url` (the renderer is found once the page has loaded). */
  open(url: string): Promise<void>;
  /** Resident set now, bytes. */
  rss(): number;
  /** Starts a new peak: the peak resident set is set to the resident set now, which it
   * returns (bytes): the base to measure the peak against. */
  resetPeak(): number;
  /** Peak resident set since the last reset (or since the start), bytes. */
  peak(): number;
  close(): Promise<void>;
}

export async function newTab(browser: Browser, options: Parameters<Browser['newContext']>[0] = {}): Promise<Tab> {
  const before = renderers();
  const context = await browser.newContext(options);
  const page = await context.newPage();
  let pid = 0;
  const find = () => {
    if (pid) return pid;
    const fresh = [...renderers()].filter((p) => !before.has(p));
    if (fresh.length === 0) throw new Error('the tab has no renderer process of its own');
    // A context's first page has one renderer; with a spare one started meanwhile, the page's
    // is the larger.
    pid = fresh.sort((a, b) => statusKiB(b, 'VmRSS') - statusKiB(a, 'VmRSS'))[0];
    return pid;
  };
  return {
    context,
    page,
    async open(url: string) {
      await page.goto(url);
      find();
    },
    rss: () => statusKiB(find(), 'VmRSS') * 1024,
    // clear_refs 5: "reset the peak resident set size to the process's current resident set".
    resetPeak: () => {
      fs.writeFileSync(`/proc/${find()}/clear_refs`, '5');
      return statusKiB(find(), 'VmHWM') * 1024;
    },
    peak: () => statusKiB(find(), 'VmHWM') * 1024,
    close: () => context.close(),
  };
}

/** The median (the mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
export const loadAverage = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

/** Adds `section` to the JSON file named by BENCH_JSON (when set), keeping what is there. */
export function record(section: string, value: unknown): void {
  const file = process.env.BENCH_JSON;
  if (!file) return;
  const doc = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  doc[section] = value;
  fs.writeFileSync(file, JSON.stringify(doc, null, 2));
}
