import { QUEUE_LIMIT, useAvailable } from '../../api/queries';
import type { LockPurpose } from '../../api/types';
import { PointsBadge, ReadinessBadge, StatusBadge } from '../../components/Badges';
import { Empty, LoadFailed, Loading } from '../../components/Status';
import { OPERATION_LABEL } from '../../domain/format';

interface QueueColumnProps {
  operation: LockPurpose;
  projectId: string | null;
  onOpen: (taskId: string, projectId: string) => void;
}

/** The first tasks an agent asking for `operation` would be offered, in queue order. */
export function QueueColumn({ operation, projectId, onOpen }: QueueColumnProps) {
  const queue = useAvailable(operation, projectId);
  return (
    <section aria-labelledby={`queue-${operation}`} className="flex min-h-0 flex-col rounded-lg border border-slate-200 bg-slate-100" data-testid={`queue-${operation}`}>
      <h2 id={`queue-${operation}`} className="px-3 py-2 text-sm font-semibold">
        {OPERATION_LABEL[operation]}
      </h2>
      <div className="min-h-0 flex-1 overflow-y-auto px-2 pb-2">
        {queue.isPending ? (
          <Loading label="Loading queue…" />
        ) : queue.isError && !queue.data ? (
          <LoadFailed what="this queue" onRetry={() => void queue.refetch()} />
        ) : queue.data.length === 0 ? (
          <Empty>Nothing waiting.</Empty>
        ) : (
          <ol className="flex flex-col gap-2">
            {queue.data.map((task, i) => (
              <li key={task.id} className="rounded-md border border-slate-200 bg-white p-2 text-sm shadow-sm">
                <button type="button" className="text-left font-medium hover:underline" onClick={() => onOpen(task.id, task.project_id)}>
                  <span className="mr-1 text-slate-400">{i + 1}.</span>
                  {task.name}
                </button>
                <div className="mt-1 flex flex-wrap items-center gap-1">
                  <StatusBadge status={task.status} />
                  <ReadinessBadge readiness={task.readiness} />
                  <PointsBadge points={task.effective_points} />
                  <span className="text-xs text-slate-500">priority {task.priority}</span>
                </div>
              </li>
            ))}
          </ol>
        )}
        {queue.data && queue.data.length === QUEUE_LIMIT && <p className="mt-2 text-center text-xs text-slate-500">First {QUEUE_LIMIT} shown</p>}
      </div>
    </section>
  );
}
