import type { Task } from '../api/types';
import { describeWaiting, type TaskLookup } from '../domain/waiting';

/** "waits for N" on a task that waits for unfinished tasks (its own or an ancestor's); the title says which. */
export function WaitingChip({ task, lookup }: { task: Task; lookup: TaskLookup }) {
  const info = describeWaiting(task, lookup);
  if (!info) return null;
  return (
    <span
      className="inline-flex items-center gap-0.5 rounded-full border border-pink-300 bg-pink-50 px-1.5 py-px text-xs font-medium whitespace-nowrap text-pink-800"
      title={info.explanation}
      data-testid="waiting-chip"
      data-open-blockers={info.count}
    >
      {info.label}
      <span className="sr-only"> ({info.explanation})</span>
    </span>
  );
}
