import { useCallback, useMemo } from 'react';
import type { ActivityEvent } from '../../api/types';
import type { IndexedTask } from '../../domain/tree';

interface TreeState {
  index: ReadonlyMap<string, IndexedTask>;
  isPending: boolean;
  loadingRoots: ReadonlySet<string>;
  error: unknown;
  /** When the oldest part of the loaded tree was read (ms), 0 before. */
  updatedAt: number;
}

/** Server and browser clocks may differ: only events older than the tree by this much are judged by it. */
const CLOCK_MARGIN_MS = 60_000;

/**
 * Whether an event's task is gone: a `task_deleted` event for it is in the feed, or the task is
 * missing from the loaded project tree although the event is older than that tree (a task
 * created since is not in it yet). While the tree loads, tasks count as present.
 */
export function useDeletedTasks(tree: TreeState, events: readonly ActivityEvent[]): (event: ActivityEvent) => boolean {
  const deleted = useMemo(() => new Set(events.filter((e) => e.kind === 'task_deleted').map((e) => e.task_id)), [events]);
  const complete = !tree.isPending && tree.loadingRoots.size === 0 && !tree.error;
  const { index, updatedAt } = tree;
  return useCallback(
    (event: ActivityEvent) =>
      deleted.has(event.task_id) || (complete && !index.has(event.task_id) && new Date(event.at).getTime() < updatedAt - CLOCK_MARGIN_MS),
    [deleted, complete, index, updatedAt],
  );
}
