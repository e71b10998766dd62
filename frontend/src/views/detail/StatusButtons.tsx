import { useSetStatus } from '../../api/mutations';
import type { Task } from '../../api/types';
import { STATUS_LABEL } from '../../domain/format';
import { allowedTargets } from '../../domain/status';

/** One button per transition the status table allows from the current status. */
export function StatusButtons({ task }: { task: Task }) {
  const setStatus = useSetStatus(task.project_id);
  return (
    <div className="flex flex-wrap items-center gap-2" role="group" aria-label="Change status">
      {allowedTargets(task.status).map((target) => (
        <button
          key={target}
          type="button"
          className="btn"
          disabled={setStatus.isPending}
          onClick={() => setStatus.mutate({ taskId: task.id, status: target, name: task.name })}
        >
          Move to {STATUS_LABEL[target]}
        </button>
      ))}
    </div>
  );
}
