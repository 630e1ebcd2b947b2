// The console's screenshots for the README and docs/ (not tests): `npm run screenshots`
// writes docs/screenshots/*.png. Same server and browser set-up as the tests (global-setup.ts).
import { defineConfig } from '@playwright/test';
import base from './playwright.config';

export default defineConfig({
  ...base,
  testDir: './screenshots',
  testMatch: '*.shots.ts',
  retries: 0,
  timeout: 120_000,
});
