import { useState } from 'react';
import { useForceRelease } from '../../api/mutations';
import { useInProgress, useLocks } from '../../api/queries';
import type { Lock } from '../../api/types';
import { PointsBadge } from '../../components/Badges';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Empty, LoadFailed, Loading } from '../../components/Status';
import { formatDateTime } from '../../domain/format';
import { useProjectId, useTaskParam } from '../useTaskParam';
import { LockRow } from './LockRow';

/** Live locks with countdowns, and `doing` tasks nobody holds (stalled). Both refresh every 10 s. */
export default function LockMonitorView() {
  const projectId = useProjectId();
  const locks = useLocks(projectId);
  const inProgress = useInProgress(projectId);
  const release = useForceRelease(projectId);
  const { open } = useTaskParam();
  const [confirming, setConfirming] = useState<{ lock: Lock; name: string } | null>(null);
  const stalled = (inProgress.data ?? []).filter((task) => task.lock === null);

  return (
    <div className="flex h-full flex-col gap-6 overflow-y-auto">
      <section aria-labelledby="live-locks">
        <div className="mb-2 flex items-baseline gap-3">
          <h2 id="live-locks" className="text-base font-semibold">
            Live locks
          </h2>
          <span className="text-xs text-slate-500">
            refreshes every 10 s{locks.dataUpdatedAt > 0 && ` · updated ${new Date(locks.dataUpdatedAt).toLocaleTimeString()}`}
          </span>
        </div>
        {locks.isPending ? (
          <Loading label="Loading locks…" />
        ) : locks.isError && !locks.data ? (
          <LoadFailed what="locks" onRetry={() => void locks.refetch()} />
        ) : locks.data.length === 0 ? (
          <Empty>No live locks in this project.</Empty>
        ) : (
          <table className="w-full text-left text-sm">
            <thead className="border-b border-slate-300 text-xs text-slate-500 uppercase">
              <tr>
                <th className="py-1 font-medium">Task</th>
                <th className="font-medium">Holder</th>
                <th className="font-medium">Purpose</th>
                <th className="font-medium">Fencing token</th>
                <th className="font-medium">Acquired</th>
                <th className="font-medium">Expires in</th>
                <th className="sr-only">Actions</th>
              </tr>
            </thead>
            <tbody>
              {locks.data.map((lock) => (
                <LockRow key={`${lock.task_id}-${lock.fencing_token}`} lock={lock} onOpen={open} onRelease={(l, name) => setConfirming({ lock: l, name })} />
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="stalled">
        <h2 id="stalled" className="mb-1 text-base font-semibold">
          Stalled tasks
        </h2>
        <p className="mb-2 text-xs text-slate-500">In “Doing” with no live lock: the implementation queue offers them again.</p>
        {inProgress.isPending ? (
          <Loading label="Loading in-progress tasks…" />
        ) : inProgress.isError && !inProgress.data ? (
          <LoadFailed what="in-progress tasks" onRetry={() => void inProgress.refetch()} />
        ) : stalled.length === 0 ? (
          <Empty>No stalled tasks.</Empty>
        ) : (
          <ul className="flex flex-col gap-1" data-testid="stalled-list">
            {stalled.map((task) => (
              <li key={task.id} className="flex items-center gap-3 rounded border border-slate-200 bg-white px-3 py-1.5 text-sm">
                <button type="button" className="flex-1 text-left hover:underline" onClick={() => open(task.id)}>
                  {task.name}
                </button>
                <PointsBadge points={task.effective_points} />
                <span className="text-xs text-slate-500">last updated {formatDateTime(task.updated_at)}</span>
              </li>
            ))}
          </ul>
        )}
      </section>

      {confirming && (
        <ConfirmDialog
          title="Force-release this lock?"
          confirmLabel="Force-release"
          busy={release.isPending}
          onCancel={() => setConfirming(null)}
          onConfirm={() => release.mutate(confirming.lock.task_id, { onSettled: () => setConfirming(null) })}
        >
          {confirming.lock.caller_label} holds “{confirming.name}” for {confirming.lock.lock_purpose} (fencing token{' '}
          {confirming.lock.fencing_token}). Releasing it lets another agent take the task.
        </ConfirmDialog>
      )}
    </div>
  );
}
