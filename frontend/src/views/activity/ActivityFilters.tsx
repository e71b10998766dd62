import { EVENT_KINDS, type ActivityFilter, type EventKind, type Task } from '../../api/types';
import { TaskCombobox } from '../../components/TaskCombobox';
import { EVENT_KIND_LABEL } from '../../domain/format';

interface ActivityFiltersProps {
  filter: ActivityFilter;
  onChange: (filter: ActivityFilter) => void;
  /** Actors to offer (the project's agents and whoever appears in the feed). */
  actors: readonly string[];
  tasks: readonly Task[];
  taskName: (taskId: string) => string;
}

/** Agent (actor), kinds (several) and task filters of the activity feed. */
export function ActivityFilters({ filter, onChange, actors, tasks, taskName }: ActivityFiltersProps) {
  const toggleKind = (kind: EventKind, on: boolean) =>
    onChange({ ...filter, kinds: on ? [...filter.kinds, kind] : filter.kinds.filter((k) => k !== kind) });
  const options = filter.actor && !actors.includes(filter.actor) ? [filter.actor, ...actors] : actors;
  return (
    <div className="flex flex-wrap items-start gap-4" role="search" aria-label="Filter events">
      <label className="flex flex-col text-xs font-medium text-slate-600">
        Agent
        <select className="field" value={filter.actor} onChange={(e) => onChange({ ...filter, actor: e.target.value })}>
          <option value="">Any agent</option>
          {options.map((actor) => (
            <option key={actor} value={actor}>
              {actor}
            </option>
          ))}
        </select>
      </label>
      <details className="relative text-xs font-medium text-slate-600">
        <summary className="field mt-4 list-none">
          Kinds: {filter.kinds.length === 0 ? 'all' : filter.kinds.map((k) => EVENT_KIND_LABEL[k]).join(', ')}
        </summary>
        <fieldset className="absolute z-10 mt-1 grid w-96 grid-cols-2 gap-1 rounded-md border border-slate-300 bg-white p-2 shadow-lg">
          <legend className="sr-only">Event kinds</legend>
          {EVENT_KINDS.map((kind) => (
            <label key={kind} className="flex items-center gap-1.5 font-normal text-slate-800">
              <input type="checkbox" checked={filter.kinds.includes(kind)} onChange={(e) => toggleKind(kind, e.target.checked)} />
              {EVENT_KIND_LABEL[kind]}
            </label>
          ))}
          {filter.kinds.length > 0 && (
            <button type="button" className="btn col-span-2 justify-center" onClick={() => onChange({ ...filter, kinds: [] })}>
              All kinds
            </button>
          )}
        </fieldset>
      </details>
      {filter.taskId ? (
        <div className="flex flex-col text-xs font-medium text-slate-600">
          Task
          <span className="mt-0.5 flex items-center gap-1">
            <span className="rounded border border-slate-300 bg-slate-50 px-2 py-1 text-sm font-normal text-slate-800" data-testid="task-filter">
              {taskName(filter.taskId)}
            </span>
            <button type="button" className="btn" onClick={() => onChange({ ...filter, taskId: '' })} aria-label="Show every task's events">
              ×
            </button>
          </span>
        </div>
      ) : (
        <div className="w-64">
          <TaskCombobox label="Task" tasks={tasks} placeholder="Any task" onSelect={(task) => onChange({ ...filter, taskId: task.id })} />
        </div>
      )}
    </div>
  );
}
