import { act, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ActivityEvent } from '../../api/types';
import { fakeFetch, makeEvent, makeTask, projectDetail, type FakeRequest } from '../../test/fakeApi';
import { renderApp } from '../../test/renderApp';

const login = makeTask({ id: 't-login', name: 'Login' });

function feed(events: () => ActivityEvent[], extra: Parameters<typeof fakeFetch>[0] = {}) {
  // Pages like the API: offset/limit over the events newest first, `since` inclusive.
  const page = (req: FakeRequest) => {
    const q = req.url.searchParams;
    const since = q.get('since');
    const kinds = q.getAll('kind');
    const list = events()
      .filter((e) => !since || e.at >= since)
      .filter((e) => !q.get('actor') || e.actor === q.get('actor'))
      .filter((e) => kinds.length === 0 || kinds.includes(e.kind))
      .filter((e) => !q.get('task_id') || e.task_id === q.get('task_id'))
      .sort((a, b) => b.at.localeCompare(a.at));
    const offset = Number(q.get('offset') ?? 0);
    const limit = Number(q.get('limit') ?? 50);
    const more = offset + limit < list.length;
    return { body: list.slice(offset, offset + limit), headers: more ? { 'X-Next-Offset': String(offset + limit) } : undefined };
  };
  return fakeFetch({
    'GET /projects/p1': { body: projectDetail },
    'GET /projects/p1/tasks': { body: [login] },
    'GET /projects/p1/activity': page,
    'GET /projects/p1/agents': { body: [{ actor: 'agent-9', last_seen_at: null, events: 1, operations: 1, locks_expired: 0, live_locks: [] }] },
    ...extra,
  });
}

const feedReads = (requests: FakeRequest[]) => requests.filter((r) => r.path === '/projects/p1/activity');

afterEach(() => {
  vi.useRealTimers();
  delete (HTMLElement.prototype as { scrollHeight?: number }).scrollHeight;
});

describe('Activity', () => {
  it('lists events newest first with actor, kind and a link to the task; a deleted task is named without a link', async () => {
    const events = [
      makeEvent(1, { task_id: 't-spike', task_name: 'Old spike', kind: 'task_created', actor: 'ana', summary: 'ana created “Old spike”' }),
      makeEvent(2, { task_id: 't-spike', task_name: 'Old spike', kind: 'task_deleted', actor: 'ana', summary: 'ana deleted “Old spike”' }),
      makeEvent(3, { kind: 'sized', actor: 'agent-9', summary: 'agent-9 sized “Login” at 4 points' }),
    ];
    const { fetch } = feed(() => events);
    renderApp('#/projects/p1/activity', fetch);
    const list = await screen.findByRole('list', { name: 'Events' });
    const rows = await within(list).findAllByTestId('event');
    expect(rows.map((r) => r.getAttribute('data-event-id'))).toEqual(['e3', 'e2', 'e1']);
    expect(within(rows[0]!).getByTestId('event-actor')).toHaveTextContent('agent-9');
    expect(within(rows[0]!).getByText('Sized')).toBeInTheDocument();
    expect(within(rows[0]!).getByText('agent-9 sized “Login” at 4 points')).toBeInTheDocument();
    expect(within(rows[0]!).getByRole('link', { name: 'Login' })).toHaveAttribute('href', '#/projects/p1/activity?task=t-login');
    for (const row of rows.slice(1)) {
      expect(within(row).queryByRole('link')).toBeNull();
      expect(within(row).getByTestId('event-task')).toHaveTextContent('Old spike (deleted)');
    }
  });

  it('filters by agent, by several kinds and by task', async () => {
    const events = [makeEvent(1, { actor: 'agent-9', kind: 'sized' }), makeEvent(2, { actor: 'ana', kind: 'note' })];
    const { fetch, requests } = feed(() => events);
    const { user } = renderApp('#/projects/p1/activity', fetch);
    await screen.findAllByTestId('event');
    await user.selectOptions(screen.getByLabelText('Agent'), 'agent-9');
    await waitFor(() => expect(screen.getAllByTestId('event').map((r) => r.getAttribute('data-event-id'))).toEqual(['e1']));
    expect(feedReads(requests).at(-1)?.url.searchParams.get('actor')).toBe('agent-9');

    await user.click(screen.getByText(/^Kinds:/));
    await user.click(screen.getByLabelText('Sized'));
    await user.click(screen.getByLabelText('Completed'));
    await waitFor(() => expect(feedReads(requests).at(-1)?.url.searchParams.getAll('kind')).toEqual(['sized', 'completed']));

    await user.type(screen.getByRole('combobox', { name: 'Task' }), 'Log');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(feedReads(requests).at(-1)?.url.searchParams.get('task_id')).toBe('t-login'));
    expect(screen.getByTestId('task-filter')).toHaveTextContent('Login');
  });

  it('loads older events page by page, and puts new ones on top without a reload or a jump', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    // jsdom does no layout: each event is 40 px high.
    Object.defineProperty(HTMLElement.prototype, 'scrollHeight', {
      configurable: true,
      get(this: HTMLElement) {
        return this.querySelectorAll('[data-testid=event]').length * 40;
      },
    });
    let events = Array.from({ length: 60 }, (_, i) => makeEvent(i + 1));
    const { fetch, requests } = feed(() => events);
    renderApp('#/projects/p1/activity', fetch);
    await waitFor(() => expect(screen.getAllByTestId('event')).toHaveLength(50));
    expect(screen.getAllByTestId('event')[0]).toHaveAttribute('data-event-id', 'e60');

    // The reader has scrolled 400 px down.
    const scroller = screen.getByTestId('activity-scroller');
    scroller.scrollTop = 400;

    events = [...events, makeEvent(61, { actor: 'agent-new', summary: 'Brand new' }), makeEvent(62, { summary: 'Newer still' })];
    await act(() => vi.advanceTimersByTimeAsync(5_000));
    await waitFor(() => expect(screen.getAllByTestId('event')[0]).toHaveAttribute('data-event-id', 'e62'));
    const poll = feedReads(requests).at(-1)!;
    expect(poll.url.searchParams.get('since'), 'asks for what came since the newest shown').toBe(makeEvent(60).at);
    expect(screen.getAllByTestId('event')[1]).toHaveAttribute('data-event-id', 'e61');
    expect(scroller.scrollTop, 'the same events stay in view').toBe(480);
    expect(screen.getByText('2 new events')).toBeInTheDocument();

    // The API counts offsets from the newest event: the next page starts 2 further on.
    await act(async () => screen.getByRole('button', { name: 'Load older events' }).click());
    await waitFor(() => expect(screen.getAllByTestId('event')).toHaveLength(62));
    expect(feedReads(requests).at(-1)?.url.searchParams.get('offset')).toBe('52');
    expect(screen.getAllByTestId('event').at(-1)).toHaveAttribute('data-event-id', 'e1');
    expect(await screen.findByText(/That is everything/)).toBeInTheDocument();
  });
});
