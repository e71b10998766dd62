import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Agent } from '../../api/types';
import { fakeFetch, makeLock, makeTask, projectDetail } from '../../test/fakeApi';
import { renderApp } from '../../test/renderApp';

describe('Agents', () => {
  it('lists each actor with its live locks, work done and last seen, and makes one that lost locks stand out', async () => {
    const agents: Agent[] = [
      {
        actor: 'agent-7',
        last_seen_at: new Date(Date.now() - 90_000).toISOString(),
        events: 12,
        operations: 3,
        locks_expired: 0,
        live_locks: [makeLock({ task_id: 'busy', caller_label: 'agent-7', lock_purpose: 'implementation' })],
      },
      { actor: 'agent-crash', last_seen_at: new Date(Date.now() - 3 * 3600_000).toISOString(), events: 2, operations: 0, locks_expired: 1, live_locks: [] },
    ];
    const { fetch, requests } = fakeFetch({
      'GET /projects/p1': { body: projectDetail },
      'GET /projects/p1/agents': { body: agents },
      'GET /tasks/busy': { body: makeTask({ id: 'busy', name: 'Busy task' }) },
    });
    renderApp('#/projects/p1/agents', fetch);
    const rows = await screen.findAllByTestId('agent-row');
    expect(rows.map((r) => r.getAttribute('data-actor'))).toEqual(['agent-7', 'agent-crash']);
    const [working, crashed] = rows as [HTMLElement, HTMLElement];
    expect(within(working).getByRole('rowheader')).toHaveTextContent('agent-7');
    expect(within(working).getByText('1 min ago')).toBeInTheDocument();
    const lock = within(working).getByTestId('agent-lock');
    expect(await within(lock).findByRole('link', { name: 'Busy task' })).toHaveAttribute('href', '#/projects/p1/agents?task=busy');
    expect(within(lock).getByText('Implementation')).toBeInTheDocument();
    expect(within(lock).getByRole('time').textContent).toMatch(/^[45]:\d\d$/);
    expect(within(working).getByText('3')).toBeInTheDocument();
    expect(within(working).getByText('12')).toBeInTheDocument();
    expect(within(working).queryByTestId('locks-expired')).toBeNull();

    expect(within(crashed).getByText('3 h ago')).toBeInTheDocument();
    expect(within(crashed).getByTestId('locks-expired')).toHaveTextContent('1 expired');
    expect(crashed.className).toContain('bg-red-50');
    expect(requests.find((r) => r.path === '/projects/p1/agents')?.url.searchParams.get('hours')).toBe('24');
  });

  it('says so when nobody worked on the project', async () => {
    const { fetch } = fakeFetch({ 'GET /projects/p1': { body: projectDetail } });
    renderApp('#/projects/p1/agents', fetch);
    await waitFor(() => expect(screen.getByText('No agent has worked on this project in the last 24 hours.')).toBeInTheDocument());
  });
});
