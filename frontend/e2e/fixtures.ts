// The fixtures every spec uses: `test` and `expect` come from here, not from @playwright/test.
import { test as base, expect, type Page } from '@playwright/test';
import { join } from 'node:path';
import { apiClient, type ApiClient } from './api';
import { REPO, SHARED_API, SHARED_FRONTEND, SHOTS } from './locations';
import { startLocalServer, type LocalServer } from './server';

export { expect };

interface WorkerFixtures {
  /**
   * The scripts/local_server.py (in memory) that every test shares, started once by global-setup.ts.
   * Tests name their projects so that they do not meet.
   */
  server: { api: string; frontend: string };
  /** Calls to the shared API "as an agent". */
  api: ApiClient;
  /** url('/projects/<id>') is that route of the shared server's built frontend (hash routing). */
  url: (route: string) => string;
  /**
   * A server of the worker's own with auth on (CHORUS_AUTH=token), started on first use. A failed
   * test ends its worker, so a retry gets a new one.
   */
  authServer: LocalServer;
}

export const test = base.extend<object, WorkerFixtures>({
  server: [
    async ({}, use) => {
      const api = process.env[SHARED_API];
      const frontend = process.env[SHARED_FRONTEND];
      if (!api || !frontend) throw new Error(`${SHARED_API} is not set: run the tests with playwright.config.ts (its globalSetup starts the server)`);
      await use({ api, frontend });
    },
    { scope: 'worker' },
  ],
  api: [async ({ server }, use) => use(apiClient(server.api)), { scope: 'worker' }],
  url: [async ({ server }, use) => use((route) => `${server.frontend}/#${route}`), { scope: 'worker' }],
  authServer: [
    async ({}, use) => {
      const server = await startLocalServer(REPO, { CHORUS_AUTH: 'token' });
      await use(server);
      await server.stop();
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  // No uncaught error in any page of the test (checked when the test ends).
  context: async ({ context }, use) => {
    const errors: string[] = [];
    const watch = (page: Page) => page.on('pageerror', (error) => errors.push(error.message));
    context.pages().forEach(watch);
    context.on('page', watch);
    await use(context);
    expect(errors, 'no uncaught errors in the page').toEqual([]);
  },
});

/** Saves a screenshot of the page as screenshots/<name>.png (git-ignored). */
export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}
