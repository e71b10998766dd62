import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { fakeFetch, makeTask, projectDetail } from '../../test/fakeApi';
import { renderApp } from '../../test/renderApp';

describe('Queues', () => {
  it('shows what each operation would get next, in this project or all', async () => {
    const { fetch, requests } = fakeFetch({
      'GET /projects/p1': { body: projectDetail },
      'GET /tasks/available': (req) =>
        req.url.searchParams.get('operation') === 'sizing' ? { body: [makeTask({ name: 'Size me', priority: 5 })] } : { body: [] },
    });
    const { user } = renderApp('#/projects/p1/queues', fetch);
    expect(await within(await screen.findByTestId('queue-sizing')).findByText('Size me')).toBeInTheDocument();
    expect(await within(screen.getByTestId('queue-implementation')).findByText('Nothing waiting.')).toBeInTheDocument();
    const asked = requests.filter((r) => r.path === '/tasks/available');
    expect(new Set(asked.map((r) => r.url.searchParams.get('operation')))).toEqual(new Set(['sizing', 'breakdown', 'refinement', 'implementation']));
    expect(asked.every((r) => r.url.searchParams.get('project_id') === 'p1')).toBe(true);

    await user.click(screen.getByLabelText('All projects'));
    await waitFor(() => expect(requests.some((r) => r.path === '/tasks/available' && !r.url.searchParams.has('project_id'))).toBe(true));
  });
});
