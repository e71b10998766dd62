import { expect, shot, test } from './fixtures';

test('auth on: a 401 asks for a token, which is kept and sent', async ({ page, authServer }) => {
  const token = authServer.log().match(/token \(shown once\): (\S+)/)?.[1];
  expect(token, 'the local server printed its first admin token').toBeTruthy();
  await page.goto(`${authServer.frontend}/#/`);
  const dialog = page.getByRole('dialog', { name: 'API token needed' });
  await expect(dialog).toBeVisible();
  await shot(page, 'token-dialog');
  await dialog.getByLabel('API token').fill(token!);
  await dialog.getByRole('button', { name: 'Save token' }).click();
  await expect(page.getByText('No projects yet. Create one above or import an export.')).toBeVisible();
  await page.getByLabel('Project name').fill('Secured');
  await page.getByRole('button', { name: 'Create project' }).click();
  await expect(page.getByTestId('project-name').getByText('Secured')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('project-name').getByText('Secured')).toBeVisible();
  expect(await page.getByRole('dialog', { name: 'API token needed' }).count(), 'the stored token is used after a reload').toBe(0);
});
