import { useMemo } from 'react';
import { useActivityFeed } from '../../api/activity';
import { Empty, Loading } from '../../components/Status';
import { EventList } from '../activity/EventList';

const notDeleted = () => false;

/** The task's own events (GET /projects/{id}/activity?task_id=…), newest first; re-read after every write. */
export function TaskHistory({ projectId, taskId }: { projectId: string; taskId: string }) {
  const filter = useMemo(() => ({ actor: '', kinds: [], taskId }), [taskId]);
  const { feed, events } = useActivityFeed(projectId, filter, { poll: false });
  if (feed.isPending) return <Loading label="Loading history…" />;
  if (events.length === 0) return <Empty>No recorded events.</Empty>;
  return (
    <div data-testid="task-history">
      <EventList events={events} isDeleted={notDeleted} showTask={false} label="History" />
      {feed.hasNextPage && (
        <button type="button" className="btn mt-2" disabled={feed.isFetchingNextPage} onClick={() => void feed.fetchNextPage()}>
          {feed.isFetchingNextPage ? 'Loading…' : 'Load older events'}
        </button>
      )}
    </div>
  );
}
