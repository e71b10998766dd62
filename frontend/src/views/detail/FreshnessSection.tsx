import { useTaskContext } from '../../api/queries';
import { Loading } from '../../components/Status';
import { formatDateTime } from '../../domain/format';

/** Whether the task's context is still current relative to its ancestors (SPEC §1 context freshness). */
export function FreshnessSection({ taskId }: { taskId: string }) {
  const context = useTaskContext(taskId);
  if (context.isPending) return <Loading label="Checking context freshness…" />;
  if (!context.data) return <p className="text-sm text-slate-500">Freshness unavailable.</p>;
  const { context_freshness: freshness, stale_reasons: reasons, context_captured_at: captured } = context.data;
  return (
    <div className="text-sm">
      <p>
        <span
          className={`mr-2 rounded px-1.5 py-px text-xs font-medium ${
            freshness === 'fresh' ? 'bg-emerald-100 text-emerald-800' : 'bg-amber-100 text-amber-900'
          }`}
          data-testid="freshness"
        >
          {freshness === 'fresh' ? 'Fresh' : 'Stale'}
        </span>
        captured {formatDateTime(captured)}
      </p>
      {reasons.length > 0 && (
        <ul className="mt-1 list-disc pl-5 text-slate-700">
          {reasons.map((reason, i) => (
            <li key={i}>{reason}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
