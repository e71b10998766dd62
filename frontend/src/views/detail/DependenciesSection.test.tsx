import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Dependencies, Task } from '../../api/types';
import { fakeFetch, makeTask, projectDetail } from '../../test/fakeApi';
import { renderApp } from '../../test/renderApp';

const backfill = makeTask({ id: 'backfill', name: 'Backfill', status: 'doing', readiness: 'ready', position: 0 });
const backup = makeTask({ id: 'backup', name: 'Backup', position: 1 });
const docs = makeTask({ id: 'docs', name: 'Docs', position: 2 });

/** A project of three top-level tasks plus `cutover`, whose dependencies the routes keep. */
function project(cutover: Task, deps: Dependencies, extra: Parameters<typeof fakeFetch>[0] = {}) {
  return fakeFetch({
    'GET /projects/p1': { body: projectDetail },
    'GET /projects/p1/tasks': () => ({ body: [backfill, backup, docs, cutover] }),
    'GET /tasks/cutover': () => ({ body: cutover }),
    'GET /tasks/cutover/work-log': { body: [] },
    'GET /tasks/cutover/commits': { body: [] },
    'GET /tasks/cutover/context': { body: { context_captured_at: null, context_freshness: 'fresh', stale_reasons: [] } },
    'GET /tasks/cutover/dependencies': () => ({ body: deps }),
    ...extra,
  });
}

describe('Task dependencies', () => {
  it('lists what the task waits for and what waits for it, each linking to its task', async () => {
    const cutover = makeTask({ id: 'cutover', name: 'Cut-over', readiness: 'blocked_by_dependencies', blocked_by: ['backfill'], open_blockers: 1, waiting: true, position: 3 });
    const { fetch } = project(cutover, { blocked_by: [backfill], blocking: [docs] });
    renderApp('#/projects/p1?task=cutover', fetch);
    const section = await screen.findByRole('region', { name: 'Dependencies' });
    const blockedBy = await within(section).findByRole('list', { name: 'Blocked by' });
    const row = within(blockedBy).getByTestId('dependency-row');
    expect(within(row).getByRole('link', { name: 'Backfill' })).toHaveAttribute('href', '#/projects/p1?task=backfill');
    expect(within(row).getByText('Doing')).toBeInTheDocument();
    expect(within(row).getByText('Ready')).toBeInTheDocument();
    expect(within(within(section).getByRole('list', { name: 'Blocks' })).getByRole('link', { name: 'Docs' })).toBeInTheDocument();
    expect(await within(section).findByTestId('waiting-summary')).toHaveTextContent('Waits for “Backfill”.');
  });

  it('adds a blocker picked from the keyboard in the combobox, then removes it', async () => {
    let cutover = makeTask({ id: 'cutover', name: 'Cut-over', readiness: 'ready', position: 3 });
    let deps: Dependencies = { blocked_by: [], blocking: [] };
    const { fetch, requests } = project(cutover, deps, {
      'GET /tasks/cutover': () => ({ body: cutover }),
      'GET /tasks/cutover/dependencies': () => ({ body: deps }),
      'POST /tasks/cutover/dependencies': (req) => {
        const blocker = [backfill, backup, docs].find((t) => t.id === (req.body as { blocker_id: string }).blocker_id)!;
        deps = { blocked_by: [blocker], blocking: [] };
        cutover = { ...cutover, blocked_by: [blocker.id], open_blockers: 1, waiting: true, readiness: 'blocked_by_dependencies' };
        return { status: 201, body: { task_id: 'cutover', blocker_id: blocker.id, created_at: '2025-01-01T00:00:00Z', author: 'web-ui' } };
      },
      'DELETE /tasks/cutover/dependencies/backup': () => {
        deps = { blocked_by: [], blocking: [] };
        cutover = { ...cutover, blocked_by: [], open_blockers: 0, waiting: false, readiness: 'ready' };
        return { status: 204 };
      },
    });
    const { user } = renderApp('#/projects/p1?task=cutover', fetch);
    const section = await screen.findByRole('region', { name: 'Dependencies' });
    const input = within(section).getByRole('combobox', { name: 'Add a blocker (a task this one waits for)' });
    expect(input).toHaveAttribute('aria-expanded', 'false');
    await user.type(input, 'back');
    expect(input).toHaveAttribute('aria-expanded', 'true');
    const listbox = within(section).getByRole('listbox');
    // The task itself is not offered; the two matches are, the first one active.
    expect(within(listbox).getAllByRole('option').map((o) => o.textContent)).toEqual(['Backfill Doing', 'Backup To Do']);
    expect(input.getAttribute('aria-activedescendant')).toBe(within(listbox).getAllByRole('option')[0]!.id);
    await user.keyboard('{ArrowDown}');
    const active = within(listbox).getAllByRole('option')[1]!;
    expect(active).toHaveAttribute('aria-selected', 'true');
    expect(input.getAttribute('aria-activedescendant')).toBe(active.id);
    await user.keyboard('{Enter}');
    await waitFor(() => expect(requests.find((r) => r.method === 'POST')?.body).toEqual({ blocker_id: 'backup', author: 'web-ui' }));
    const blockedBy = await within(section).findByRole('list', { name: 'Blocked by' });
    expect(within(blockedBy).getByRole('link', { name: 'Backup' })).toBeInTheDocument();
    expect(await screen.findByText('Blocked by dependencies', { selector: '[data-readiness]' })).toBeInTheDocument();

    await user.click(within(blockedBy).getByRole('button', { name: 'Remove dependency on Backup' }));
    await waitFor(() => expect(within(section).getByText('Waits for no task.')).toBeInTheDocument());
    const removal = requests.find((r) => r.method === 'DELETE')!;
    expect(removal.path).toBe('/tasks/cutover/dependencies/backup');
    expect(removal.url.searchParams.get('author')).toBe('web-ui');
  });

  it('explains a refused dependency in the form, without a toast', async () => {
    const cutover = makeTask({ id: 'cutover', name: 'Cut-over', position: 3 });
    const refusal = (reason: string) => ({
      status: 422,
      body: { error: { code: 'INVALID_DEPENDENCY', message: 'refused', details: { reason, task_id: 'cutover', blocker_id: 'docs' }, request_id: 'rid-dep' } },
    });
    let reason = 'cycle';
    const { fetch } = project(cutover, { blocked_by: [], blocking: [] }, { 'POST /tasks/cutover/dependencies': () => refusal(reason) });
    const { user } = renderApp('#/projects/p1?task=cutover', fetch);
    const section = await screen.findByRole('region', { name: 'Dependencies' });
    const input = within(section).getByRole('combobox');
    const pick = async () => {
      await user.type(input, 'Docs');
      await user.keyboard('{Enter}');
      return within(section).findByRole('alert');
    };
    expect(await pick()).toHaveTextContent('“Cut-over” cannot wait for “Docs”: a task would end up waiting for itself');
    expect(within(section).getByRole('alert')).toHaveTextContent('request id: rid-dep');
    reason = 'limit';
    await waitFor(async () => expect(await pick()).toHaveTextContent('at most 50'));
    reason = 'cross_project';
    await waitFor(async () => expect(await pick()).toHaveTextContent('“Docs” belongs to another project'));
    expect(screen.queryByTestId('toast')).not.toBeInTheDocument();
  });

  it('Escape closes the list of matches, not the task', async () => {
    const cutover = makeTask({ id: 'cutover', name: 'Cut-over', position: 3 });
    const { fetch } = project(cutover, { blocked_by: [], blocking: [] });
    const { user } = renderApp('#/projects/p1?task=cutover', fetch);
    const section = await screen.findByRole('region', { name: 'Dependencies' });
    const input = within(section).getByRole('combobox');
    await user.type(input, 'D');
    expect(input).toHaveAttribute('aria-expanded', 'true');
    await user.keyboard('{Escape}');
    expect(input).toHaveAttribute('aria-expanded', 'false');
    expect(screen.getByRole('dialog', { name: 'Cut-over' })).toBeInTheDocument();
  });
});
