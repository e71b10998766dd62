import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { HistoryPoint } from '../api/types';
import { fakeFetch, projectDetail } from '../test/fakeApi';
import { FakePlot } from '../test/fakePlot';
import { renderApp } from '../test/renderApp';

const day = (date: string, completed: number, total: number, done: number): HistoryPoint => ({
  date,
  points_total: total,
  points_completed: completed,
  tasks_total: 9,
  tasks_done: done,
  events: 4,
});

describe('Burn-up chart', () => {
  it('draws points completed against points total per day, with today in words', async () => {
    const history = [day('2025-01-01', 0, 8, 0), day('2025-01-02', 3, 10, 2), day('2025-01-03', 5, 12, 3)];
    const { fetch, requests } = fakeFetch({ 'GET /projects/p1': { body: projectDetail }, 'GET /projects/p1/history': { body: history } });
    renderApp('#/projects/p1/agents', fetch);
    const figure = await screen.findByRole('figure', { name: /Burn-up, 30 days/ });
    expect(await screen.findByTestId('burnup-summary')).toHaveTextContent('Today: 5 of 12 points done, 3 of 9 tasks; 3 days shown.');
    expect(figure).toHaveAttribute('data-points-completed', '5');
    expect(requests.find((r) => r.path === '/projects/p1/history')?.url.searchParams.get('days')).toBe('30');
    // The lazily loaded chart hands uPlot one x value per day (UTC midnight, in seconds) and the two series.
    await waitFor(() =>
      expect(FakePlot.last?.data).toEqual([[Date.UTC(2025, 0, 1) / 1000, Date.UTC(2025, 0, 2) / 1000, Date.UTC(2025, 0, 3) / 1000], [8, 10, 12], [0, 3, 5]]),
    );
    expect(screen.getByTestId('burnup-canvas').querySelector('canvas')).not.toBeNull();
  });
});
