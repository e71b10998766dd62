import { useId, useState, type FormEvent } from 'react';
import { useUpdateTask } from '../../api/mutations';
import { TASK_TYPES, type Task, type TaskType, type TaskUpdate } from '../../api/types';
import { TYPE_LABEL } from '../../domain/format';

interface Draft {
  name: string;
  description: string;
  context: string;
  task_type: TaskType;
  priority: string;
  points: string;
}

function draftOf(task: Task): Draft {
  return {
    name: task.name,
    description: task.description ?? '',
    context: task.context ?? '',
    task_type: task.task_type,
    priority: String(task.priority),
    points: task.points === null ? '' : String(task.points),
  };
}

/** Only the fields that changed, in API form (empty text → null). */
function changesOf(task: Task, draft: Draft): TaskUpdate {
  const changes: TaskUpdate = {};
  const text = (value: string) => (value.trim() === '' ? null : value);
  if (draft.name.trim() !== task.name) changes.name = draft.name.trim();
  if (text(draft.description) !== (task.description ?? null)) changes.description = text(draft.description);
  if (text(draft.context) !== (task.context ?? null)) changes.context = text(draft.context);
  if (draft.task_type !== task.task_type) changes.task_type = draft.task_type;
  if (Number(draft.priority) !== task.priority) changes.priority = Number(draft.priority);
  const points = draft.points === '' ? null : Number(draft.points);
  if (points !== task.points) changes.points = points;
  return changes;
}

/** Edits name, description, context, type, priority and gut-feel points with one PUT of what changed. */
export function TaskEditForm({ task }: { task: Task }) {
  const id = useId();
  const update = useUpdateTask(task.project_id, task.id);
  const [draft, setDraft] = useState<Draft>(() => draftOf(task));
  const changes = changesOf(task, draft);
  const dirty = Object.keys(changes).length > 0;
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!dirty || !draft.name.trim()) return;
    update.mutate(changes, { onSuccess: (saved) => setDraft(draftOf(saved)) });
  };

  const label = 'flex flex-col gap-1 text-xs font-medium text-slate-600';
  return (
    <form onSubmit={submit} className="flex flex-col gap-3" aria-label="Edit task">
      <label className={label}>
        Name
        <input className="field" value={draft.name} onChange={(e) => set('name', e.target.value)} maxLength={500} required />
      </label>
      <label className={label}>
        Description
        <textarea className="field min-h-20" value={draft.description} onChange={(e) => set('description', e.target.value)} />
      </label>
      <label className={label}>
        Context
        <textarea className="field min-h-20 font-mono text-xs" value={draft.context} onChange={(e) => set('context', e.target.value)} />
      </label>
      <div className="grid grid-cols-3 gap-3">
        <label className={label}>
          Type
          <select className="field" value={draft.task_type} onChange={(e) => set('task_type', e.target.value as TaskType)}>
            {TASK_TYPES.map((t) => (
              <option key={t} value={t}>
                {TYPE_LABEL[t]}
              </option>
            ))}
          </select>
        </label>
        <label className={label}>
          Priority
          <input
            type="number"
            className="field"
            min={-1000}
            max={1000}
            step={1}
            value={draft.priority}
            onChange={(e) => set('priority', e.target.value)}
            required
          />
        </label>
        <label className={label}>
          Gut-feel points
          <input
            type="number"
            className="field"
            min={0}
            max={10}
            step={1}
            value={draft.points}
            onChange={(e) => set('points', e.target.value)}
            aria-describedby={`${id}-points-help`}
          />
        </label>
      </div>
      <p id={`${id}-points-help`} className="text-xs text-slate-500">
        Points 0–10; leave empty for unsized.{task.points_breakdown ? ' Changing them discards the sizing breakdown.' : ''}
      </p>
      <div className="flex gap-2">
        <button type="submit" className="btn btn-primary" disabled={!dirty || update.isPending}>
          {update.isPending ? 'Saving…' : 'Save changes'}
        </button>
        <button type="button" className="btn" disabled={!dirty} onClick={() => setDraft(draftOf(task))}>
          Discard
        </button>
      </div>
    </form>
  );
}
