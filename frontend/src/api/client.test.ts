import { describe, expect, it, vi } from 'vitest';
import { ApiError, createApiClient } from './client';
import { API, errorBody, fakeFetch, makeTask } from '../test/fakeApi';

function client(routes: Parameters<typeof fakeFetch>[0], token: string | null = null) {
  const fake = fakeFetch(routes);
  const onUnauthorized = vi.fn();
  const api = createApiClient({ baseUrl: `${API}/`, getToken: () => token, onUnauthorized, fetchImpl: fake.fetch });
  return { api, onUnauthorized, requests: fake.requests };
}

describe('api client', () => {
  it('sends the bearer token and a JSON body', async () => {
    const { api, requests } = client({ 'POST /projects/p1/tasks': { status: 201, body: makeTask({ name: 'Login' }) } }, 'secret');
    const task = await api.createTask('p1', { name: 'Login', task_type: 'bug' });
    expect(task.name).toBe('Login');
    expect(requests[0]?.headers.Authorization).toBe('Bearer secret');
    expect(requests[0]?.headers['Content-Type']).toBe('application/json');
    expect(requests[0]?.body).toEqual({ name: 'Login', task_type: 'bug' });
  });

  it('sends no Authorization header without a token', async () => {
    const { api, requests } = client({ 'GET /tasks/t1': { body: makeTask({ id: 't1' }) } });
    await api.getTask('t1');
    expect(requests[0]?.headers.Authorization).toBeUndefined();
  });

  it('follows X-Next-Offset through every page', async () => {
    const first = [makeTask(), makeTask()];
    const second = [makeTask()];
    const { api, requests } = client({
      'GET /projects/p1/tasks': (req) =>
        req.url.searchParams.get('offset') === '0' ? { body: first, headers: { 'X-Next-Offset': '2' } } : { body: second },
    });
    const tasks = await api.listTopLevelTasks('p1');
    expect(tasks.map((t) => t.id)).toEqual([...first, ...second].map((t) => t.id));
    expect(requests.map((r) => r.url.searchParams.get('offset'))).toEqual(['0', '2']);
    expect(requests[0]?.url.searchParams.get('limit')).toBe('200');
  });

  it('turns the error envelope into an ApiError with code, message and request id', async () => {
    const { api } = client({
      'PATCH /tasks/t1/status': errorBody(422, 'INVALID_STATUS_TRANSITION', 'cannot go from todo to done', 'abc-123'),
    });
    const error = await api.setStatus('t1', 'done').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 422, code: 'INVALID_STATUS_TRANSITION', message: 'cannot go from todo to done', requestId: 'abc-123' });
  });

  it('uses the X-Request-ID header when the error body is not the envelope', async () => {
    const fetchImpl = vi.fn(async () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway', headers: { 'X-Request-ID': 'gw-1' } }));
    const api = createApiClient({ baseUrl: API, getToken: () => null, onUnauthorized: vi.fn(), fetchImpl });
    await expect(api.getTask('t1')).rejects.toMatchObject({ status: 502, message: 'Bad Gateway', requestId: 'gw-1' });
  });

  it('reports a 401 so the app can ask for a token', async () => {
    const { api, onUnauthorized } = client({ 'GET /projects': errorBody(401, 'UNAUTHORIZED', 'token required') });
    await expect(api.listProjects()).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('reports an unreachable API as a network error', async () => {
    const fetchImpl = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    const api = createApiClient({ baseUrl: API, getToken: () => null, onUnauthorized: vi.fn(), fetchImpl });
    await expect(api.listProjects()).rejects.toMatchObject({ code: 'NETWORK_ERROR', message: 'Cannot reach the API (Failed to fetch)' });
  });

  it('force-releases with force=true and names the releaser', async () => {
    const { api, requests } = client({ 'DELETE /tasks/t1/lock': { status: 204 } });
    await api.forceReleaseLock('t1', 'alice');
    expect(requests[0]?.url.searchParams.get('force')).toBe('true');
    expect(requests[0]?.url.searchParams.get('caller_label')).toBe('alice');
  });

  it('tells an inline export from a download link', async () => {
    const { api } = client({
      'GET /projects/small/export': { body: { format_version: 2, project: {}, tasks: [] } },
      'GET /projects/big/export': { body: { download_url: 'https://s3/x', expires_at: 'soon', size_bytes: 7_000_000 } },
    });
    await expect(api.exportProject('small')).resolves.toMatchObject({ kind: 'inline' });
    await expect(api.exportProject('big')).resolves.toEqual({
      kind: 'link',
      link: { download_url: 'https://s3/x', expires_at: 'soon', size_bytes: 7_000_000 },
    });
  });

  it('asks a queue for one operation, optionally in one project', async () => {
    const { api, requests } = client({ 'GET /tasks/available': { body: [] } });
    await api.listAvailable('sizing', 'p1', 20);
    await api.listAvailable('breakdown', null, 20);
    expect(requests[0]?.url.search).toBe('?operation=sizing&project_id=p1&limit=20');
    expect(requests[1]?.url.search).toBe('?operation=breakdown&limit=20');
  });

  it('tells a finished write from a job (202) for a cancel, a delete and an import', async () => {
    const job = { id: 'j1', kind: 'cancel', status: 'running', progress: { done: 0, total: 2500 }, result: null, error: null };
    const { api } = client({
      'PATCH /tasks/small/status': { body: makeTask({ id: 'small', status: 'wont_do' }) },
      'PATCH /tasks/big/status': { status: 202, body: job, headers: { Location: '/jobs/j1' } },
      'DELETE /tasks/small': { status: 204 },
      'DELETE /tasks/big': { status: 202, body: { ...job, kind: 'delete' } },
      'POST /projects/import': { status: 202, body: { ...job, kind: 'import' } },
    });
    await expect(api.setStatus('small', 'wont_do')).resolves.toMatchObject({ kind: 'done', value: { id: 'small', status: 'wont_do' } });
    await expect(api.setStatus('big', 'wont_do')).resolves.toEqual({ kind: 'job', job });
    await expect(api.deleteTask('small')).resolves.toEqual({ kind: 'done', value: undefined });
    await expect(api.deleteTask('big')).resolves.toMatchObject({ kind: 'job', job: { kind: 'delete' } });
    await expect(api.importProject({ upload_id: 'u1' })).resolves.toMatchObject({ kind: 'job', job: { kind: 'import' } });
  });

  it('asks for activity with repeated kinds, and reads the next offset of a page', async () => {
    const { api, requests } = client({
      'GET /projects/p1/activity': (req) => (req.url.searchParams.get('offset') === '0' ? { body: [], headers: { 'X-Next-Offset': '50' } } : { body: [] }),
    });
    await expect(api.listActivity('p1', { actor: 'agent-1', kinds: ['sized', 'note'], taskId: '' }, 0, 50)).resolves.toEqual({ items: [], next: 50 });
    expect(requests[0]?.url.search).toBe('?actor=agent-1&kind=sized&kind=note&offset=0&limit=50');
    await expect(api.listActivity('p1', {}, 50, 50)).resolves.toEqual({ items: [], next: null });
  });
});

