// One project's story through every view, step by step in one page (each step starts where the
// last one left it, as in a person's session), then two checks that need no story.
import type { Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { expect, shot, test } from './fixtures';

const exactly = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
const rowOf = (page: Page, name: string) =>
  page.getByTestId('tree-row').filter({ has: page.getByTestId('tree-row-name').filter({ hasText: exactly(name) }) });
const rowNames = (page: Page) => page.getByTestId('tree-row-name').allTextContents();
const readinessOf = (page: Page, name: string) => rowOf(page, name).locator('[data-readiness]').getAttribute('data-readiness');
const refresh = (page: Page) => page.getByRole('button', { name: 'Refresh' }).click();
const dismissToasts = async (page: Page) => {
  for (const button of await page.getByRole('button', { name: 'Dismiss message' }).all()) await button.click();
};

test.describe('a project, view by view', () => {
  // A failed step skips the rest of the story (and on CI the story is retried from the start).
  test.describe.configure({ mode: 'serial' });

  let page: Page;
  const pageErrors: string[] = [];
  let projectId: string;
  let importedId: string;
  let authFlow: string;
  let docs: string;
  let ids: Record<string, string>;

  test.beforeAll(async ({ browser, api }, testInfo) => {
    // A retry starts without the projects of the attempt that failed (the server is shared).
    const projects: { id: string; name: string }[] = await api.get('/projects?limit=100');
    for (const p of projects) if (['E2E project', 'E2E Apollo'].includes(p.name)) await api.call('DELETE', `/projects/${p.id}`);
    page = await browser.newPage({ viewport: testInfo.project.use.viewport ?? null });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });
  test.afterEach(() => expect(pageErrors, 'no uncaught errors in the page').toEqual([]));
  test.afterAll(() => page?.close());

  test('projects: create a project', async ({ url }) => {
    await page.goto(url('/'));
    await expect(page.getByText(/No projects yet|Projects/).first()).toBeVisible();
    await page.getByLabel('Project name').fill('E2E project');
    await page.getByLabel('Description (optional)').fill('Created by the browser tests');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.waitForURL(/#\/projects\/[^/?]+$/);
    projectId = page.url().split('/projects/')[1]!;
    await expect(page.getByTestId('project-name').getByText('E2E project')).toBeVisible();
    await expect(page.getByText('No tasks yet. Add the first one above.')).toBeVisible();
    await shot(page, 'tree-empty');
  });

  test('projects: rename a project', async ({ api, url }) => {
    await page.goto(url('/'));
    await page.getByRole('button', { name: 'Rename E2E project' }).click();
    await page.getByLabel('New name for E2E project').fill('E2E Apollo');
    await page.keyboard.press('Enter');
    await expect(page.getByRole('link', { name: 'E2E Apollo' })).toBeVisible();
    const project = await api.get(`/projects/${projectId}`);
    expect(project.name, 'API name').toBe('E2E Apollo');
  });

  test('tree: add tasks and subtasks', async ({ api, url }) => {
    await page.goto(url(`/projects/${projectId}`));
    const addTop = async (name: string) => {
      await page.getByLabel('New task name', { exact: true }).fill(name);
      await page.getByRole('button', { name: 'Add task' }).click();
      await expect(rowOf(page, name)).toBeVisible();
    };
    await addTop('Auth flow');
    await addTop('Docs');
    await page.getByRole('button', { name: 'Add subtask to Auth flow' }).click();
    for (const name of ['Login form', 'Session store', 'Logout']) {
      await page.getByLabel('New subtask of Auth flow name').fill(name);
      await page.getByLabel('New subtask of Auth flow type').selectOption(name === 'Logout' ? 'bug' : 'feature');
      await page.getByRole('button', { name: 'Add subtask', exact: true }).click();
      await expect(rowOf(page, name)).toBeVisible();
    }
    await page.keyboard.press('Escape');
    await expect.poll(async () => (await rowNames(page)).join('|'), { message: 'tree order' }).toBe('Auth flow|Login form|Session store|Logout|Docs');
    expect(await readinessOf(page, 'Login form'), 'new subtask needs sizing').toBe('needs_sizing');
    expect(await readinessOf(page, 'Auth flow'), 'parent is blocked by children').toBe('blocked_by_children');
    const top: { id: string; name: string }[] = await api.get(`/projects/${projectId}/tasks`);
    authFlow = top.find((t) => t.name === 'Auth flow')!.id;
    docs = top.find((t) => t.name === 'Docs')!.id;
    const tree = await api.get(`/tasks/${authFlow}/tree`);
    ids = Object.fromEntries(tree.children.map((c: { name: string; id: string }) => [c.name, c.id]));
    expect(tree.children.find((c: { name: string }) => c.name === 'Logout').task_type, 'subtask type is sent').toBe('bug');
  });

  test('tree: readiness badges change after sizing through the API', async ({ api }) => {
    await api.size(ids['Login form']!, [1, 0, 1, 1, 1]); // total 4 → ready
    await api.size(ids['Session store']!, [2, 2, 1, 2, 1]); // total 8 → needs breakdown
    await refresh(page);
    await expect.poll(() => readinessOf(page, 'Login form'), { message: 'Login form becomes ready' }).toBe('ready');
    await expect.poll(() => readinessOf(page, 'Session store'), { message: 'Session store needs breakdown' }).toBe('needs_breakdown');
    expect(await rowOf(page, 'Login form').innerText(), 'Login form shows 4 points').toContain('4 pts');
    expect(await rowOf(page, 'Auth flow').innerText(), 'Auth flow rolls up 12 points').toContain('12 pts');
    await expect(page.getByRole('progressbar', { name: 'Points done' })).toBeVisible();
    await shot(page, 'tree');
  });

  test('tree: reorder siblings by drag, and by keyboard', async ({ api }) => {
    await rowOf(page, 'Logout').dragTo(rowOf(page, 'Login form'));
    await expect.poll(async () => (await rowNames(page)).join('|'), { message: 'drag reorders the rows' }).toBe('Auth flow|Logout|Login form|Session store|Docs');
    await expect.poll(async () => (await api.treeNames(authFlow)).join('|'), { message: 'API has the dragged order' }).toBe('Logout|Login form|Session store');

    const focusedLabel = () => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? '');
    const apiTop = async () => ((await api.get(`/projects/${projectId}/tasks`)) as { name: string }[]).map((t) => t.name).join('|');
    await rowOf(page, 'Docs').getByRole('button', { name: /^Reorder Docs/ }).focus();
    await page.keyboard.press('ArrowUp');
    await expect.poll(async () => (await rowNames(page))[0], { message: 'keyboard moves Docs up' }).toBe('Docs');
    await expect.poll(apiTop, { message: 'API has the keyboard order' }).toBe('Docs|Auth flow');
    await expect.poll(focusedLabel, { message: 'the handle keeps the focus' }).toMatch(/^Reorder Docs \(position 1 of 2\)/);
    await page.keyboard.press('ArrowDown');
    await expect.poll(apiTop, { message: 'a second key press moves it back' }).toBe('Auth flow|Docs');
    await page.keyboard.press('ArrowUp');
    await expect.poll(apiTop, { message: 'and up again' }).toBe('Docs|Auth flow');

    // Arrow keys on task names walk the rows.
    await rowOf(page, 'Docs').getByTestId('tree-row-name').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent), { message: 'ArrowDown walks to Logout' }).toBe('Logout');
  });

  test('detail: radar chart of a sized task', async ({ api }) => {
    await api.post(`/tasks/${ids['Login form']}/commits`, { commit_hash: 'ABCDEF1234', message: 'Add the login form', author: 'e2e-dev' });
    await rowOf(page, 'Login form').getByTestId('tree-row-name').click();
    const panel = page.getByTestId('task-detail');
    await expect(panel.getByTestId('radar-chart')).toBeVisible();
    await panel.getByTestId('radar-chart').scrollIntoViewIfNeeded();
    const label = await panel.getByTestId('radar-chart').getAttribute('aria-label');
    expect(label, 'radar label').toContain('Scope clarity 1 of 2');
    expect(label, 'radar label').toContain('Decision points 0 of 2');
    await expect(panel.getByText('e2e: verification complexity scored 1')).toBeVisible();
    await expect(panel.getByText('Third-party API quirks')).toBeVisible();
    await expect(panel.getByText('Sized by e2e-sizer').first()).toBeVisible();
    expect(await panel.getByTestId('sizing-total').innerText(), 'total 4').toBe('4');
    await expect(panel.getByText('Add the login form')).toBeVisible();
    await expect(panel.getByText('abcdef1234', { exact: true })).toBeVisible(); // stored lowercase
    expect(await panel.getByTestId('freshness').innerText(), 'created without context: stale').toBe('Stale');
    await expect(panel.getByText('never captured', { exact: false })).toBeVisible();
    const statusButtons = await panel.getByRole('group', { name: 'Change status' }).getByRole('button').allTextContents();
    expect(statusButtons.join('|'), 'status buttons').toBe("Move to Doing|Move to Won't Do");
    await shot(page, 'task-detail');
    await page.keyboard.press('Escape');
    await expect(panel).toHaveCount(0);
  });

  test('kanban: an allowed move, and a refused one with the API message', async ({ api, url }) => {
    await page.goto(url(`/projects/${projectId}/kanban`));
    const card = (name: string) => page.getByTestId('kanban-card').filter({ has: page.getByRole('button', { name, exact: true }) });
    const column = (status: string) => page.getByTestId(`kanban-column-${status}`);
    await expect(card('Login form')).toBeVisible();
    await card('Login form').dragTo(column('doing'));
    await expect(column('doing').getByRole('button', { name: 'Login form', exact: true })).toBeVisible();
    await expect.poll(async () => (await api.get(`/tasks/${ids['Login form']}`)).status, { message: 'API status doing' }).toBe('doing');

    await card('Logout').dragTo(column('done'));
    const toast = page.getByTestId('toast').first();
    await expect(toast).toBeVisible();
    const text = await toast.innerText();
    expect(text, 'toast shows a request id').toMatch(/request id: \S+/);
    const refusal = await api.call('PATCH', `/tasks/${ids.Logout}/status`, { status: 'done' }).catch((e) => e.body);
    expect(text, `toast shows the API message "${refusal.error.message}"`).toContain(refusal.error.message);
    expect(await column('todo').getByRole('button', { name: 'Logout', exact: true }).count(), 'refused card stays in To Do').toBe(1);
    await shot(page, 'kanban-refused');
    await dismissToasts(page);
    await shot(page, 'kanban');
  });

  test('lock monitor: force-release a lock taken through the API', async ({ api, url }) => {
    const lock = await api.post(`/tasks/${docs}/lock`, { caller_label: 'agent-smith', lock_purpose: 'refinement' });
    await page.goto(url(`/projects/${projectId}/locks`));
    const row = page.getByTestId('lock-row').filter({ hasText: 'agent-smith' });
    await expect(row.getByText('Docs')).toBeVisible();
    const text = await row.innerText();
    expect(text, 'lock row').toContain('Refinement');
    expect(text, 'lock row').toContain(String(lock.fencing_token));
    expect(await row.getByRole('time').innerText(), 'countdown shown').toMatch(/\d+:\d\d/);
    await expect(page.getByTestId('stalled-list').getByText('Login form')).toBeVisible(); // doing, nobody holds it
    await shot(page, 'lock-monitor');
    await row.getByRole('button', { name: 'Force-release the lock on Docs' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Force-release' }).click();
    await expect(page.getByText('No live locks in this project.')).toBeVisible();
    const task = await api.get(`/tasks/${docs}`);
    expect(task.lock, 'API shows no lock').toBeNull();
    // The forced release is on the task's record: its work log names the previous holder.
    await page.goto(url(`/projects/${projectId}/locks?task=${docs}`));
    await expect(page.getByTestId('work-log').getByText(/agent-smith/)).toBeVisible();
  });

  test('queues: what agents get next', async ({ url }) => {
    await page.goto(url(`/projects/${projectId}/queues`));
    await expect(page.getByTestId('queue-sizing').getByText('Docs')).toBeVisible();
    await expect(page.getByTestId('queue-breakdown').getByText('Session store')).toBeVisible();
    await expect(page.getByTestId('queue-implementation').getByText('Login form')).toBeVisible();
    await shot(page, 'queues');
  });

  test('dependencies: a task waits for another, leaves the implementation queue, and comes back', async ({ api, url }) => {
    const loginForm = ids['Login form']!;
    const implementationQueue = page.getByTestId('queue-implementation');
    const panel = page.getByTestId('task-detail');
    const dependencies = panel.getByRole('region', { name: 'Dependencies' });

    // Login form (doing, nobody holds it) is offered for implementation; make it wait for Docs.
    await page.goto(url(`/projects/${projectId}/queues?task=${loginForm}`));
    await expect(implementationQueue.getByText('Login form')).toBeVisible();
    const combobox = dependencies.getByRole('combobox', { name: /^Add a blocker/ });
    await combobox.fill('doc');
    await expect(dependencies.getByRole('option', { name: /^Docs/ })).toHaveAttribute('aria-selected', 'true');
    await combobox.press('Enter');
    await expect(dependencies.getByRole('list', { name: 'Blocked by' }).getByRole('link', { name: 'Docs' })).toBeVisible();
    await expect(panel.locator('[data-readiness]').first()).toHaveAttribute('data-readiness', 'blocked_by_dependencies');
    expect((await api.get(`/tasks/${loginForm}`)).blocked_by, 'API has the edge').toEqual([docs]);
    await expect(implementationQueue.getByText('Login form'), 'a waiting task leaves the implementation queue').toHaveCount(0);
    await shot(page, 'task-dependencies');

    // Docs, in turn, lists what waits for it.
    await dependencies.getByRole('list', { name: 'Blocked by' }).getByRole('link', { name: 'Docs' }).click();
    await expect(page.getByRole('dialog', { name: 'Docs' }).getByRole('list', { name: 'Blocks' }).getByRole('link', { name: 'Login form' })).toBeVisible();
    await page.keyboard.press('Escape');

    // The tree and the board show the wait, and say what for.
    await page.goto(url(`/projects/${projectId}`));
    const chip = rowOf(page, 'Login form').getByTestId('waiting-chip');
    await expect(chip).toHaveText(/waits for 1/);
    await expect(chip).toHaveAttribute('title', 'Waits for “Docs”.');
    await shot(page, 'tree-waiting');
    await page.getByRole('link', { name: 'Kanban' }).click();
    await expect(page.getByTestId('kanban-card').filter({ hasText: 'Login form' }).getByTestId('waiting-chip')).toHaveText(/waits for 1/);

    // Removed: it stops waiting and is offered again.
    await page.goto(url(`/projects/${projectId}/queues?task=${loginForm}`));
    await dependencies.getByRole('button', { name: 'Remove dependency on Docs' }).click();
    await expect(dependencies.getByText('Waits for no task.')).toBeVisible();
    await expect(implementationQueue.getByText('Login form'), 'back in the implementation queue').toBeVisible();
    expect((await api.get(`/tasks/${loginForm}`)).readiness, 'API readiness').toBe('ready');
    await page.keyboard.press('Escape');
  });

  test('projects: export a project and import it back', async ({ url }) => {
    await page.goto(url('/'));
    await expect(page.getByRole('link', { name: 'E2E Apollo' })).toBeVisible();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export E2E Apollo as JSON' }).click()]);
    const file = test.info().outputPath('export.json');
    await download.saveAs(file);
    const snapshot = JSON.parse(await readFile(file, 'utf8'));
    expect(snapshot.format_version, 'export format').toBe(2);
    expect(snapshot.tasks.length, 'export holds the 5 tasks').toBe(5);
    expect(
      snapshot.tasks.every((t: { blocked_by?: unknown }) => Array.isArray(t.blocked_by)),
      'format 2 carries each task\'s blocked_by',
    ).toBe(true);
    await page.locator('input[type=file]').setInputFiles(file);
    await page.waitForURL((u) => /#\/projects\//.test(u.toString()) && !u.toString().includes(projectId));
    importedId = page.url().split('/projects/')[1]!;
    await expect(rowOf(page, 'Session store')).toBeVisible();
    expect((await rowNames(page)).length, 'imported tree has 5 tasks').toBe(5);
  });

  test('projects: delete asks for confirmation', async ({ api, url }) => {
    await page.goto(url('/'));
    // This story's two projects (other tests' projects are on the shared server too).
    const rows = page.locator([projectId, importedId].map((id) => `[data-testid=project-row][data-project-id="${id}"]`).join(', '));
    await expect(rows, 'two projects listed').toHaveCount(2);
    await page.locator(`[data-project-id="${importedId}"]`).getByRole('button', { name: /^Delete / }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel' }).click();
    expect(await rows.count(), 'cancel keeps the project').toBe(2);
    await page.locator(`[data-project-id="${importedId}"]`).getByRole('button', { name: /^Delete / }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete project' }).click();
    await expect(rows, 'project removed from the list').toHaveCount(1);
    const gone = await api.get(`/projects/${importedId}`).catch((e) => e.status);
    expect(gone, 'API answers 404 for the deleted project').toBe(404);
    await shot(page, 'projects');
  });
});

test('empty project: every view says it is empty', async ({ page, api, url }) => {
  const empty = await api.post('/projects', { name: 'Empty' });
  await page.goto(url(`/projects/${empty.id}/kanban`));
  await expect(page.getByText('No tasks yet. Add some in the tree.')).toBeVisible();
  await page.goto(url(`/projects/${empty.id}/locks`));
  await expect(page.getByText('No live locks in this project.')).toBeVisible();
  await expect(page.getByText('No stalled tasks.')).toBeVisible();
  await page.goto(url(`/projects/${empty.id}/queues`));
  await expect(page.getByText('Nothing waiting.'), 'four empty queues').toHaveCount(4);
  await shot(page, 'queues-empty');
  await api.call('DELETE', `/projects/${empty.id}`);
});

test('the API lets the browser read X-Request-ID and X-Next-Offset', async ({ page, api, server, url }) => {
  // Two projects of its own, so that a page of one has a next one whatever ran before.
  const made = [await api.post('/projects', { name: 'Headers 1' }), await api.post('/projects', { name: 'Headers 2' })];
  await page.goto(url('/'));
  const headers = await page.evaluate(async (base) => {
    const response = await fetch(`${base}/projects?limit=1`);
    return { requestId: response.headers.get('X-Request-ID'), nextOffset: response.headers.get('X-Next-Offset') };
  }, server.api);
  expect(headers.requestId, 'X-Request-ID is readable cross-origin (Access-Control-Expose-Headers)').toBeTruthy();
  expect(headers.nextOffset, 'X-Next-Offset is readable cross-origin').toBe('1');
  for (const project of made) await api.call('DELETE', `/projects/${project.id}`);
});
