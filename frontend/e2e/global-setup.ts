// Before any test: an empty screenshots/, and the server that the tests share (see fixtures.ts).
import { mkdir, rm } from 'node:fs/promises';
import { REPO, SHARED_API, SHARED_FRONTEND, SHARED_SERVER_ENV, SHOTS } from './locations';
import { startLocalServer } from './server';

export default async function globalSetup() {
  await rm(SHOTS, { recursive: true, force: true });
  await mkdir(SHOTS, { recursive: true });
  // Implementation locks last 3 s and the sweep runs every second, so the agents scenario sees
  // a lock expire on its holder (no other test takes an implementation lock).
  const server = await startLocalServer(REPO, SHARED_SERVER_ENV);
  // The workers inherit these.
  process.env[SHARED_API] = server.api;
  process.env[SHARED_FRONTEND] = server.frontend;
  return () => server.stop();
}
