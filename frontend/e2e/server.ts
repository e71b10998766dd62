// Starts scripts/local_server.py (API + built frontend, in-memory store) on free ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

export interface LocalServer {
  /** Base URL of the API, e.g. http://127.0.0.1:41234 */
  api: string;
  /** Base URL of the built frontend (with a generated config.json pointing at `api`). */
  frontend: string;
  stop: () => Promise<void>;
  /** What the server printed so far (the last 400 chunks). */
  log: () => string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForOk(url: string, deadline: number, child: ChildProcess): Promise<void> {
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`local server exited with code ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer in time (${lastError})`);
}

/** `env` is added to the server's environment (e.g. CHORUS_AUTH=token). */
export async function startLocalServer(repoRoot: string, env: Record<string, string> = {}): Promise<LocalServer> {
  const python = process.env.CHORUS_PYTHON ?? join(repoRoot, '.venv/bin/python');
  const script = join(repoRoot, 'scripts/local_server.py');
  if (!existsSync(script)) throw new Error(`${script} not found`);
  if (!existsSync(python)) throw new Error(`${python} not found (run \`make deps\` in the repo root, or set CHORUS_PYTHON)`);
  const apiPort = await freePort();
  let fePort = await freePort();
  while (fePort === apiPort) fePort = await freePort();
  const args = [script, '--host', '127.0.0.1', '--port', String(apiPort), '--frontend-port', String(fePort), '--in-memory'];
  const child = spawn(python, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1', ...env } });
  const log: string[] = [];
  const keep = (chunk: Buffer) => {
    log.push(chunk.toString());
    if (log.length > 400) log.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('error', (error) => log.push(`${error.message}\n`)); // e.g. the interpreter could not be run
  const api = `http://127.0.0.1:${apiPort}`;
  const frontend = `http://127.0.0.1:${fePort}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 5000).unref();
    });
  try {
    const deadline = Date.now() + 90_000;
    await waitForOk(`${api}/health`, deadline, child);
    await waitForOk(`${frontend}/config.json`, deadline, child);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- local server output ---\n${log.join('')}`);
  }
  return { api, frontend, stop, log: () => log.join('') };
}
