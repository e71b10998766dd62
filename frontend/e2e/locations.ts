// Where things are: the checkout, the build, the screenshots, and the shared server.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FRONTEND = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The checkout whose scripts/local_server.py is started (default: the one holding this frontend). */
export const REPO = process.env.CHORUS_REPO_ROOT ?? resolve(FRONTEND, '..');
export const DIST = join(FRONTEND, 'dist');
export const SHOTS = join(FRONTEND, 'screenshots');
/** Environment variables through which global-setup.ts tells the workers where the shared server is. */
export const SHARED_API = 'CHORUS_E2E_API';
export const SHARED_FRONTEND = 'CHORUS_E2E_FRONTEND';
/** What the shared server runs with beyond the defaults (see global-setup.ts). */
export const SHARED_SERVER_ENV = { CHORUS_LOCK_TTL_IMPLEMENTATION: '3', CHORUS_SWEEP_SECONDS: '1' };
