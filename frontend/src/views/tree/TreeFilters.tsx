import { READINESS, STATUSES, type Readiness, type TaskStatus } from '../../api/types';
import { READINESS_LABEL, STATUS_LABEL } from '../../domain/format';
import type { TreeFilter } from '../../domain/tree';

interface TreeFiltersProps {
  filter: TreeFilter;
  onChange: (filter: TreeFilter) => void;
}

/** Text, status and readiness filters for the tree. */
export function TreeFilters({ filter, onChange }: TreeFiltersProps) {
  return (
    <div className="flex flex-wrap items-end gap-2" role="search" aria-label="Filter tasks">
      <label className="flex flex-col text-xs font-medium text-slate-600">
        Filter by name
        <input
          type="search"
          className="field w-56"
          value={filter.text}
          onChange={(e) => onChange({ ...filter, text: e.target.value })}
          placeholder="Search tasks"
        />
      </label>
      <label className="flex flex-col text-xs font-medium text-slate-600">
        Status
        <select className="field" value={filter.status} onChange={(e) => onChange({ ...filter, status: e.target.value as TaskStatus | '' })}>
          <option value="">Any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {STATUS_LABEL[s]}
            </option>
          ))}
        </select>
      </label>
      <label className="flex flex-col text-xs font-medium text-slate-600">
        Readiness
        <select
          className="field"
          value={filter.readiness}
          onChange={(e) => onChange({ ...filter, readiness: e.target.value as Readiness | '' })}
        >
          <option value="">Any readiness</option>
          {READINESS.map((r) => (
            <option key={r} value={r}>
              {READINESS_LABEL[r]}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
