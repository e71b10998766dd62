import type { TaskStatus } from '../api/types';

/** SPEC §1 transition table for explicit status changes. */
const ALLOWED_TRANSITIONS: Record<TaskStatus, readonly TaskStatus[]> = {
  todo: ['doing', 'wont_do'],
  doing: ['done', 'todo', 'wont_do'],
  done: ['todo', 'wont_do'],
  wont_do: ['todo'],
};

export function allowedTargets(from: TaskStatus): readonly TaskStatus[] {
  return ALLOWED_TRANSITIONS[from];
}
