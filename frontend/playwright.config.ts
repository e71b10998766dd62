// Browser tests (`npm run test:e2e`): Debian's Chromium against scripts/local_server.py. See README.md.
import { defineConfig } from '@playwright/test';

const CI = !!process.env.CI;

export default defineConfig({
  testDir: './e2e',
  // Empties screenshots/ and starts the server the tests share.
  globalSetup: './e2e/global-setup.ts',
  // 2 cores: the seeding (API-bound) runs beside the scenarios (browser-bound). Each spec file
  // runs in one worker, its tests in order; a third worker would only compete for the same 2 cores.
  workers: 2,
  retries: CI ? 1 : 0,
  forbidOnly: CI,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['html', { open: 'never' }], ['./e2e/summary-reporter.ts']],
  use: {
    browserName: 'chromium',
    // Never a browser of Playwright's own: `npx playwright install` cannot download one here.
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      // Without the background-networking flags, Chromium's own connections are refused by the closed network.
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    viewport: { width: 1440, height: 900 },
    acceptDownloads: true,
    // Kept for a failed test only. Without the screencast, which costs more CPU than the rest of
    // the trace (DOM snapshots, network, console); the failure screenshot is taken anyway.
    trace: { mode: 'retain-on-failure', screenshots: false },
    screenshot: 'only-on-failure',
  },
  projects: [
    // Seeds the two 2000-task projects through the API, beside the scenarios.
    { name: 'seed', testMatch: /big-trees\.setup\.ts/ },
    { name: 'scenarios', testIgnore: /budgets\.spec\.ts/ },
    // Depends on "seed", so Playwright runs it in a later phase, after every project above: the
    // time to interactive is measured with nothing else running. Not traced, for the same reason.
    { name: 'budgets', testMatch: /budgets\.spec\.ts/, dependencies: ['seed'], use: { trace: 'off' } },
  ],
});
