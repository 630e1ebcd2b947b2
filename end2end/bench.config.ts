// Benchmarks (not tests): run with `npm run bench`. Same server and browser set-up as the
// tests (global-setup.ts), one worker, generous time limits, no retries.
import { defineConfig } from '@playwright/test';
import base from './playwright.config';

export default defineConfig({
  ...base,
  testDir: './bench',
  testMatch: '*.bench.ts',
  retries: 0,
  timeout: 300_000,
  expect: { timeout: 60_000 },
  use: {
    ...base.use,
    // No Playwright trace or screenshots: the trace's DOM snapshots walk every node of the page
    // (getComputedStyle on each) around each action, inside the intervals being measured.
    trace: 'off',
    screenshot: 'off',
    // The benchmark injects PapaParse into the page; the console's Content-Security-Policy
    // (script-src 'self') rightly refuses inline scripts, so the benchmark page bypasses it.
    bypassCSP: true,
    launchOptions: {
      ...base.use?.launchOptions,
      // gc() between runs, so that one run's garbage is not collected during the next.
      args: [...(base.use?.launchOptions?.args ?? []), '--js-flags=--expose-gc'],
    },
  },
});
