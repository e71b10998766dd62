import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Task, TaskTree } from '../../api/types';
import { fakeFetch, makeLock, makeTask, makeTree, projectDetail } from '../../test/fakeApi';
import { renderApp } from '../../test/renderApp';

function projectWith(roots: TaskTree[], extra: Parameters<typeof fakeFetch>[0] = {}) {
  const routes: Parameters<typeof fakeFetch>[0] = {
    'GET /projects/p1': { body: projectDetail },
    'GET /projects/p1/tasks': () => ({ body: roots.map(({ children: _c, ...task }) => task) }),
    ...extra,
  };
  roots.forEach((root) => {
    routes[`GET /tasks/${root.id}/tree`] ??= () => ({ body: roots.find((r) => r.id === root.id) });
  });
  return fakeFetch(routes);
}

const rowNames = () => screen.getAllByTestId('tree-row-name').map((button) => button.textContent);

describe('Task tree', () => {
  const login = makeTask({ id: 'login', name: 'Login form', parent_task_id: 'auth', readiness: 'ready', points: 3, effective_points: 3, depth: 1, position: 0, lock: makeLock({ task_id: 'login', caller_label: 'agent-7' }) });
  const schema = makeTask({ id: 'schema', name: 'Schema', parent_task_id: 'auth', depth: 1, position: 1 });
  const auth = () => makeTree(makeTask({ id: 'auth', name: 'Auth', readiness: 'blocked_by_children', effective_points: 3 }), [makeTree(login), makeTree(schema)]);
  const docs = makeTree(makeTask({ id: 'docs', name: 'Docs', position: 1 }));

  it('shows every task with status, readiness, points and lock holder', async () => {
    const { fetch } = projectWith([auth(), docs]);
    renderApp('#/projects/p1', fetch);
    await screen.findByText('Login form');
    expect(rowNames()).toEqual(['Auth', 'Login form', 'Schema', 'Docs']);
    const row = screen.getAllByTestId('tree-row')[1]!;
    expect(within(row).getByText('Ready')).toHaveAttribute('data-readiness', 'ready');
    expect(within(row).getByText('To Do')).toBeInTheDocument();
    expect(within(row).getByText('3 pts')).toBeInTheDocument();
    expect(within(row).getByText('agent-7')).toBeInTheDocument();
    expect(within(screen.getAllByTestId('tree-row')[2]!).getByText('? pts')).toBeInTheDocument();
  });

  it('collapses and expands a parent', async () => {
    const { fetch } = projectWith([auth(), docs]);
    const { user } = renderApp('#/projects/p1', fetch);
    await user.click(await screen.findByRole('button', { name: 'Collapse Auth' }));
    expect(rowNames()).toEqual(['Auth', 'Docs']);
    await user.click(screen.getByRole('button', { name: 'Expand Auth' }));
    expect(rowNames()).toEqual(['Auth', 'Login form', 'Schema', 'Docs']);
  });

  it('filters by readiness, keeping the parent for context', async () => {
    const { fetch } = projectWith([auth(), docs]);
    const { user } = renderApp('#/projects/p1', fetch);
    await screen.findByText('Login form');
    await user.selectOptions(screen.getByLabelText('Readiness'), 'ready');
    await waitFor(() => expect(rowNames()).toEqual(['Auth', 'Login form']));
    await user.selectOptions(screen.getByLabelText('Readiness'), 'needs_breakdown');
    expect(await screen.findByText('No task matches the filter.')).toBeInTheDocument();
  });

  it('moves a task down with the keyboard and tells the API its new position', async () => {
    let tree = auth();
    const { fetch, requests } = projectWith([tree], {
      'GET /tasks/auth/tree': () => ({ body: tree }),
      'PATCH /tasks/login/reorder': () => {
        tree = { ...tree, children: [tree.children[1]!, tree.children[0]!] };
        return { body: tree.children[1] };
      },
    });
    const { user } = renderApp('#/projects/p1', fetch);
    const handle = await screen.findByRole('button', { name: /^Reorder Login form/ });
    handle.focus();
    await user.keyboard('{ArrowDown}');
    await waitFor(() => expect(rowNames()).toEqual(['Auth', 'Schema', 'Login form']));
    expect(requests.find((r) => r.method === 'PATCH')?.body).toEqual({ position: 1 });
    expect(screen.getByText('Moved Login form to position 2 of 2')).toBeInTheDocument();
  });

  it('reorders siblings by drag and drop', async () => {
    let tree = auth();
    const { fetch, requests } = projectWith([tree], {
      'GET /tasks/auth/tree': () => ({ body: tree }),
      'PATCH /tasks/schema/reorder': () => {
        tree = { ...tree, children: [tree.children[1]!, tree.children[0]!] };
        return { body: schema };
      },
    });
    renderApp('#/projects/p1', fetch);
    await screen.findByText('Schema');
    const [, loginRow, schemaRow] = screen.getAllByTestId('tree-row');
    const dataTransfer = { setData: () => undefined, effectAllowed: '', dropEffect: '' };
    fireEvent.dragStart(schemaRow!, { dataTransfer });
    fireEvent.dragOver(loginRow!, { dataTransfer });
    fireEvent.drop(loginRow!, { dataTransfer });
    await waitFor(() => expect(rowNames()).toEqual(['Auth', 'Schema', 'Login form']));
    expect(requests.find((r) => r.method === 'PATCH')).toMatchObject({ path: '/tasks/schema/reorder', body: { position: 0 } });
  });

  it('puts a moved task back when the API refuses the move', async () => {
    const { fetch } = projectWith([auth()], {
      'PATCH /tasks/login/reorder': { status: 409, body: { error: { code: 'CONCURRENT_MODIFICATION', message: 'try again', details: {}, request_id: 'r9' } } },
    });
    const { user } = renderApp('#/projects/p1', fetch);
    (await screen.findByRole('button', { name: /^Reorder Login form/ })).focus();
    await user.keyboard('{ArrowDown}');
    expect(await screen.findByTestId('toast')).toHaveTextContent('try again');
    expect(rowNames()).toEqual(['Auth', 'Login form', 'Schema']);
  });

  it('adds a subtask inline under its parent', async () => {
    let tree = makeTree(makeTask({ id: 'auth', name: 'Auth' }));
    const { fetch, requests } = projectWith([tree], {
      'GET /projects/p1/tasks': () => ({ body: [{ ...tree, children: undefined }] }),
      'GET /tasks/auth/tree': () => ({ body: tree }),
      'POST /tasks/auth/subtasks': (req) => {
        const created: Task = makeTask({ id: 'new', name: (req.body as { name: string }).name, parent_task_id: 'auth', depth: 1 });
        tree = makeTree({ ...tree }, [makeTree(created)]);
        return { status: 201, body: created };
      },
    });
    const { user } = renderApp('#/projects/p1', fetch);
    await user.click(await screen.findByRole('button', { name: 'Add subtask to Auth' }));
    await user.type(screen.getByLabelText('New subtask of Auth name'), 'OAuth callback');
    await user.selectOptions(screen.getByLabelText('New subtask of Auth type'), 'bug');
    await user.click(screen.getByRole('button', { name: 'Add subtask' }));
    expect(await screen.findByText('OAuth callback')).toBeInTheDocument();
    expect(requests.find((r) => r.method === 'POST')?.body).toEqual({ name: 'OAuth callback', task_type: 'bug' });
  });

  it('gives the name back when the API refuses a new task', async () => {
    const { fetch } = projectWith([], {
      'POST /projects/p1/tasks': { status: 422, body: { error: { code: 'VALIDATION_ERROR', message: 'name: too long', details: {}, request_id: 'r1' } } },
    });
    const { user } = renderApp('#/projects/p1', fetch);
    const input = await screen.findByLabelText('New task name');
    await user.type(input, 'Too long{Enter}');
    expect(await screen.findByTestId('toast')).toHaveTextContent('name: too long');
    expect(input).toHaveValue('Too long');
  });

  it('says so when the project has no task', async () => {
    const { fetch } = projectWith([]);
    renderApp('#/projects/p1', fetch);
    expect(await screen.findByText('No tasks yet. Add the first one above.')).toBeInTheDocument();
  });

  it('shows a "waits for" chip naming the open blockers, and says when an ancestor waits', async () => {
    const backfill = makeTask({ id: 'backfill', name: 'Backfill', status: 'doing', position: 0 });
    const step = makeTask({ id: 'step', name: 'Switch DNS', parent_task_id: 'cut', depth: 1, waiting: true, readiness: 'blocked_by_dependencies' });
    const cut = makeTree(makeTask({ id: 'cut', name: 'Cut-over', position: 1, blocked_by: ['backfill'], open_blockers: 1, waiting: true, readiness: 'blocked_by_children' }), [makeTree(step)]);
    const { fetch } = projectWith([makeTree(backfill), cut]);
    const { user } = renderApp('#/projects/p1', fetch);
    await screen.findByText('Switch DNS');
    const chipOf = (index: number) => within(screen.getAllByTestId('tree-row')[index]!).queryByTestId('waiting-chip');
    expect(chipOf(0)).toBeNull();
    expect(chipOf(1)).toHaveTextContent(/^waits for 1/);
    expect(chipOf(1)).toHaveAttribute('title', 'Waits for “Backfill”.');
    expect(chipOf(2)).toHaveTextContent(/^waits \(ancestor\)/);
    expect(chipOf(2)).toHaveAttribute('title', 'An ancestor, “Cut-over”, waits for “Backfill”.');
    // The readiness filter knows the sixth readiness.
    await user.selectOptions(screen.getByLabelText('Readiness'), 'blocked_by_dependencies');
    await waitFor(() => expect(rowNames()).toEqual(['Cut-over', 'Switch DNS']));
  });
});

