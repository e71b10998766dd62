import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { TaskStatus } from '../../api/types';
import { errorBody, fakeFetch, makeLock, makeTask, makeTree, projectDetail } from '../../test/fakeApi';
import { renderApp } from '../../test/renderApp';

function board() {
  let status: TaskStatus = 'todo';
  const leaf = () => makeTask({ id: 'leaf', name: 'Write docs', status, readiness: 'ready', points: 2, effective_points: 2, lock: makeLock({ task_id: 'leaf', caller_label: 'agent-3' }) });
  const fake = fakeFetch({
    'GET /projects/p1': { body: projectDetail },
    'GET /projects/p1/tasks': () => ({ body: [leaf()] }),
    'PATCH /tasks/leaf/status': (req) => {
      const to = (req.body as { status: TaskStatus }).status;
      if (to === 'done') return errorBody(422, 'INVALID_STATUS_TRANSITION', 'todo → done is not allowed', 'rid-42');
      status = to;
      return { body: leaf() };
    },
  });
  return fake;
}

const column = (status: TaskStatus) => screen.getByTestId(`kanban-column-${status}`);

describe('Kanban', () => {
  it('shows cards with points, readiness and lock holder in their status column', async () => {
    const { fetch } = board();
    renderApp('#/projects/p1/kanban', fetch);
    const card = await screen.findByTestId('kanban-card');
    expect(column('todo')).toContainElement(card);
    expect(within(card).getByText('2 pts')).toBeInTheDocument();
    expect(within(card).getByText('Ready')).toBeInTheDocument();
    expect(within(card).getByText('agent-3')).toBeInTheDocument();
  });

  it('moves a card by dragging it to another column', async () => {
    const { fetch, requests } = board();
    renderApp('#/projects/p1/kanban', fetch);
    const card = await screen.findByTestId('kanban-card');
    const dataTransfer = { setData: () => undefined, effectAllowed: '', dropEffect: '' };
    fireEvent.dragStart(card, { dataTransfer });
    fireEvent.dragOver(column('doing'), { dataTransfer });
    fireEvent.drop(column('doing'), { dataTransfer });
    await waitFor(() => expect(column('doing')).toContainElement(screen.getByTestId('kanban-card')));
    expect(requests.find((r) => r.method === 'PATCH')?.body).toEqual({ status: 'doing' });
  });

  it('shows the API refusal when a move is not allowed, and the card stays', async () => {
    const { fetch } = board();
    renderApp('#/projects/p1/kanban', fetch);
    const card = await screen.findByTestId('kanban-card');
    const dataTransfer = { setData: () => undefined, effectAllowed: '', dropEffect: '' };
    fireEvent.dragStart(card, { dataTransfer });
    fireEvent.drop(column('done'), { dataTransfer });
    const toast = await screen.findByTestId('toast');
    expect(toast).toHaveTextContent('todo → done is not allowed');
    expect(toast).toHaveTextContent('rid-42');
    expect(column('todo')).toContainElement(screen.getByTestId('kanban-card'));
  });

  it('offers only allowed moves from the keyboard menu', async () => {
    const { fetch, requests } = board();
    const { user } = renderApp('#/projects/p1/kanban', fetch);
    const menu = await screen.findByLabelText('Move Write docs to');
    expect(within(menu).getAllByRole('option').map((o) => o.textContent)).toEqual(['—', 'Doing', "Won't Do"]);
    await user.selectOptions(menu, 'doing');
    await waitFor(() => expect(column('doing')).toContainElement(screen.getByTestId('kanban-card')));
    expect(requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });

  it('hides parent tasks unless asked', async () => {
    const parent = makeTree(makeTask({ id: 'par', name: 'Parent epic', readiness: 'blocked_by_children' }), [
      makeTree(makeTask({ id: 'kid', name: 'Kid task', parent_task_id: 'par' })),
    ]);
    const { fetch } = fakeFetch({
      'GET /projects/p1': { body: projectDetail },
      'GET /projects/p1/tasks': { body: [{ ...parent, children: undefined }] },
      'GET /tasks/par/tree': { body: parent },
    });
    const { user } = renderApp('#/projects/p1/kanban', fetch);
    expect(await screen.findByText('Kid task')).toBeInTheDocument();
    expect(screen.getByText('in Parent epic')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Parent epic' })).not.toBeInTheDocument();
    await user.click(screen.getByLabelText('Leaf tasks only'));
    expect(screen.getByRole('button', { name: 'Parent epic' })).toBeInTheDocument();
  });

  it('marks a card that waits for another task', async () => {
    const blocker = makeTask({ id: 'schema', name: 'Schema', status: 'todo', position: 0 });
    const waiting = makeTask({ id: 'api', name: 'API', position: 1, blocked_by: ['schema'], open_blockers: 1, waiting: true, readiness: 'blocked_by_dependencies' });
    const { fetch } = fakeFetch({ 'GET /projects/p1': { body: projectDetail }, 'GET /projects/p1/tasks': { body: [blocker, waiting] } });
    renderApp('#/projects/p1/kanban', fetch);
    const card = (await screen.findAllByTestId('kanban-card')).find((c) => c.getAttribute('data-task-id') === 'api')!;
    expect(within(card).getByTestId('waiting-chip')).toHaveAttribute('title', 'Waits for “Schema”.');
    expect(within(card).getByText('Blocked by dependencies')).toBeInTheDocument();
  });
});

