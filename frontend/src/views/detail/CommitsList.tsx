import { useCommits } from '../../api/queries';
import { Empty, Loading } from '../../components/Status';
import { formatDateTime } from '../../domain/format';

/** Commits recorded on the task, oldest first. */
export function CommitsList({ taskId }: { taskId: string }) {
  const commits = useCommits(taskId);
  if (commits.isPending) return <Loading label="Loading commits…" />;
  if (!commits.data || commits.data.length === 0) return <Empty>No commits recorded.</Empty>;
  return (
    <ul className="flex flex-col gap-1 text-sm">
      {commits.data.map((commit) => (
        <li key={commit.id}>
          <code className="rounded bg-slate-100 px-1 text-xs">{commit.commit_hash.slice(0, 10)}</code>{' '}
          {commit.message ?? <span className="text-slate-500">(no message)</span>}
          <span className="block text-xs text-slate-500">
            {commit.author}, {formatDateTime(commit.committed_at)}
          </span>
        </li>
      ))}
    </ul>
  );
}
