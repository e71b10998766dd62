import { useQueryClient } from '@tanstack/react-query';
import { keys, useProjectDetail } from '../api/queries';
import { READINESS, STATUSES, type Readiness, type TaskStatus } from '../api/types';
import { CountsChart } from '../components/CountsChart';
import { ProgressBar } from '../components/ProgressBar';
import { Loading } from '../components/Status';
import { READINESS_LABEL, STATUS_LABEL } from '../domain/format';
import { BurnupPanel } from './BurnupPanel';

const STATUS_COLORS: Record<TaskStatus, string> = {
  todo: 'bg-slate-400',
  doing: 'bg-blue-500',
  done: 'bg-green-600',
  wont_do: 'bg-zinc-300',
};

const READINESS_COLORS: Record<Readiness, string> = {
  needs_refinement: 'bg-amber-500',
  blocked_by_children: 'bg-purple-500',
  needs_sizing: 'bg-orange-500',
  needs_breakdown: 'bg-red-500',
  blocked_by_dependencies: 'bg-pink-500',
  ready: 'bg-emerald-500',
};

/** Name, points progress, status and readiness counts, and a refresh for the whole project. */
export function ProjectHeader({ projectId }: { projectId: string }) {
  const detail = useProjectDetail(projectId);
  const queryClient = useQueryClient();
  if (detail.isPending) return <Loading label="Loading project…" />;
  if (!detail.data) return <p className="p-4 text-sm text-red-700">This project could not be loaded.</p>;
  const project = detail.data;

  return (
    <header className="flex flex-wrap items-start gap-x-8 gap-y-3 border-b border-slate-200 bg-white px-6 py-4">
      <div className="min-w-64 flex-1">
        <h1 className="text-xl font-semibold" data-testid="project-name">
          {project.name}
        </h1>
        {project.description && <p className="mt-0.5 text-sm text-slate-600">{project.description}</p>}
        <div className="mt-2 max-w-md">
          <ProgressBar label="Points done" value={project.points_completed} max={project.points_total} />
        </div>
        <p className="mt-1 text-xs text-slate-500">
          {project.task_count} tasks · {project.active_locks} active {project.active_locks === 1 ? 'lock' : 'locks'}
        </p>
      </div>
      <CountsChart title="Status" order={STATUSES} counts={project.status_counts} labels={STATUS_LABEL} colors={STATUS_COLORS} />
      <CountsChart
        title="Readiness (open tasks)"
        order={READINESS}
        counts={project.readiness_counts}
        labels={READINESS_LABEL}
        colors={READINESS_COLORS}
        wide
      />
      <BurnupPanel projectId={projectId} />
      <button type="button" className="btn self-center" onClick={() => void queryClient.invalidateQueries({ queryKey: keys.project(projectId) })}>
        Refresh
      </button>
    </header>
  );
}
