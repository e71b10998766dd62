import { useMemo, type ReactNode } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../../api/client';
import { useDependencyEdit } from '../../api/mutations';
import { useDependencies, useProjectTree } from '../../api/queries';
import type { Task, TaskTree } from '../../api/types';
import { ReadinessBadge, StatusBadge } from '../../components/Badges';
import { Loading } from '../../components/Status';
import { TaskCombobox } from '../../components/TaskCombobox';
import { describeWaiting, isOpen } from '../../domain/waiting';
import { useTaskParam } from '../useTaskParam';

/** The refusal of a new edge in words (422 INVALID_DEPENDENCY, SPEC §12), or the API's message. */
export function dependencyErrorText(error: unknown, task: string, blocker: string): string {
  if (error instanceof ApiError && error.code === 'INVALID_DEPENDENCY') {
    switch (error.details.reason) {
      case 'cycle':
        return `“${task}” cannot wait for “${blocker}”: a task would end up waiting for itself (through its parents, its subtasks or a chain of dependencies).`;
      case 'cross_project':
        return `“${blocker}” belongs to another project: a task can only wait for tasks of its own project.`;
      case 'limit':
        return `Too many dependencies: a task can wait for at most 50 tasks, and a task can hold back at most 50.`;
      default:
        break;
    }
  }
  return error instanceof Error ? error.message : String(error);
}

function DependencyRow({ task, action }: { task: Task; action?: ReactNode }) {
  const { hrefFor } = useTaskParam();
  return (
    <li className="flex flex-wrap items-center gap-1.5 text-sm" data-testid="dependency-row" data-task-id={task.id}>
      <Link to={hrefFor(task.id)} className="min-w-0 flex-1 truncate text-blue-800 hover:underline">
        {task.name}
      </Link>
      <StatusBadge status={task.status} />
      <ReadinessBadge readiness={task.readiness} />
      {action}
    </li>
  );
}

/** What the task waits for ("Blocked by") and what waits for it ("Blocks"); add or remove a blocker. */
export function DependenciesSection({ task }: { task: Task }) {
  const deps = useDependencies(task.id);
  const { index } = useProjectTree(task.project_id);
  const { add, remove } = useDependencyEdit(task.project_id, task.id);
  const lookup = (id: string) => index.get(id)?.task;

  // Its ancestors and descendants would always be refused (a cycle), and existing blockers are there already.
  const candidates = useMemo(() => {
    const excluded = new Set<string>([task.id, ...task.blocked_by]);
    for (let id = task.parent_task_id; id; id = index.get(id)?.task.parent_task_id ?? null) excluded.add(id);
    const below = (t: TaskTree) =>
      t.children.forEach((child) => {
        excluded.add(child.id);
        below(child);
      });
    const self = index.get(task.id)?.task;
    if (self) below(self);
    return [...index.values()].map((entry) => entry.task).filter((t) => !excluded.has(t.id));
  }, [index, task]);

  const waiting = describeWaiting(task, lookup);
  const blockerName = (id: string | undefined) => (id && (lookup(id)?.name ?? deps.data?.blocked_by.find((t) => t.id === id)?.name)) || 'that task';

  return (
    <div className="flex flex-col gap-3 text-sm">
      {waiting && (
        <p className="rounded border border-pink-300 bg-pink-50 p-2 text-pink-900" data-testid="waiting-summary">
          {waiting.explanation}
        </p>
      )}
      {deps.isPending ? (
        <Loading label="Loading dependencies…" />
      ) : !deps.data ? (
        <p className="text-slate-500">Dependencies unavailable.</p>
      ) : (
        <>
          <div>
            <h4 className="mb-1 font-medium">Blocked by</h4>
            {deps.data.blocked_by.length === 0 ? (
              <p className="text-slate-500">Waits for no task.</p>
            ) : (
              <ul className="flex flex-col gap-1" aria-label="Blocked by" data-testid="blocked-by">
                {deps.data.blocked_by.map((blocker) => (
                  <DependencyRow
                    key={blocker.id}
                    task={blocker}
                    action={
                      <>
                        {!isOpen(blocker) && <span className="text-xs text-slate-500">satisfied</span>}
                        <button
                          type="button"
                          className="btn px-1.5 py-0 text-xs"
                          disabled={remove.isPending}
                          onClick={() => remove.mutate(blocker.id)}
                          aria-label={`Remove dependency on ${blocker.name}`}
                        >
                          Remove
                        </button>
                      </>
                    }
                  />
                ))}
              </ul>
            )}
          </div>
          <div>
            <h4 className="mb-1 font-medium">Blocks</h4>
            {deps.data.blocking.length === 0 ? (
              <p className="text-slate-500">No task waits for this one.</p>
            ) : (
              <ul className="flex flex-col gap-1" aria-label="Blocks" data-testid="blocking">
                {deps.data.blocking.map((dependent) => (
                  <DependencyRow key={dependent.id} task={dependent} />
                ))}
              </ul>
            )}
          </div>
        </>
      )}
      <TaskCombobox
        label="Add a blocker (a task this one waits for)"
        tasks={candidates}
        disabled={add.isPending}
        describe={(t) => (t.parent_task_id ? `in ${lookup(t.parent_task_id)?.name ?? 'a parent task'}` : null)}
        onSelect={(blocker) => {
          add.reset();
          add.mutate(blocker.id);
        }}
      />
      {add.isError && (
        <div role="alert" className="rounded border border-red-300 bg-red-50 p-2 text-red-800" data-testid="dependency-error">
          {dependencyErrorText(add.error, task.name, blockerName(add.variables))}
          {add.error instanceof ApiError && add.error.requestId && (
            <span className="block font-mono text-xs text-slate-500">request id: {add.error.requestId}</span>
          )}
        </div>
      )}
    </div>
  );
}
