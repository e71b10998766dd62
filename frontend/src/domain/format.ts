import type { EventKind, LockPurpose, Readiness, TaskStatus, TaskType } from '../api/types';

export const STATUS_LABEL: Record<TaskStatus, string> = {
  todo: 'To Do',
  doing: 'Doing',
  done: 'Done',
  wont_do: "Won't Do",
};

export const READINESS_LABEL: Record<Readiness, string> = {
  needs_refinement: 'Needs refinement',
  blocked_by_children: 'Blocked by children',
  needs_sizing: 'Needs sizing',
  needs_breakdown: 'Needs breakdown',
  blocked_by_dependencies: 'Blocked by dependencies',
  ready: 'Ready',
};

export const TYPE_LABEL: Record<TaskType, string> = {
  feature: 'Feature',
  bug: 'Bug',
  tech_debt: 'Tech debt',
};

export const OPERATION_LABEL: Record<LockPurpose, string> = {
  sizing: 'Sizing',
  breakdown: 'Breakdown',
  refinement: 'Refinement',
  implementation: 'Implementation',
};

/** "scope_clarity" → "Scope clarity". */
export function humanize(key: string): string {
  const words = key.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function formatDateTime(iso: string | null): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Remaining time as "m:ss" (or "h:mm:ss"); "expired" at or below zero. */
export function formatRemaining(ms: number): string {
  if (ms <= 0) return 'expired';
  const total = Math.floor(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

export const EVENT_KIND_LABEL: Record<EventKind, string> = {
  task_created: 'Created',
  task_updated: 'Edited',
  task_deleted: 'Deleted',
  status_changed: 'Status changed',
  sized: 'Sized',
  broken_down: 'Broken down',
  refined: 'Refined',
  completed: 'Completed',
  flagged: 'Flagged',
  note: 'Note',
  lock_acquired: 'Lock taken',
  lock_released: 'Lock released',
  lock_forced: 'Lock forced',
  lock_expired: 'Lock expired',
  dependency_added: 'Dependency added',
  dependency_removed: 'Dependency removed',
  commit_recorded: 'Commit',
};

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago" (or "in …" for a time ahead). */
export function formatRelative(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return iso;
  const diff = Math.round((now - then) / 1000);
  const ahead = diff < 0;
  const s = Math.abs(diff);
  if (s < 5) return 'just now';
  const text = s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min` : s < 86_400 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 86_400)} d`;
  return ahead ? `in ${text}` : `${text} ago`;
}
