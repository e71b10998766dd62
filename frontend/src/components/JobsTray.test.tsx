import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Job } from '../api/types';
import { fakeFetch, makeTask, project, projectDetail } from '../test/fakeApi';
import { renderApp } from '../test/renderApp';

const job = (overrides: Partial<Job>): Job => ({
  id: 'j1',
  kind: 'cancel',
  status: 'running',
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
  progress: { done: 0, total: 3000 },
  result: null,
  error: null,
  ...overrides,
});

/** GET /jobs/j1 answers these in turn, then the last one for good. */
function jobRoute(...answers: Job[]) {
  let n = 0;
  return () => ({ body: answers[Math.min(n++, answers.length - 1)] });
}

function epicRoutes(extra: Parameters<typeof fakeFetch>[0]) {
  const epic = makeTask({ id: 'epic', name: 'Epic', children_count: 3 });
  return fakeFetch({
    'GET /projects/p1': { body: projectDetail },
    'GET /projects/p1/tasks': { body: [epic] },
    'GET /tasks/epic/tree': { body: { ...epic, children: [] } },
    'GET /tasks/epic': { body: epic },
    'GET /tasks/epic/work-log': { body: [] },
    'GET /tasks/epic/commits': { body: [] },
    'GET /tasks/epic/context': { body: { context_captured_at: null, context_freshness: 'fresh', stale_reasons: [] } },
    ...extra,
  });
}

describe('Background jobs', () => {
  it('follows a large cancel (202) with a progress bar, then says it is done and reloads the project', async () => {
    const { fetch, requests } = epicRoutes({
      'PATCH /tasks/epic/status': { status: 202, body: job({}), headers: { Location: '/jobs/j1' } },
      'GET /jobs/j1': jobRoute(job({ progress: { done: 1200, total: 3000 } }), job({ status: 'succeeded', progress: { done: 3000, total: 3000 }, result: { task_id: 'epic' } })),
    });
    const { user } = renderApp('#/projects/p1?task=epic', fetch);
    const panel = await screen.findByRole('dialog', { name: 'Epic' });
    await user.click(within(panel).getByRole('button', { name: "Move to Won't Do" }));
    const tray = await screen.findByRole('region', { name: 'Background jobs' });
    const bar = await within(tray).findByRole('progressbar', { name: 'Cancel “Epic”: progress' });
    await waitFor(() => expect(bar).toHaveAttribute('aria-valuenow', '1200'));
    expect(bar).toHaveAttribute('aria-valuemax', '3000');
    expect(await within(tray).findByText('Cancelled 3000 tasks.', {}, { timeout: 5000 })).toBeInTheDocument();
    await waitFor(() => {
      // Polling stops once the job has finished: the last read of it is the one that said so.
      const finished = requests.map((r) => r.path).lastIndexOf('/jobs/j1');
      expect(requests.slice(finished).some((r) => r.path === '/projects/p1/tasks'), 'the project is read again').toBe(true);
    });
    await user.click(within(tray).getByRole('button', { name: 'Dismiss Cancel “Epic”' }));
    expect(screen.queryByRole('region', { name: 'Background jobs' })).not.toBeInTheDocument();
  });

  it('shows the error of a large delete (202) that failed', async () => {
    const failed = job({ kind: 'delete', status: 'failed', progress: { done: 10, total: 2500 }, error: { code: 'INTERNAL_ERROR', message: 'The store went away', details: {} } });
    const { fetch } = epicRoutes({
      'DELETE /tasks/epic': { status: 202, body: job({ kind: 'delete', progress: { done: 0, total: 2500 } }) },
      'GET /jobs/j1': { body: failed },
    });
    const { user } = renderApp('#/projects/p1?task=epic', fetch);
    const panel = await screen.findByRole('dialog', { name: 'Epic' });
    await user.click(within(panel).getByRole('button', { name: 'Delete task' }));
    await user.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Delete task' }));
    const tray = await screen.findByRole('region', { name: 'Background jobs' });
    expect(within(tray).getByText('Delete “Epic”')).toBeInTheDocument();
    expect(await within(tray).findByRole('alert')).toHaveTextContent('Failed: The store went away');
    expect(within(tray).getByText('INTERNAL_ERROR')).toBeInTheDocument();
  });

  it('links to a project imported by a job', async () => {
    const { fetch } = fakeFetch({
      'GET /projects': { body: [project] },
      'GET /projects/p1': { body: projectDetail },
      'POST /projects/import': { status: 202, body: job({ kind: 'import', progress: { done: 0, total: 0 } }) },
      'GET /jobs/j1': jobRoute(job({ kind: 'import', progress: { done: 0, total: 0 } }), job({ kind: 'import', status: 'succeeded', progress: { done: 5, total: 5 }, result: { project_id: 'p9' } })),
    });
    const { user } = renderApp('#/', fetch);
    const content = JSON.stringify({ format_version: 2, project: { name: 'Big' }, tasks: [] });
    const file = new File([content], 'big.json', { type: 'application/json' });
    Object.defineProperty(file, 'text', { value: async () => content }); // jsdom's File has no text()
    await user.upload(await screen.findByLabelText('Import project (JSON export)…'), file);
    const tray = await screen.findByRole('region', { name: 'Background jobs' });
    expect(within(tray).getByRole('progressbar', { name: 'Import big.json: progress' })).toHaveAttribute('aria-valuetext', 'starting');
    expect(await within(tray).findByRole('link', { name: 'Open the project' }, { timeout: 5000 })).toHaveAttribute('href', '#/projects/p9');
    expect(within(tray).getByText(/Imported 5 tasks\./)).toBeInTheDocument();
    expect(window.location.hash, 'an import by a job does not navigate by itself').toBe('#/');
  });
});
