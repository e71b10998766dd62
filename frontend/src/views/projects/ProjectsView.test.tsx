import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { errorBody, fakeFetch, project, projectDetail, type FakeResponse } from '../../test/fakeApi';
import { renderApp } from '../../test/renderApp';

describe('Projects view', () => {
  it('lists projects with their points progress', async () => {
    const { fetch } = fakeFetch({ 'GET /projects': { body: [project] }, 'GET /projects/p1': { body: projectDetail } });
    renderApp('#/', fetch);
    const row = await screen.findByTestId('project-row');
    expect(within(row).getByRole('link', { name: 'Apollo' })).toHaveAttribute('href', '#/projects/p1');
    expect(await within(row).findByRole('progressbar', { name: 'Points done in Apollo' })).toHaveAttribute('aria-valuetext', '3 of 8 points');
  });

  it('says so when there is no project', async () => {
    const { fetch } = fakeFetch({ 'GET /projects': { body: [] } });
    renderApp('#/', fetch);
    expect(await screen.findByText(/No projects yet/)).toBeInTheDocument();
  });

  it('deletes a project only after confirmation', async () => {
    let projects = [project];
    const { fetch, requests } = fakeFetch({
      'GET /projects': () => ({ body: projects }),
      'GET /projects/p1': { body: projectDetail },
      'DELETE /projects/p1': () => {
        projects = [];
        return { status: 204 };
      },
    });
    const { user } = renderApp('#/', fetch);
    await user.click(await screen.findByRole('button', { name: 'Delete Apollo' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Delete “Apollo”?' });
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(requests.some((r) => r.method === 'DELETE')).toBe(false);

    await user.click(screen.getByRole('button', { name: 'Delete Apollo' }));
    await user.click(screen.getByRole('button', { name: 'Delete project' }));
    expect(await screen.findByText(/No projects yet/)).toBeInTheDocument();
    expect(requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual(['/projects/p1']);
  });

  it('renames a project inline', async () => {
    let current = project;
    const { fetch, requests } = fakeFetch({
      'GET /projects': () => ({ body: [current] }),
      'GET /projects/p1': () => ({ body: { ...projectDetail, ...current } }),
      'PUT /projects/p1': (req) => {
        current = { ...current, ...(req.body as object) };
        return { body: current };
      },
    });
    const { user } = renderApp('#/', fetch);
    await user.click(await screen.findByRole('button', { name: 'Rename Apollo' }));
    const input = screen.getByLabelText('New name for Apollo');
    await user.clear(input);
    await user.type(input, 'Artemis{Enter}');
    expect(await screen.findByRole('link', { name: 'Artemis' })).toBeInTheDocument();
    expect(requests.find((r) => r.method === 'PUT')?.body).toEqual({ name: 'Artemis' });
  });

  it('shows a refused create as a toast with the API message and request id', async () => {
    const { fetch } = fakeFetch({
      'GET /projects': { body: [] },
      'POST /projects': errorBody(422, 'VALIDATION_ERROR', 'name: too long', 'req-77'),
    });
    const { user } = renderApp('#/', fetch);
    await user.type(await screen.findByLabelText('Project name'), 'X');
    await user.click(screen.getByRole('button', { name: 'Create project' }));
    const toast = await screen.findByTestId('toast');
    expect(toast).toHaveTextContent('name: too long');
    expect(toast).toHaveTextContent('request id: req-77');
  });

  it('asks for a token on 401, stores it and retries with it', async () => {
    const { fetch, requests } = fakeFetch({
      'GET /projects': (req) =>
        req.headers.Authorization === 'Bearer tok-1' ? { body: [project] } : errorBody(401, 'UNAUTHORIZED', 'missing token'),
      'GET /projects/p1': { body: projectDetail },
    });
    const { user } = renderApp('#/', fetch);
    const dialog = await screen.findByRole('dialog', { name: 'API token needed' });
    await user.type(within(dialog).getByLabelText('API token'), 'tok-1');
    await user.click(within(dialog).getByRole('button', { name: 'Save token' }));
    expect(await screen.findByRole('link', { name: 'Apollo' })).toBeInTheDocument();
    expect(window.localStorage.getItem('chorus.token')).toBe('tok-1');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(screen.queryByTestId('toast')).not.toBeInTheDocument();
    await waitFor(() => expect(requests.at(-1)?.headers.Authorization).toBe('Bearer tok-1'));
  });

  it('lists a project created while the first load of the list was still on its way', async () => {
    // The first GET /projects answers only when the test says, with the list as it was before the create.
    let answerFirstLoad: (response: FakeResponse) => void = () => undefined;
    const firstLoad = new Promise<FakeResponse>((resolve) => (answerFirstLoad = resolve));
    const created = { ...project, id: 'p2', name: 'Late bird' };
    let projects: (typeof project)[] = [];
    let loads = 0;
    const { fetch, requests } = fakeFetch({
      'GET /projects': () => (++loads === 1 ? firstLoad : { body: projects }),
      'POST /projects': () => {
        projects = [created];
        return { status: 201, body: created };
      },
      'GET /projects/p2': { body: { ...projectDetail, ...created } },
      'GET /projects/p2/tasks': { body: [] },
    });
    const { user } = renderApp('#/', fetch);
    await user.type(await screen.findByLabelText('Project name'), 'Late bird');
    await user.click(screen.getByRole('button', { name: 'Create project' }));
    // Without cancelling the first load, TanStack would hand its (stale) answer to the refresh
    // after the create instead of asking again.
    const listReads = () => requests.filter((r) => r.method === 'GET' && r.path === '/projects').length;
    await waitFor(() => expect(listReads(), 'the list is read again after the create').toBe(2));
    answerFirstLoad({ body: [] });
    await waitFor(() => expect(window.location.hash).toBe('#/projects/p2'));
    await waitFor(() => expect(screen.getByTestId('project-name')).toHaveTextContent('Late bird'));
    window.location.hash = '#/';
    expect(await screen.findByRole('link', { name: 'Late bird' })).toBeInTheDocument();
  });
});

