import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { fakeFetch, makeLock, makeTask, projectDetail } from '../../test/fakeApi';
import { renderApp } from '../../test/renderApp';

describe('Lock monitor', () => {
  it('lists live locks with countdown and stalled tasks, and force-releases after confirmation', async () => {
    let locks = [makeLock({ task_id: 'busy', caller_label: 'agent-5', lock_purpose: 'sizing', fencing_token: 3 })];
    const { fetch, requests } = fakeFetch({
      'GET /projects/p1': { body: projectDetail },
      'GET /locks': () => ({ body: locks }),
      'GET /tasks/busy': { body: makeTask({ id: 'busy', name: 'Busy task' }) },
      'GET /projects/p1/in-progress': { body: [makeTask({ id: 'st', name: 'Stalled task', status: 'doing' }), makeTask({ id: 'held', name: 'Held', status: 'doing', lock: makeLock() })] },
      'DELETE /tasks/busy/lock': () => {
        locks = [];
        return { status: 204 };
      },
    });
    const { user } = renderApp('#/projects/p1/locks', fetch);
    const row = await screen.findByTestId('lock-row');
    expect(await within(row).findByText('Busy task')).toBeInTheDocument();
    expect(within(row).getByText('agent-5')).toBeInTheDocument();
    expect(within(row).getByText('Sizing')).toBeInTheDocument();
    expect(within(row).getByText('3')).toBeInTheDocument();
    expect(within(row).getByRole('time').textContent).toMatch(/^[45]:\d\d$/);
    expect(requests.find((r) => r.path === '/locks')?.url.searchParams.get('project_id')).toBe('p1');

    const stalled = await screen.findByTestId('stalled-list');
    expect(within(stalled).getByText('Stalled task')).toBeInTheDocument();
    expect(within(stalled).queryByText('Held')).not.toBeInTheDocument();

    await user.click(within(row).getByRole('button', { name: 'Force-release the lock on Busy task' }));
    await user.click(screen.getByRole('button', { name: 'Force-release' }));
    expect(await screen.findByText('No live locks in this project.')).toBeInTheDocument();
    await waitFor(() => expect(requests.some((r) => r.method === 'DELETE' && r.path === '/tasks/busy/lock')).toBe(true));
  });
});
