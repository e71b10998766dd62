// Watching agents work: the activity feed, the burn-up chart and the agents view. Each test makes
// its own project on the shared server (whose implementation locks last 3 s: see global-setup.ts).
import { expect, shot, test } from './fixtures';

test('activity: an agent’s operation shows with its actor, and new events arrive without a reload', async ({ page, api, url }) => {
  const project = await api.post('/projects', { name: 'Activity feed' });
  const task = await api.post(`/projects/${project.id}/tasks`, { name: 'Parser', task_type: 'feature' });
  await api.size(task.id, [1, 1, 1, 1, 0], 'agent-sizer');

  await page.goto(url(`/projects/${project.id}/activity`));
  const sized = page.locator('[data-testid=event][data-kind=sized]');
  await expect(sized).toHaveCount(1);
  await expect(sized.getByTestId('event-actor')).toHaveText('agent-sizer');
  await expect(sized.getByRole('link', { name: 'Parser' })).toBeVisible();
  // The sizing lock came and went in the same breath, newest first.
  const kinds = await page.getByTestId('event').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')));
  expect(kinds, 'newest first').toEqual(['lock_released', 'sized', 'lock_acquired', 'task_created']);

  // Something new happens; it shows up on top by itself (the page is the same page: no reload).
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  await api.post(`/tasks/${task.id}/work-log`, { operation: 'note', content: 'Grammar settled', author: 'agent-late' });
  const note = page.locator('[data-testid=event][data-kind=note]');
  await expect(note.getByTestId('event-actor')).toHaveText('agent-late', { timeout: 15_000 });
  await expect(page.getByTestId('event').first()).toHaveAttribute('data-kind', 'note');
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), 'not reloaded').toBe(true);

  // Filters: one agent's events only.
  await page.getByLabel('Agent').selectOption('agent-sizer');
  await expect(page.getByTestId('event-actor')).toHaveText(['agent-sizer', 'agent-sizer', 'agent-sizer']);
  await shot(page, 'activity');

  // An event's task opens in the slide-out, with its own history.
  await sized.getByRole('link', { name: 'Parser' }).click();
  const history = page.getByTestId('task-detail').getByTestId('task-history');
  await expect(history.locator('[data-kind=sized]')).toBeVisible();
  await expect(history.locator('[data-kind=note]').getByTestId('event-actor')).toHaveText('agent-late');
  await history.scrollIntoViewIfNeeded();
  await shot(page, 'task-history');
  await api.call('DELETE', `/projects/${project.id}`);
});

test('burn-up: the chart draws the points completed once tasks are done', async ({ page, api, url }) => {
  const project = await api.post('/projects', { name: 'Burn-up' });
  const tasks = [];
  for (const [name, points] of [['Lexer', 3], ['Parser', 2], ['Codegen', 5]] as const) {
    tasks.push(await api.post(`/projects/${project.id}/tasks`, { name, task_type: 'feature', points }));
  }
  await page.goto(url(`/projects/${project.id}`));
  const burnup = page.getByRole('figure', { name: /Burn-up, 30 days/ });
  await expect(burnup.getByTestId('burnup-summary')).toHaveText(/^Today: 0 of 10 points done, 0 of 3 tasks/);
  await expect(burnup.locator('canvas')).toBeVisible();

  for (const task of tasks.slice(0, 2)) {
    await api.call('PATCH', `/tasks/${task.id}/status`, { status: 'doing' });
    await api.call('PATCH', `/tasks/${task.id}/status`, { status: 'done' });
  }
  await page.getByRole('button', { name: 'Refresh' }).click();
  await expect(burnup.getByTestId('burnup-summary')).toHaveText(/^Today: 5 of 10 points done, 2 of 3 tasks/);
  await expect(burnup).toHaveAttribute('data-points-completed', '5');
  // uPlot drew the completed series: green pixels on its canvas.
  const greenPixels = () =>
    burnup.locator('canvas').evaluate((canvas: HTMLCanvasElement) => {
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let count = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 1]! > data[i]! + 40 && data[i + 1]! > data[i + 2]! + 20 && data[i + 3]! > 0) count += 1;
      return count;
    });
  await expect.poll(greenPixels, { message: 'the completed series is drawn' }).toBeGreaterThan(0);
  await shot(page, 'burnup');
  await api.call('DELETE', `/projects/${project.id}`);
});

test('agents: a lock holder is listed, and a lock that expires on it makes it stand out', async ({ page, api, url }) => {
  const project = await api.post('/projects', { name: 'Agents' });
  const task = await api.post(`/projects/${project.id}/tasks`, { name: 'Flaky migration', task_type: 'feature', points: 2 });
  const agent = 'agent-crashy';
  await api.post(`/tasks/${task.id}/lock`, { caller_label: agent, lock_purpose: 'implementation' });
  // Alive: it heartbeats every second (the shared server's implementation locks last 3 s).
  const heartbeat = setInterval(() => {
    api.call('PATCH', `/tasks/${task.id}/lock/heartbeat?caller_label=${agent}`).catch(() => undefined);
  }, 1000);
  try {
    await page.goto(url(`/projects/${project.id}/agents`));
    const row = page.locator(`[data-testid=agent-row][data-actor="${agent}"]`);
    await expect(row.getByTestId('agent-lock').getByRole('link', { name: 'Flaky migration' })).toBeVisible();
    await expect(row.getByTestId('agent-lock')).toContainText('Implementation');
    await expect(row).toHaveAttribute('data-locks-expired', '0');
    await shot(page, 'agents');
  } finally {
    clearInterval(heartbeat);
  }
  // It "crashes": no more heartbeats. The lock runs out, the sweep removes it, the view shows it.
  const row = page.locator(`[data-testid=agent-row][data-actor="${agent}"]`);
  await expect(row.getByTestId('locks-expired')).toHaveText(/1 expired/, { timeout: 20_000 });
  await expect(row.getByTestId('agent-lock')).toHaveCount(0);
  await shot(page, 'agents-expired');
  await api.call('DELETE', `/projects/${project.id}`);
});
