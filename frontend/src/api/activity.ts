// The activity feed (SPEC §14): older pages by offset (infinite scroll), newer events by polling.
import { useMemo } from 'react';
import { useInfiniteQuery, useQuery, useQueryClient, type InfiniteData, type QueryClient } from '@tanstack/react-query';
import { keys } from './queries';
import { useApi } from './services';
import type { ActivityEvent, ActivityFilter } from './types';

export interface FeedPage {
  events: ActivityEvent[];
  /** Offset of the next page (X-Next-Offset), moved on as new events are put in front; null at the end. */
  next: number | null;
}

type FeedData = InfiniteData<FeedPage, number>;

export const FEED_PAGE_SIZE = 50;
export const FEED_POLL_MS = 5_000;
/** More new events than this between two polls: the feed starts over instead. */
const MAX_NEW_EVENTS = 1_000;

export const NO_FILTER: ActivityFilter = { actor: '', kinds: [], taskId: '' };

export function feedKey(projectId: string, filter: ActivityFilter) {
  return [...keys.activity(projectId), { actor: filter.actor, kinds: [...filter.kinds].sort(), taskId: filter.taskId }] as const;
}

/** How far back a poll looks before the last time the feed was checked: room for a browser clock ahead of the server's. */
const CLOCK_MARGIN_MS = 5 * 60_000;

/**
 * Where a poll starts: the newest event shown (inclusive), but never long before the last check,
 * so that a filtered feed whose newest match is old (or that has none) does not make the server
 * scan the project's whole history every 5 s.
 */
function sinceFor(queryClient: QueryClient, key: readonly unknown[]): string {
  const newest = queryClient.getQueryData<FeedData>(key)?.pages[0]?.events[0]?.at;
  const checked = Math.max(queryClient.getQueryState(key)?.dataUpdatedAt ?? 0, queryClient.getQueryState([...key, 'newer'])?.dataUpdatedAt ?? 0);
  const floor = checked - CLOCK_MARGIN_MS;
  return newest && Date.parse(newest) >= floor ? newest : new Date(floor).toISOString();
}

/**
 * A project's events, newest first. `fetchNextPage` loads older ones. With `poll`, the events
 * recorded since the newest one shown are asked for every 5 s and put in front; the offsets of
 * the older pages move by as many, because the API counts offsets from the newest event.
 */
export function useActivityFeed(projectId: string, filter: ActivityFilter, { poll }: { poll: boolean }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const key = feedKey(projectId, filter);

  const feed = useInfiniteQuery({
    queryKey: key,
    queryFn: async ({ pageParam }): Promise<FeedPage> => {
      const page = await api.listActivity(projectId, filter, pageParam, FEED_PAGE_SIZE);
      return { events: page.items, next: page.next };
    },
    initialPageParam: 0,
    getNextPageParam: (last) => last.next,
  });

  const newer = useQuery({
    queryKey: [...key, 'newer'],
    enabled: poll && feed.isSuccess,
    refetchInterval: FEED_POLL_MS,
    staleTime: FEED_POLL_MS,
    queryFn: async () => {
      const { items, more } = await api.listActivitySince(projectId, filter, sinceFor(queryClient, key), MAX_NEW_EVENTS);
      const data = queryClient.getQueryData<FeedData>(key);
      if (!data) return { added: 0 };
      if (more) {
        await queryClient.resetQueries({ queryKey: key, exact: true });
        return { added: 0 };
      }
      const known = new Set(data.pages.flatMap((page) => page.events.map((event) => event.id)));
      const fresh = items.filter((event) => !known.has(event.id));
      if (fresh.length > 0) {
        // Something changed: the header's counters and burn-up are read again; the rest of the
        // project is marked stale and read when next shown (a 2000-task tree is not re-read every 5 s).
        void queryClient.invalidateQueries({ queryKey: keys.projectDetail(projectId) });
        void queryClient.invalidateQueries({ queryKey: ['project', projectId, 'history'] });
        void queryClient.invalidateQueries({
          queryKey: keys.project(projectId),
          predicate: (q) => q.queryKey[2] !== 'activity',
          refetchType: 'none',
        });
        const shift = (offset: number) => offset + fresh.length;
        queryClient.setQueryData<FeedData>(key, {
          pages: data.pages.map((page, i) => ({
            events: i === 0 ? [...fresh, ...page.events] : page.events,
            next: page.next === null ? null : shift(page.next),
          })),
          pageParams: data.pageParams.map((offset, i) => (i === 0 ? offset : shift(offset))),
        });
      }
      return { added: fresh.length };
    },
  });

  // A page fetched while new events came in can repeat events already shown: each is listed once.
  const events = useMemo(() => {
    const seen = new Set<string>();
    return (feed.data?.pages ?? []).flatMap((page) => page.events).filter((event) => !seen.has(event.id) && seen.add(event.id));
  }, [feed.data]);

  return { feed, events, lastAdded: newer.data?.added ?? 0, newerAt: newer.dataUpdatedAt };
}
