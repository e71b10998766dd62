import { lazy, Suspense, useId } from 'react';
import { HISTORY_DAYS, useHistory } from '../api/queries';
import { ErrorBoundary } from '../components/ErrorBoundary';

// uPlot is loaded only when a project header shows (a chunk of its own, after the first paint).
const BurnupChart = lazy(() => import('../components/BurnupChart'));

/** The burn-up of the last 30 days, with today's numbers as text for everyone (the chart is a picture). */
export function BurnupPanel({ projectId }: { projectId: string }) {
  const captionId = useId();
  const history = useHistory(projectId);
  const points = history.data ?? [];
  const today = points[points.length - 1];
  const placeholder = <div className="h-[120px] w-[300px] rounded bg-slate-50" aria-hidden />;
  return (
    <figure className="w-[300px]" aria-labelledby={captionId} data-testid="burnup" data-points-completed={today?.points_completed} data-points-total={today?.points_total}>
      <figcaption id={captionId} className="mb-1 text-xs text-slate-500">
        <span className="font-semibold tracking-wide uppercase">Burn-up, {HISTORY_DAYS} days</span>
        <span className="block normal-case" data-testid="burnup-summary">
          {today
            ? `Today: ${today.points_completed} of ${today.points_total} points done, ${today.tasks_done} of ${today.tasks_total} tasks; ${points.length} ${points.length === 1 ? 'day' : 'days'} shown.`
            : history.isPending
              ? 'Loading history…'
              : 'No history yet.'}
        </span>
      </figcaption>
      {points.length > 0 ? (
        <ErrorBoundary fallback={null}>
          <Suspense fallback={placeholder}>
            <BurnupChart points={points} />
          </Suspense>
        </ErrorBoundary>
      ) : (
        placeholder
      )}
      <p className="mt-0.5 flex gap-3 text-[11px] text-slate-500" aria-hidden>
        <span>
          <span className="mr-1 inline-block h-0.5 w-3 bg-slate-500 align-middle" />
          total
        </span>
        <span>
          <span className="mr-1 inline-block h-0.5 w-3 bg-green-600 align-middle" />
          completed
        </span>
      </p>
    </figure>
  );
}
