import { vi } from 'vitest';
import type { ActivityEvent, Lock, Task, TaskTree } from '../api/types';

export const API = 'http://api.test';

export interface FakeRequest {
  method: string;
  path: string;
  url: URL;
  body: unknown;
  headers: Record<string, string>;
}

export interface FakeResponse {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Route = FakeResponse | ((req: FakeRequest) => FakeResponse | Promise<FakeResponse>);

/**
 * What a project's newer reads answer unless a test says otherwise: no history, no events, no
 * agents, no dependencies (so tests of other views need not list them).
 */
function defaultRoute(method: string, path: string): FakeResponse | undefined {
  if (method !== 'GET') return undefined;
  if (/^\/projects\/[^/]+\/(history|activity|agents)$/.test(path)) return { body: [] };
  if (/^\/tasks\/[^/]+\/dependencies$/.test(path)) return { body: { blocked_by: [], blocking: [] } };
  return undefined;
}

/**
 * A fetch that answers "METHOD /path" routes and records every request; a route may answer
 * later (a promise). Unknown routes get the SPEC 404 envelope.
 */
export function fakeFetch(routes: Record<string, Route>) {
  const requests: FakeRequest[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    const req: FakeRequest = {
      method,
      path: url.pathname,
      url,
      body: typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined,
      headers: (init?.headers ?? {}) as Record<string, string>,
    };
    requests.push(req);
    const route = routes[`${method} ${url.pathname}`];
    const res: FakeResponse =
      route === undefined
        ? (defaultRoute(method, url.pathname) ?? errorBody(404, 'NOT_FOUND', `no route ${method} ${url.pathname}`))
        : typeof route === 'function'
          ? await route(req)
          : route;
    const status = res.status ?? 200;
    return new Response(status === 204 ? null : JSON.stringify(res.body ?? null), {
      status,
      headers: { 'Content-Type': 'application/json', 'X-Request-ID': 'req-fake', ...res.headers },
    });
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, requests };
}

export function errorBody(status: number, code: string, message: string, requestId = `rid-${code.toLowerCase()}`): FakeResponse {
  return { status, body: { error: { code, message, details: {}, request_id: requestId } }, headers: { 'X-Request-ID': requestId } };
}

let counter = 0;

export function makeTask(overrides: Partial<Task> = {}): Task {
  counter += 1;
  const now = '2025-01-01T00:00:00Z';
  return {
    id: `t${counter}`,
    project_id: 'p1',
    parent_task_id: null,
    name: `Task ${counter}`,
    description: null,
    context: null,
    task_type: 'feature',
    status: 'todo',
    priority: 0,
    points: null,
    points_breakdown: null,
    sizing_confidence: null,
    needs_refinement: false,
    refinement_notes: null,
    context_captured_at: null,
    content_changed_at: now,
    position: 0,
    depth: 0,
    created_at: now,
    updated_at: now,
    effective_points: null,
    rolled_up_points: null,
    unsized_children: 0,
    children_count: 0,
    readiness: 'needs_sizing',
    is_locked: false,
    lock: null,
    blocked_by: [],
    open_blockers: 0,
    waiting: false,
    ...overrides,
  };
}

export function makeTree(task: Task, children: TaskTree[] = []): TaskTree {
  return { ...task, children_count: children.length, children };
}

export function makeLock(overrides: Partial<Lock> = {}): Lock {
  const now = Date.now();
  return {
    task_id: 't1',
    caller_label: 'agent-7',
    lock_purpose: 'implementation',
    acquired_at: new Date(now - 60_000).toISOString(),
    last_heartbeat_at: new Date(now - 60_000).toISOString(),
    expires_at: new Date(now + 5 * 60_000).toISOString(),
    fencing_token: 42,
    ttl_seconds: 3600,
    ...overrides,
  };
}

export const project = {
  id: 'p1',
  name: 'Apollo',
  description: 'Moon shot',
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
};

export const projectDetail = {
  ...project,
  task_count: 3,
  points_total: 8,
  points_completed: 3,
  status_counts: { todo: 2, doing: 0, done: 1, wont_do: 0 },
  readiness_counts: { needs_refinement: 0, blocked_by_children: 1, needs_sizing: 1, needs_breakdown: 0, blocked_by_dependencies: 0, ready: 0 },
  active_locks: 0,
};

/** Events are recent (the feed's polls look back a few minutes at most): number 1 is 100 s before the tests started. */
const EVENT_BASE = Date.now() - 100_000;

/** Event number `n` (a later `n` is a newer event, a second apart), about task t-login unless told otherwise. */
export function makeEvent(n: number, overrides: Partial<ActivityEvent> = {}): ActivityEvent {
  return {
    id: `e${n}`,
    project_id: 'p1',
    task_id: 't-login',
    task_name: 'Login',
    kind: 'note',
    actor: 'agent-1',
    at: new Date(EVENT_BASE + n * 1000).toISOString(),
    summary: `Event ${n}`,
    details: {},
    ...overrides,
  };
}
