import { useTask } from '../../api/queries';
import type { Lock } from '../../api/types';
import { Countdown } from '../../components/Countdown';
import { formatDateTime, OPERATION_LABEL } from '../../domain/format';

interface LockRowProps {
  lock: Lock;
  onOpen: (taskId: string) => void;
  onRelease: (lock: Lock, taskName: string) => void;
}

/** One live lock, with the name of its task. */
export function LockRow({ lock, onOpen, onRelease }: LockRowProps) {
  const task = useTask(lock.task_id);
  const name = task.data?.name ?? (task.isPending ? 'Loading…' : lock.task_id);
  return (
    <tr className="border-b border-slate-100" data-testid="lock-row" data-task-id={lock.task_id}>
      <td className="py-1.5 pr-3">
        <button type="button" className="text-left hover:underline" onClick={() => onOpen(lock.task_id)}>
          {name}
        </button>
      </td>
      <td className="pr-3">{lock.caller_label}</td>
      <td className="pr-3">{OPERATION_LABEL[lock.lock_purpose]}</td>
      <td className="pr-3 font-mono">{lock.fencing_token}</td>
      <td className="pr-3 text-slate-600">{formatDateTime(lock.acquired_at)}</td>
      <td className="pr-3">
        <Countdown expiresAt={lock.expires_at} />
      </td>
      <td className="text-right">
        <button type="button" className="btn" onClick={() => onRelease(lock, name)} aria-label={`Force-release the lock on ${name}`}>
          Force-release
        </button>
      </td>
    </tr>
  );
}
