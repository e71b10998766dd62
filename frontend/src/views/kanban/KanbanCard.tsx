import type { DragEvent } from 'react';
import type { TaskStatus, TaskTree } from '../../api/types';
import { LockBadge, PointsBadge, ReadinessBadge } from '../../components/Badges';
import { WaitingChip } from '../../components/WaitingChip';
import type { TaskLookup } from '../../domain/waiting';
import { STATUS_LABEL } from '../../domain/format';
import { allowedTargets } from '../../domain/status';

interface KanbanCardProps {
  task: TaskTree;
  parentName: string | null;
  lookup: TaskLookup;
  onOpen: (taskId: string) => void;
  onMove: (task: TaskTree, status: TaskStatus) => void;
  onDragStart: (task: TaskTree, event: DragEvent) => void;
  onDragEnd: () => void;
}

/** A task card: drag it to another column, or use its "Move to" menu from the keyboard. */
export function KanbanCard({ task, parentName, lookup, onOpen, onMove, onDragStart, onDragEnd }: KanbanCardProps) {
  return (
    <li
      draggable
      onDragStart={(e) => onDragStart(task, e)}
      onDragEnd={onDragEnd}
      className="flex cursor-grab flex-col gap-1.5 rounded-md border border-slate-200 bg-white p-2 text-sm shadow-sm"
      data-testid="kanban-card"
      data-task-id={task.id}
    >
      <button type="button" className="text-left font-medium hover:underline" onClick={() => onOpen(task.id)}>
        {task.name}
      </button>
      {parentName && <p className="truncate text-xs text-slate-500">in {parentName}</p>}
      <div className="flex flex-wrap gap-1">
        <PointsBadge points={task.effective_points} />
        <ReadinessBadge readiness={task.readiness} />
        <WaitingChip task={task} lookup={lookup} />
        {task.lock && <LockBadge lock={task.lock} />}
      </div>
      <label className="flex items-center gap-1 text-xs text-slate-600">
        Move to
        <select
          className="field py-0 text-xs"
          value=""
          onChange={(e) => {
            if (e.target.value) onMove(task, e.target.value as TaskStatus);
          }}
          aria-label={`Move ${task.name} to`}
        >
          <option value="">—</option>
          {allowedTargets(task.status).map((s) => (
            <option key={s} value={s}>
              {STATUS_LABEL[s]}
            </option>
          ))}
        </select>
      </label>
    </li>
  );
}
