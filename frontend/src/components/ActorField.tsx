import { useState } from 'react';
import { useServices } from '../api/services';
import { useStore } from '../state/store';

/** The label written as author / caller_label when this person flags a task or force-releases a lock. */
export function ActorField() {
  const { session } = useServices();
  const actor = useStore(session.actor);
  const [draft, setDraft] = useState(actor);
  const commit = () => {
    const next = draft.trim();
    if (next && next !== actor) session.saveActor(next);
    else setDraft(actor);
  };
  return (
    <label className="flex items-center gap-2 text-sm text-slate-300">
      Acting as
      <input
        className="field w-32 border-slate-600 bg-slate-800 text-white"
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit();
        }}
        maxLength={255}
      />
    </label>
  );
}
