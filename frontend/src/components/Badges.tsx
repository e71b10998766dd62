import type { Lock, Readiness, TaskStatus } from '../api/types';
import { READINESS_LABEL, STATUS_LABEL } from '../domain/format';

const STATUS_STYLE: Record<TaskStatus, string> = {
  todo: 'bg-slate-100 text-slate-700 border-slate-300',
  doing: 'bg-blue-50 text-blue-800 border-blue-300',
  done: 'bg-green-50 text-green-800 border-green-300',
  wont_do: 'bg-zinc-100 text-zinc-500 border-zinc-300 line-through',
};

const READINESS_STYLE: Record<Readiness, string> = {
  needs_refinement: 'bg-amber-50 text-amber-800 border-amber-300',
  blocked_by_children: 'bg-purple-50 text-purple-800 border-purple-300',
  needs_sizing: 'bg-orange-50 text-orange-800 border-orange-300',
  needs_breakdown: 'bg-red-50 text-red-800 border-red-300',
  blocked_by_dependencies: 'bg-pink-50 text-pink-800 border-pink-300',
  ready: 'bg-emerald-50 text-emerald-800 border-emerald-300',
};

const base = 'inline-flex items-center whitespace-nowrap rounded border px-1.5 py-px text-xs font-medium';

export function StatusBadge({ status }: { status: TaskStatus }) {
  return (
    <span className={`${base} ${STATUS_STYLE[status]}`} data-status={status}>
      {STATUS_LABEL[status]}
    </span>
  );
}

export function ReadinessBadge({ readiness }: { readiness: Readiness }) {
  return (
    <span className={`${base} ${READINESS_STYLE[readiness]}`} data-readiness={readiness}>
      {READINESS_LABEL[readiness]}
    </span>
  );
}

export function PointsBadge({ points }: { points: number | null }) {
  return (
    <span className={`${base} border-slate-300 bg-white text-slate-700`} title="Effective points">
      {points === null ? '? pts' : `${points} pts`}
    </span>
  );
}

export function LockBadge({ lock }: { lock: Lock }) {
  return (
    <span className={`${base} border-sky-300 bg-sky-50 text-sky-800`} title={`Locked for ${lock.lock_purpose}`}>
      <span aria-hidden>🔒&nbsp;</span>
      <span className="sr-only">Locked by </span>
      {lock.caller_label}
    </span>
  );
}
