import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { PointsBreakdown, Task } from '../../api/types';
import { fakeFetch, makeEvent, makeLock, makeTask, projectDetail } from '../../test/fakeApi';
import { renderApp } from '../../test/renderApp';

const breakdown: PointsBreakdown = {
  scope_clarity: { score: 1, reasoning: 'Two screens, one unclear' },
  decision_points: { score: 0, reasoning: 'None' },
  context_window_demand: { score: 1, reasoning: 'Touches three modules' },
  verification_complexity: { score: 2, reasoning: 'Needs browser tests' },
  domain_specificity: { score: 0, reasoning: 'Plain CRUD' },
  total: 4,
  confidence: 4,
  risk_factors: ['OAuth provider quirks'],
  breakdown_suggestions: null,
  scored_by: 'agent-9',
  scored_at: '2025-01-02T10:00:00Z',
};

function detailRoutes(task: Task, extra: Parameters<typeof fakeFetch>[0] = {}) {
  return fakeFetch({
    'GET /projects/p1': { body: projectDetail },
    'GET /projects/p1/tasks': { body: [task] },
    [`GET /tasks/${task.id}`]: { body: task },
    [`GET /tasks/${task.id}/work-log`]: {
      body: [{ id: 'w1', task_id: task.id, author: 'agent-9', operation: 'sizing', content: 'Sized at 4', created_at: '2025-01-02T10:00:00Z' }],
    },
    [`GET /tasks/${task.id}/commits`]: { body: [] },
    [`GET /tasks/${task.id}/context`]: { body: { context_captured_at: null, context_freshness: 'stale', stale_reasons: ['never captured'] } },
    ...extra,
  });
}

describe('Task detail', () => {
  it('shows the sizing as a radar chart with every reasoning, the work log and freshness', async () => {
    const task = makeTask({ id: 'sized', name: 'Login', points: 4, effective_points: 4, readiness: 'ready', points_breakdown: breakdown, sizing_confidence: 4 });
    const { fetch } = detailRoutes(task);
    renderApp('#/projects/p1?task=sized', fetch);
    const panel = await screen.findByRole('dialog', { name: 'Login' });
    expect(await within(panel).findByRole('img', { name: /Verification complexity 2 of 2/ })).toBeInTheDocument();
    expect(within(panel).getByText('Needs browser tests')).toBeInTheDocument();
    expect(within(panel).getByText('OAuth provider quirks')).toBeInTheDocument();
    expect(within(panel).getByTestId('sizing-confidence')).toHaveTextContent('4');
    expect(await within(panel).findByText('Sized at 4')).toBeInTheDocument();
    expect(await within(panel).findByTestId('freshness')).toHaveTextContent('Stale');
    expect(within(panel).getByText('never captured')).toBeInTheDocument();
    expect(within(panel).getByText('No commits recorded.')).toBeInTheDocument();
  });

  it('offers only the status changes the table allows', async () => {
    const { fetch, requests } = detailRoutes(makeTask({ id: 'd1', name: 'Doing task', status: 'doing' }), {
      'PATCH /tasks/d1/status': { body: makeTask({ id: 'd1', name: 'Doing task', status: 'done' }) },
    });
    const { user } = renderApp('#/projects/p1?task=d1', fetch);
    const group = await screen.findByRole('group', { name: 'Change status' });
    expect(within(group).getAllByRole('button').map((b) => b.textContent)).toEqual(['Move to Done', 'Move to To Do', "Move to Won't Do"]);
    await user.click(within(group).getByRole('button', { name: 'Move to Done' }));
    await waitFor(() => expect(requests.find((r) => r.method === 'PATCH')?.body).toEqual({ status: 'done' }));
  });

  it('saves only the edited fields', async () => {
    const task = makeTask({ id: 'e1', name: 'Old name', priority: 0, points: null });
    const { fetch, requests } = detailRoutes(task, { 'PUT /tasks/e1': (req) => ({ body: { ...task, ...(req.body as object) } }) });
    const { user } = renderApp('#/projects/p1?task=e1', fetch);
    const panel = await screen.findByRole('dialog', { name: 'Old name' });
    const name = await within(panel).findByLabelText('Name');
    await user.clear(name);
    await user.type(name, 'New name');
    await user.type(within(panel).getByLabelText('Gut-feel points'), '5');
    await user.click(within(panel).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(requests.find((r) => r.method === 'PUT')?.body).toEqual({ name: 'New name', points: 5 }));
  });

  it('force-releases the lock only after confirmation', async () => {
    const task = makeTask({ id: 'l1', name: 'Locked', lock: makeLock({ task_id: 'l1', caller_label: 'agent-1', fencing_token: 7 }), is_locked: true });
    const { fetch, requests } = detailRoutes(task, { 'DELETE /tasks/l1/lock': { status: 204 } });
    const { user } = renderApp('#/projects/p1?task=l1', fetch);
    const panel = await screen.findByRole('dialog', { name: 'Locked' });
    expect(within(panel).getByTestId('lock-holder')).toHaveTextContent('agent-1');
    await user.click(within(panel).getByRole('button', { name: 'Force-release lock' }));
    await user.click(screen.getByRole('button', { name: 'Force-release' }));
    await waitFor(() => expect(requests.find((r) => r.method === 'DELETE')?.url.searchParams.get('force')).toBe('true'));
  });

  it('flags the task for refinement with notes', async () => {
    let task = makeTask({ id: 'f1', name: 'Vague' });
    const { fetch, requests } = detailRoutes(task, {
      'GET /tasks/f1': () => ({ body: task }),
      'POST /tasks/f1/flag-refinement': () => {
        task = { ...task, needs_refinement: true, refinement_notes: 'What is done?' };
        return { body: task };
      },
    });
    const { user } = renderApp('#/projects/p1?task=f1', fetch);
    const panel = await screen.findByRole('dialog', { name: 'Vague' });
    await user.type(within(panel).getByLabelText('Refinement notes'), 'What is done?');
    await user.click(within(panel).getByRole('button', { name: 'Flag for refinement' }));
    expect(await within(panel).findByText('Flagged for refinement')).toBeInTheDocument();
    expect(requests.find((r) => r.method === 'POST')?.body).toEqual({ refinement_notes: 'What is done?', author: 'web-ui' });
  });

  it('deletes the task after confirmation and closes', async () => {
    const task = makeTask({ id: 'del', name: 'Doomed' });
    let top = [task];
    const { fetch, requests } = detailRoutes(task, {
      'GET /projects/p1/tasks': () => ({ body: top }),
      'DELETE /tasks/del': () => {
        top = [];
        return { status: 204 };
      },
    });
    const { user } = renderApp('#/projects/p1?task=del', fetch);
    const panel = await screen.findByRole('dialog', { name: 'Doomed' });
    await user.click(within(panel).getByRole('button', { name: 'Delete task' }));
    const confirm = screen.getByRole('alertdialog', { name: 'Delete this task?' });
    await user.click(within(confirm).getByRole('button', { name: 'Delete task' }));
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Doomed' })).not.toBeInTheDocument());
    expect(requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual(['/tasks/del']);
    const deletedAt = requests.findIndex((r) => r.method === 'DELETE');
    expect(requests.slice(deletedAt).filter((r) => r.path.startsWith('/tasks/del')).map((r) => r.method), 'the deleted task is not read again').toEqual(['DELETE']);
    expect(await screen.findByText('No tasks yet. Add the first one above.')).toBeInTheDocument();
    expect(screen.queryByTestId('toast')).not.toBeInTheDocument();
  });

  it('closes on Escape', async () => {
    const { fetch } = detailRoutes(makeTask({ id: 'x1', name: 'Closable' }));
    const { user } = renderApp('#/projects/p1?task=x1', fetch);
    await screen.findByRole('dialog', { name: 'Closable' });
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(window.location.hash).toBe('#/projects/p1');
  });

  it("shows the task's own history from the activity feed", async () => {
    const { fetch, requests } = detailRoutes(makeTask({ id: 't-login', name: 'Login' }), {
      'GET /projects/p1/activity': {
        body: [
          makeEvent(2, { kind: 'sized', actor: 'agent-9', summary: 'agent-9 sized “Login” at 4 points' }),
          makeEvent(1, { kind: 'task_created', actor: 'ana', summary: 'ana created “Login”' }),
        ],
      },
    });
    renderApp('#/projects/p1?task=t-login', fetch);
    const history = await screen.findByTestId('task-history');
    const events = await within(history).findAllByTestId('event');
    expect(events.map((e) => e.textContent)).toEqual([
      expect.stringContaining('agent-9Sized'),
      expect.stringContaining('anaCreated'),
    ]);
    expect(within(events[0]!).getByText('agent-9 sized “Login” at 4 points')).toBeInTheDocument();
    expect(requests.find((r) => r.path === '/projects/p1/activity')?.url.searchParams.get('task_id')).toBe('t-login');
  });
});

