import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { useDeleteTask } from '../../api/mutations';
import { useTask } from '../../api/queries';
import { LockBadge, PointsBadge, ReadinessBadge, StatusBadge } from '../../components/Badges';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Loading } from '../../components/Status';
import { formatDateTime, TYPE_LABEL } from '../../domain/format';
import { CommitsList } from './CommitsList';
import { DependenciesSection } from './DependenciesSection';
import { FreshnessSection } from './FreshnessSection';
import { LockSection } from './LockSection';
import { RefinementSection } from './RefinementSection';
import { SizingSection } from './SizingSection';
import { StatusButtons } from './StatusButtons';
import { TaskEditForm } from './TaskEditForm';
import { TaskHistory } from './TaskHistory';
import { WorkLogTimeline } from './WorkLogTimeline';

function Section({ title, children }: { title: string; children: ReactNode }) {
  const id = useId();
  return (
    <section aria-labelledby={id} className="border-t border-slate-200 pt-3 first:border-t-0 first:pt-0">
      <h3 id={id} className="mb-2 text-sm font-semibold tracking-wide text-slate-700 uppercase">
        {title}
      </h3>
      {children}
    </section>
  );
}

interface TaskDetailPanelProps {
  projectId: string;
  taskId: string;
  onClose: () => void;
}

/** The slide-out with everything about one task. Escape closes it. */
export default function TaskDetailPanel({ projectId, taskId, onClose }: TaskDetailPanelProps) {
  const titleId = useId();
  const task = useTask(taskId);
  const remove = useDeleteTask(projectId);
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const closeButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    closeButton.current?.focus();
  }, []);

  const data = task.data;
  return (
    <div
      role="dialog"
      aria-labelledby={titleId}
      className="fixed inset-y-0 right-0 z-40 flex w-full max-w-xl flex-col border-l border-slate-300 bg-white shadow-2xl"
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !confirmingDelete) onClose();
      }}
      data-testid="task-detail"
    >
      <div className="flex items-start gap-2 border-b border-slate-200 p-4">
        <div className="min-w-0 flex-1">
          <h2 id={titleId} className="text-lg font-semibold break-words">
            {data?.name ?? 'Task'}
          </h2>
          {data && (
            <div className="mt-1 flex flex-wrap items-center gap-1.5">
              <StatusBadge status={data.status} />
              <ReadinessBadge readiness={data.readiness} />
              <PointsBadge points={data.effective_points} />
              {data.lock && <LockBadge lock={data.lock} />}
              <span className="text-xs text-slate-500">
                {TYPE_LABEL[data.task_type]} · priority {data.priority} · updated {formatDateTime(data.updated_at)}
              </span>
            </div>
          )}
        </div>
        <button ref={closeButton} type="button" className="btn" onClick={onClose} aria-label="Close task details">
          ✕
        </button>
      </div>
      <div className="flex flex-1 flex-col gap-4 overflow-y-auto p-4">
        {task.isPending ? (
          <Loading label="Loading task…" />
        ) : !data ? (
          <p className="text-sm text-red-700">This task could not be loaded.</p>
        ) : (
          <>
            <Section title="Status">
              <StatusButtons task={data} />
            </Section>
            <Section title="Lock">
              <LockSection projectId={projectId} taskName={data.name} lock={data.lock} />
            </Section>
            <Section title="Dependencies">
              <DependenciesSection task={data} />
            </Section>
            <Section title="Sizing">
              {data.rolled_up_points !== null && (
                <p className="mb-2 text-sm text-slate-600">
                  Rolled up from subtasks: {data.rolled_up_points} pts
                  {data.unsized_children > 0 && ` (${data.unsized_children} unsized)`}
                </p>
              )}
              <SizingSection breakdown={data.points_breakdown} />
            </Section>
            <Section title="Details">
              <TaskEditForm key={data.updated_at} task={data} />
            </Section>
            <Section title="Refinement">
              <RefinementSection task={data} />
            </Section>
            <Section title="Context freshness">
              <FreshnessSection taskId={taskId} />
            </Section>
            <Section title="Work log">
              <WorkLogTimeline taskId={taskId} />
            </Section>
            <Section title="History">
              <TaskHistory projectId={projectId} taskId={taskId} />
            </Section>
            <Section title="Commits">
              <CommitsList taskId={taskId} />
            </Section>
            <Section title="Danger zone">
              <button type="button" className="btn btn-danger" onClick={() => setConfirmingDelete(true)}>
                Delete task
              </button>
            </Section>
          </>
        )}
      </div>
      {confirmingDelete && data && (
        <ConfirmDialog
          title="Delete this task?"
          confirmLabel="Delete task"
          busy={remove.isPending}
          onCancel={() => setConfirmingDelete(false)}
          onConfirm={() =>
            remove.mutate({ id: taskId, name: data.name }, {
              onSuccess: onClose,
              onSettled: () => setConfirmingDelete(false),
            })
          }
        >
          “{data.name}”{data.children_count > 0 ? ` and all ${data.children_count} direct subtasks with their descendants` : ''} will be
          deleted, with their work logs, commits and locks. This cannot be undone.
        </ConfirmDialog>
      )}
    </div>
  );
}
