import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { FEED_POLL_MS, NO_FILTER, useActivityFeed } from '../../api/activity';
import { useAgents, useProjectTree } from '../../api/queries';
import type { ActivityFilter } from '../../api/types';
import { Empty, LoadFailed, Loading } from '../../components/Status';
import { useProjectId } from '../useTaskParam';
import { ActivityFilters } from './ActivityFilters';
import { EventList } from './EventList';
import { useDeletedTasks } from './useDeletedTasks';

/**
 * What happened in the project, newest first: older events load as the list is scrolled to its
 * end; newer ones are polled every 5 s and put on top without moving what is being read.
 */
export default function ActivityView() {
  const projectId = useProjectId();
  const [filter, setFilter] = useState<ActivityFilter>(NO_FILTER);
  const { feed, events, lastAdded, newerAt } = useActivityFeed(projectId, filter, { poll: true });
  const tree = useProjectTree(projectId);
  const agents = useAgents(projectId, { poll: false });
  const isDeleted = useDeletedTasks(tree, events);

  const actors = useMemo(
    () => [...new Set([...(agents.data ?? []).map((a) => a.actor), ...events.map((e) => e.actor)])].sort(),
    [agents.data, events],
  );
  const tasks = useMemo(() => [...tree.index.values()].map((entry) => entry.task), [tree.index]);
  const taskName = (id: string) => tree.index.get(id)?.task.name ?? events.find((e) => e.task_id === id)?.task_name ?? 'a task';

  // New events go on top: when the list is scrolled down, it keeps showing the same events.
  const scroller = useRef<HTMLDivElement>(null);
  const anchor = useRef<{ first: string | undefined; height: number }>({ first: undefined, height: 0 });
  const first = events[0]?.id;
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const previous = anchor.current;
    if (previous.first !== undefined && previous.first !== first && el.scrollTop > 0) {
      el.scrollTop += el.scrollHeight - previous.height;
    }
    anchor.current = { first, height: el.scrollHeight };
  });

  // Infinite scroll: the next page loads when the end of the list comes into view.
  const sentinel = useRef<HTMLDivElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = feed;
  useEffect(() => {
    const target = sentinel.current;
    if (!target || !hasNextPage || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
      },
      { root: scroller.current, rootMargin: '200px' },
    );
    observer.observe(target);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, events.length]);

  return (
    <section className="flex h-full min-h-0 flex-col gap-3" aria-label="Activity">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <ActivityFilters filter={filter} onChange={setFilter} actors={actors} tasks={tasks} taskName={taskName} />
        <p className="text-xs text-slate-500">
          Newest first · new events every {FEED_POLL_MS / 1000} s
          {newerAt > 0 && ` · checked ${new Date(newerAt).toLocaleTimeString()}`}
        </p>
      </div>
      <p className="sr-only" aria-live="polite">
        {lastAdded > 0 ? `${lastAdded} new ${lastAdded === 1 ? 'event' : 'events'}` : ''}
      </p>
      {feed.isPending ? (
        <Loading label="Loading activity…" />
      ) : feed.isError && events.length === 0 ? (
        <LoadFailed what="the activity" onRetry={() => void feed.refetch()} />
      ) : events.length === 0 ? (
        <Empty>
          {filter.actor || filter.kinds.length > 0 || filter.taskId ? 'No event matches the filters.' : 'Nothing has happened in this project yet.'}
        </Empty>
      ) : (
        <div
          ref={scroller}
          className="min-h-0 flex-1 overflow-y-auto rounded-md border border-slate-200 bg-white px-3 [overflow-anchor:none]"
          data-testid="activity-scroller"
        >
          <EventList events={events} isDeleted={isDeleted} label="Events" />
          <div ref={sentinel} className="flex justify-center py-3">
            {hasNextPage ? (
              <button type="button" className="btn" disabled={isFetchingNextPage} onClick={() => void fetchNextPage()}>
                {isFetchingNextPage ? 'Loading older events…' : 'Load older events'}
              </button>
            ) : (
              <p className="text-xs text-slate-500">That is everything (events are kept 90 days).</p>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
