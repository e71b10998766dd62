// Query keys and read hooks. Every project-scoped key starts with ['project', id] so one
// invalidation refreshes a whole project.
import { useMemo } from 'react';
import { useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useApi } from './services';
import type { LockPurpose, TaskTree } from './types';
import { indexTrees } from '../domain/tree';

export const keys = {
  projects: ['projects'] as const,
  project: (projectId: string) => ['project', projectId] as const,
  projectDetail: (projectId: string) => ['project', projectId, 'detail'] as const,
  topLevel: (projectId: string) => ['project', projectId, 'top'] as const,
  trees: (projectId: string) => ['project', projectId, 'tree'] as const,
  tree: (projectId: string, rootId: string) => ['project', projectId, 'tree', rootId] as const,
  locks: (projectId: string) => ['project', projectId, 'locks'] as const,
  inProgress: (projectId: string) => ['project', projectId, 'in-progress'] as const,
  available: ['available'] as const,
  availableFor: (operation: LockPurpose, projectId: string | null) => ['available', operation, projectId] as const,
  task: (taskId: string) => ['task', taskId] as const,
  workLog: (taskId: string) => ['task', taskId, 'work-log'] as const,
  commits: (taskId: string) => ['task', taskId, 'commits'] as const,
  context: (taskId: string) => ['task', taskId, 'context'] as const,
};

export function useProjects() {
  const api = useApi();
  return useQuery({ queryKey: keys.projects, queryFn: () => api.listProjects() });
}

export function useProjectDetail(projectId: string) {
  const api = useApi();
  return useQuery({ queryKey: keys.projectDetail(projectId), queryFn: () => api.getProject(projectId) });
}

/**
 * The whole project as a forest: the top-level list, then the tree of every top-level task
 * that has children (fetched in parallel; until one arrives its task stands alone).
 */
export function useProjectTree(projectId: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  const top = useQuery({ queryKey: keys.topLevel(projectId), queryFn: () => api.listTopLevelTasks(projectId) });
  const parents = useMemo(() => (top.data ?? []).filter((t) => t.children_count > 0), [top.data]);
  const trees = useQueries({
    queries: parents.map((task) => ({
      queryKey: keys.tree(projectId, task.id),
      queryFn: () => api.getTaskTree(task.id),
    })),
    combine: (results) => ({
      data: results.map((r) => r.data),
      error: results.find((r) => r.error)?.error ?? null,
    }),
  });

  const { roots, loadingRoots } = useMemo(() => {
    const byId = new Map<string, TaskTree>();
    trees.data.forEach((tree) => {
      if (tree) byId.set(tree.id, tree);
    });
    const loading = new Set(parents.filter((task) => !byId.has(task.id)).map((task) => task.id));
    return {
      roots: (top.data ?? []).map((task) => byId.get(task.id) ?? { ...task, children: [] }),
      loadingRoots: loading as ReadonlySet<string>,
    };
  }, [top.data, trees.data, parents]);
  const index = useMemo(() => indexTrees(roots), [roots]);

  return {
    roots,
    index,
    /** True until the top-level list is in; the trees then arrive one by one. */
    isPending: top.isPending,
    /** Top-level tasks whose subtree is still loading. */
    loadingRoots,
    error: top.error ?? trees.error,
    retry: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.topLevel(projectId) }),
        queryClient.invalidateQueries({ queryKey: keys.trees(projectId) }),
      ]),
  };
}

export function useTask(taskId: string) {
  const api = useApi();
  return useQuery({ queryKey: keys.task(taskId), queryFn: () => api.getTask(taskId) });
}

export function useWorkLog(taskId: string) {
  const api = useApi();
  return useQuery({ queryKey: keys.workLog(taskId), queryFn: () => api.listWorkLog(taskId) });
}

export function useCommits(taskId: string) {
  const api = useApi();
  return useQuery({ queryKey: keys.commits(taskId), queryFn: () => api.listCommits(taskId) });
}

export function useTaskContext(taskId: string) {
  const api = useApi();
  return useQuery({ queryKey: keys.context(taskId), queryFn: () => api.getContext(taskId) });
}

const MONITOR_REFRESH_MS = 10_000;

export function useLocks(projectId: string) {
  const api = useApi();
  return useQuery({
    queryKey: keys.locks(projectId),
    queryFn: () => api.listLocks(projectId),
    refetchInterval: MONITOR_REFRESH_MS,
  });
}

export function useInProgress(projectId: string) {
  const api = useApi();
  return useQuery({
    queryKey: keys.inProgress(projectId),
    queryFn: () => api.listInProgress(projectId),
    refetchInterval: MONITOR_REFRESH_MS,
  });
}

export const QUEUE_LIMIT = 20;

export function useAvailable(operation: LockPurpose, projectId: string | null) {
  const api = useApi();
  return useQuery({
    queryKey: keys.availableFor(operation, projectId),
    queryFn: () => api.listAvailable(operation, projectId, QUEUE_LIMIT),
    refetchInterval: MONITOR_REFRESH_MS,
  });
}
