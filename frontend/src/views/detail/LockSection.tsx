import { useState } from 'react';
import { useForceRelease } from '../../api/mutations';
import type { Lock } from '../../api/types';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Countdown } from '../../components/Countdown';
import { formatDateTime, OPERATION_LABEL } from '../../domain/format';

/** The live lock, if any, with a confirmed force-release. */
export function LockSection({ projectId, taskName, lock }: { projectId: string; taskName: string; lock: Lock | null }) {
  const release = useForceRelease(projectId);
  const [confirming, setConfirming] = useState(false);
  if (!lock) return <p className="text-sm text-slate-500">No live lock.</p>;
  return (
    <div className="flex flex-col gap-2 text-sm">
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1">
        <dt className="text-slate-500">Holder</dt>
        <dd data-testid="lock-holder">{lock.caller_label}</dd>
        <dt className="text-slate-500">Purpose</dt>
        <dd>{OPERATION_LABEL[lock.lock_purpose]}</dd>
        <dt className="text-slate-500">Fencing token</dt>
        <dd className="font-mono">{lock.fencing_token}</dd>
        <dt className="text-slate-500">Acquired</dt>
        <dd>{formatDateTime(lock.acquired_at)}</dd>
        <dt className="text-slate-500">Last heartbeat</dt>
        <dd>{formatDateTime(lock.last_heartbeat_at)}</dd>
        <dt className="text-slate-500">Expires in</dt>
        <dd>
          <Countdown expiresAt={lock.expires_at} /> <span className="text-slate-500">(TTL {Math.round(lock.ttl_seconds / 60)} min)</span>
        </dd>
      </dl>
      <div>
        <button type="button" className="btn" onClick={() => setConfirming(true)}>
          Force-release lock
        </button>
      </div>
      {confirming && (
        <ConfirmDialog
          title="Force-release this lock?"
          confirmLabel="Force-release"
          busy={release.isPending}
          onCancel={() => setConfirming(false)}
          onConfirm={() => release.mutate(lock.task_id, { onSettled: () => setConfirming(false) })}
        >
          {lock.caller_label} holds “{taskName}” for {lock.lock_purpose}. Releasing it lets another agent take the task;
          the holder’s work in progress may be lost.
        </ConfirmDialog>
      )}
    </div>
  );
}
