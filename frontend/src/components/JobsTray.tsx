import { useEffect } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { refreshAfterJob } from '../api/mutations';
import { useJob } from '../api/queries';
import { useServices } from '../api/services';
import type { Job } from '../api/types';
import type { TrackedJob } from '../state/jobs';
import { useStore } from '../state/store';

const DONE_VISIBLE_MS = 20_000;

/** Progress of a job: a determinate bar once its total is known. */
function JobProgress({ job, label }: { job: Job; label: string }) {
  const { done, total } = job.progress;
  const known = total > 0;
  const percent = known ? Math.min(100, Math.round((done / total) * 100)) : 0;
  return (
    <div className="flex items-center gap-2">
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={known ? total : undefined}
        aria-valuenow={known ? done : undefined}
        aria-valuetext={known ? `${done} of ${total} tasks` : 'starting'}
        className="h-2 w-full overflow-hidden rounded-full bg-slate-200"
      >
        <div className={`h-full rounded-full bg-blue-600 ${known ? '' : 'w-1/4 animate-pulse'}`} style={known ? { width: `${percent}%` } : undefined} />
      </div>
      <span className="text-xs whitespace-nowrap text-slate-600 tabular-nums">{known ? `${done} / ${total}` : '…'}</span>
    </div>
  );
}

function outcome(job: Job): string {
  const tasks = `${job.progress.total} ${job.progress.total === 1 ? 'task' : 'tasks'}`;
  switch (job.kind) {
    case 'import':
      return `Imported ${tasks}.`;
    case 'cancel':
      return `Cancelled ${tasks}.`;
    case 'delete':
      return `Deleted ${tasks}.`;
    default:
      return 'Done.';
  }
}

function JobItem({ tracked, onDismiss }: { tracked: TrackedJob; onDismiss: (id: string) => void }) {
  const queryClient = useQueryClient();
  const job = useJob(tracked.job).data ?? tracked.job;
  const status = job.status;

  // When it ends, what it changed is read again.
  useEffect(() => {
    if (status === 'running') return;
    void refreshAfterJob(queryClient, tracked.projectId ?? job.result?.project_id ?? null);
    if (status !== 'succeeded') return;
    const timer = window.setTimeout(() => onDismiss(job.id), DONE_VISIBLE_MS);
    return () => window.clearTimeout(timer);
  }, [status]); // once per status change

  return (
    <li className="flex items-start gap-3 rounded-md border border-slate-300 bg-white p-3 text-sm shadow-lg" data-testid="job" data-status={status}>
      <div className="min-w-0 flex-1">
        <p className="font-medium">{tracked.label}</p>
        {status === 'running' ? (
          <>
            <p className="mb-1 text-xs text-slate-500">Running in the background…</p>
            <JobProgress job={job} label={`${tracked.label}: progress`} />
          </>
        ) : status === 'succeeded' ? (
          <p className="text-green-800">
            {outcome(job)}{' '}
            {job.kind === 'import' && job.result?.project_id && (
              <a className="text-blue-700 underline" href={`#/projects/${job.result.project_id}`}>
                Open the project
              </a>
            )}
          </p>
        ) : (
          <p className="text-red-800" role="alert">
            Failed: {job.error?.message ?? 'the job did not finish'}
            {job.error?.code && <span className="block font-mono text-xs text-slate-500">{job.error.code}</span>}
          </p>
        )}
      </div>
      <button type="button" className="rounded px-1 text-slate-500 hover:text-slate-900" onClick={() => onDismiss(job.id)} aria-label={`Dismiss ${tracked.label}`}>
        ×
      </button>
    </li>
  );
}

/** The background jobs this page started (SPEC §13): progress while they run, then their result or error. */
export function JobsTray() {
  const { jobs } = useServices();
  const items = useStore(jobs);
  if (items.length === 0) return null;
  return (
    <section aria-label="Background jobs" aria-live="polite" className="fixed bottom-4 left-4 z-[60] w-96 max-w-[calc(100vw-2rem)]">
      <ul className="flex flex-col gap-2">
        {items.map((tracked) => (
          <JobItem key={tracked.job.id} tracked={tracked} onDismiss={jobs.dismiss} />
        ))}
      </ul>
    </section>
  );
}
