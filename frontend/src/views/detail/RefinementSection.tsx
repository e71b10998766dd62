import { useState, type FormEvent } from 'react';
import { useFlagRefinement } from '../../api/mutations';
import type { Task } from '../../api/types';

/** Whether the task is flagged, its notes, and a form to flag it (again) with notes. */
export function RefinementSection({ task }: { task: Task }) {
  const flag = useFlagRefinement(task.project_id, task.id);
  const [notes, setNotes] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!notes.trim()) return;
    flag.mutate(notes, { onSuccess: () => setNotes('') });
  };
  return (
    <div className="flex flex-col gap-2 text-sm">
      {task.needs_refinement ? (
        <div className="rounded border border-amber-300 bg-amber-50 p-2">
          <p className="font-medium text-amber-900">Flagged for refinement</p>
          {task.refinement_notes && <p className="whitespace-pre-wrap text-amber-900">{task.refinement_notes}</p>}
        </div>
      ) : (
        <p className="text-slate-500">Not flagged.</p>
      )}
      <form onSubmit={submit} className="flex flex-col gap-2">
        <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
          Refinement notes
          <textarea className="field min-h-16" value={notes} onChange={(e) => setNotes(e.target.value)} />
        </label>
        <div>
          <button type="submit" className="btn" disabled={!notes.trim() || flag.isPending}>
            Flag for refinement
          </button>
        </div>
      </form>
    </div>
  );
}
