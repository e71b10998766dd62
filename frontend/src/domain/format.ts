import type { LockPurpose, Readiness, TaskStatus, TaskType } from '../api/types';

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
