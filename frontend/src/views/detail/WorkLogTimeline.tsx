import { useWorkLog } from '../../api/queries';
import { Empty, Loading } from '../../components/Status';
import { formatDateTime, humanize } from '../../domain/format';

/** The task's work log, oldest first, as a timeline. */
export function WorkLogTimeline({ taskId }: { taskId: string }) {
  const log = useWorkLog(taskId);
  if (log.isPending) return <Loading label="Loading work log…" />;
  if (!log.data || log.data.length === 0) return <Empty>No work logged yet.</Empty>;
  return (
    <ol className="relative ml-2 border-l border-slate-300" data-testid="work-log">
      {log.data.map((entry) => (
        <li key={entry.id} className="mb-3 ml-4">
          <span className="absolute -left-1.5 mt-1.5 h-3 w-3 rounded-full border border-white bg-blue-500" aria-hidden />
          <p className="text-xs text-slate-500">
            <time dateTime={entry.created_at}>{formatDateTime(entry.created_at)}</time> · {humanize(entry.operation)} ·{' '}
            {entry.author}
          </p>
          <p className="text-sm whitespace-pre-wrap">{entry.content}</p>
        </li>
      ))}
    </ol>
  );
}
