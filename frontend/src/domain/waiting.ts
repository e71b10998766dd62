import type { Task } from '../api/types';

/** A task of the loaded project, by id (undefined when not loaded). */
export type TaskLookup = (taskId: string) => Task | undefined;

export interface WaitingInfo {
  /** Its own open blockers (SPEC §12 `open_blockers`). */
  count: number;
  /** The nearest ancestor with open blockers, when the waiting (also) comes from above. */
  ancestor: Task | null;
  /** Short text for a chip: "waits for 2", or "waits (ancestor)". */
  label: string;
  /** What it waits for, by name: "Waits for “Backfill” and “Schema”." */
  explanation: string;
}

export const isOpen = (task: Task) => task.status === 'todo' || task.status === 'doing';

function quoted(names: string[]): string {
  const list = names.map((n) => `“${n}”`);
  if (list.length <= 1) return list.join('');
  return `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
}

/** Names of the task's open blockers the lookup knows, plus "N more" for those it does not. */
function openBlockerNames(task: Task, lookup: TaskLookup): string {
  const names = task.blocked_by
    .map(lookup)
    .filter((blocker): blocker is Task => blocker !== undefined && isOpen(blocker))
    .map((blocker) => blocker.name);
  const unknown = Math.max(0, task.open_blockers - names.length);
  if (names.length === 0) return unknown === 1 ? 'another task' : `${unknown} other tasks`;
  return quoted(names) + (unknown > 0 ? ` and ${unknown} more` : '');
}

/** Why a task waits (it or an ancestor has an open blocker), or null when it does not. */
export function describeWaiting(task: Task, lookup: TaskLookup): WaitingInfo | null {
  if (!task.waiting) return null;
  let ancestor: Task | null = null;
  for (let id = task.parent_task_id; id !== null; ) {
    const parent = lookup(id);
    if (!parent) break;
    if (parent.open_blockers > 0) {
      ancestor = parent;
      break;
    }
    id = parent.parent_task_id;
  }
  const parts: string[] = [];
  if (task.open_blockers > 0) parts.push(`Waits for ${openBlockerNames(task, lookup)}.`);
  if (ancestor) parts.push(`An ancestor, “${ancestor.name}”, waits for ${openBlockerNames(ancestor, lookup)}.`);
  else if (task.open_blockers === 0) parts.push('An ancestor waits for another task.');
  return {
    count: task.open_blockers,
    ancestor,
    label: task.open_blockers > 0 ? `waits for ${task.open_blockers}` : 'waits (ancestor)',
    explanation: parts.join(' '),
  };
}
