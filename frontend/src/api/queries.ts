// Query keys and read hooks. Every project-scoped key starts with ['project', id] so one
// invalidation refreshes a whole project.
import { useMemo } from 'react';
import { useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useApi } from './services';
import type { Job, LockPurpose, TaskTree } from './types';
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
  dependencies: (taskId: string) => ['task', taskId, 'dependencies'] as const,
  /** Every activity feed of the project (any filter). */
  activity: (projectId: string) => ['project', projectId, 'activity'] as const,
  history: (projectId: string, days: number) => ['project', projectId, 'history', days] as const,
  agents: (projectId: string) => ['project', projectId, 'agents'] as const,
  job: (jobId: string) => ['job', jobId] as const,
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
      updatedAt: results.reduce((oldest, r) => Math.min(oldest, r.dataUpdatedAt), Number.POSITIVE_INFINITY),
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
    /** When the oldest part of what is shown was read (ms since the epoch; 0 before the list is in). */
    updatedAt: Math.min(top.dataUpdatedAt, trees.updatedAt),
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

export function useDependencies(taskId: string) {
  const api = useApi();
  return useQuery({ queryKey: keys.dependencies(taskId), queryFn: () => api.listDependencies(taskId) });
}

export const HISTORY_DAYS = 30;

export function useHistory(projectId: string) {
  const api = useApi();
  return useQuery({ queryKey: keys.history(projectId, HISTORY_DAYS), queryFn: () => api.getHistory(projectId, HISTORY_DAYS) });
}

export const AGENT_HOURS = 24;
export const AGENTS_REFRESH_MS = 5_000;

/** Who worked on the project in the last 24 h (or holds a lock in it); polled every 5 s with `poll`. */
export function useAgents(projectId: string, { poll }: { poll: boolean }) {
  const api = useApi();
  return useQuery({
    queryKey: keys.agents(projectId),
    queryFn: () => api.listAgents(projectId, AGENT_HOURS),
    refetchInterval: poll ? AGENTS_REFRESH_MS : false,
  });
}

const JOB_POLL_MS = 1_000;

/** A job, polled every second until it has finished (a finished job never changes again). */
export function useJob(initial: Job) {
  const api = useApi();
  return useQuery({
    queryKey: keys.job(initial.id),
    queryFn: () => api.getJob(initial.id),
    initialData: initial,
    initialDataUpdatedAt: 0,
    staleTime: 0,
    refetchInterval: (query) => (query.state.data?.status === 'running' ? JOB_POLL_MS : false),
    refetchIntervalInBackground: true,
  });
}
