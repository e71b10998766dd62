// Write hooks. Errors surface as toasts through the MutationCache (see queryClient.ts);
// successes invalidate what the write can have changed.
import { useMutation, useQueryClient, type InvalidateQueryFilters, type QueryClient } from '@tanstack/react-query';
import { keys } from './queries';
import { useApi, useServices } from './services';
import type { Accepted, NewTask, ProjectDetail, Task, TaskStatus, TaskTree, TaskUpdate } from './types';
import { moveChild, moveItem } from '../domain/tree';

/**
 * Marks `queryKey` stale and refetches what is on screen. An in-flight fetch is cancelled first:
 * a query's first load (no data yet) would otherwise be reused by the refetch, so an answer
 * read before the write would land as if it were fresh (TanStack only cancels a running fetch
 * for a refetch when the query already has data).
 */
export async function refresh(queryClient: QueryClient, filters: InvalidateQueryFilters): Promise<void> {
  await queryClient.cancelQueries(filters);
  await queryClient.invalidateQueries(filters);
}

/** The project's tasks the cache knows, as a forest: each top-level task with its cached tree, if any. */
function cachedForest(queryClient: QueryClient, projectId: string): TaskTree[] {
  const top = queryClient.getQueryData<Task[]>(keys.topLevel(projectId)) ?? [];
  return top.map((task) => queryClient.getQueryData<TaskTree>(keys.tree(projectId, task.id)) ?? { ...task, children: [] });
}

function collectIds(tree: TaskTree, into: Set<string>): Set<string> {
  into.add(tree.id);
  tree.children.forEach((child) => collectIds(child, into));
  return into;
}

function waitsForAny(tree: TaskTree, blockers: ReadonlySet<string>): boolean {
  return tree.blocked_by.some((id) => blockers.has(id)) || tree.children.some((child) => waitsForAny(child, blockers));
}

/**
 * The trees a write to `taskId` can change: its own (cascades, rollups) and, since a status change
 * anywhere in it can open or satisfy a dependency, every tree with a task waiting for one of its tasks.
 */
function treesAffectedBy(queryClient: QueryClient, projectId: string, taskId: string): string[] | 'all' {
  const forest = cachedForest(queryClient, projectId);
  const root = forest.find((tree) => collectIds(tree, new Set()).has(taskId));
  if (!root) return 'all';
  const ids = collectIds(root, new Set());
  return forest.filter((tree) => tree === root || waitsForAny(tree, ids)).map((tree) => tree.id);
}

/**
 * A task write can change trees (cascades, rollups, dependents' readiness), the project counts,
 * the monitors, the queues, the feed and the open task details. `trees` names the trees to
 * refetch ('all' when unknown).
 */
function refreshAfterWrite(
  queryClient: QueryClient,
  projectId: string,
  trees: readonly string[] | 'all',
  /** A task just deleted: its queries are not asked again (they would answer 404). */
  deleted: string | null = null,
): Promise<unknown> {
  return Promise.all([
    refresh(queryClient, { queryKey: keys.projectDetail(projectId) }),
    refresh(queryClient, { queryKey: keys.topLevel(projectId) }),
    ...(trees === 'all'
      ? [refresh(queryClient, { queryKey: keys.trees(projectId) })]
      : trees.map((rootId) => refresh(queryClient, { queryKey: keys.tree(projectId, rootId) }))),
    refresh(queryClient, { queryKey: keys.locks(projectId) }),
    refresh(queryClient, { queryKey: keys.inProgress(projectId) }),
    refresh(queryClient, { queryKey: keys.available }),
    refresh(queryClient, { queryKey: keys.projects }),
    refresh(queryClient, { queryKey: keys.activity(projectId) }),
    refresh(queryClient, { queryKey: ['project', projectId, 'history'] }),
    refresh(queryClient, { queryKey: keys.agents(projectId) }),
    // Open task details: a task's readiness and its dependencies' statuses follow other tasks' writes.
    refresh(queryClient, {
      predicate: (q) => q.queryKey[0] === 'task' && q.queryKey[1] !== deleted && (q.queryKey.length === 2 || q.queryKey[2] === 'dependencies'),
    }),
  ]);
}

/** After a write to one task: its own queries (work log, commits, context included), and everything in its project that it can change. */
function refreshTask(queryClient: QueryClient, projectId: string, taskId: string, trees = treesAffectedBy(queryClient, projectId, taskId)): Promise<unknown> {
  return Promise.all([refreshAfterWrite(queryClient, projectId, trees), refresh(queryClient, { queryKey: keys.task(taskId) })]);
}

/** When a job ends: everything of its project (or the project list, for an import). */
export function refreshAfterJob(queryClient: QueryClient, projectId: string | null): Promise<unknown> {
  return Promise.all([
    refresh(queryClient, { queryKey: keys.projects }),
    projectId ? refresh(queryClient, { queryKey: keys.project(projectId) }) : null,
    projectId ? refresh(queryClient, { queryKey: ['task'] }) : null,
    refresh(queryClient, { queryKey: keys.available }),
  ]);
}

export function useCreateProject() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; description?: string }) => api.createProject(body),
    onSuccess: () => refresh(queryClient, { queryKey: keys.projects }),
  });
}

export function useUpdateProject(projectId: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { name?: string; description?: string }) => api.updateProject(projectId, body),
    onSuccess: () =>
      Promise.all([refresh(queryClient, { queryKey: keys.projects }), refresh(queryClient, { queryKey: keys.projectDetail(projectId) })]),
  });
}

export function useDeleteProject() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (projectId: string) => api.deleteProject(projectId),
    onSuccess: async (_data, projectId) => {
      await queryClient.cancelQueries({ queryKey: keys.project(projectId) });
      queryClient.removeQueries({ queryKey: keys.project(projectId) });
      return refresh(queryClient, { queryKey: keys.projects });
    },
  });
}

/** Imports up to 6 MB go inline; larger ones through an upload URL (SPEC §7), which the server runs as a job. */
const INLINE_IMPORT_LIMIT = 6_000_000;

export function useImportProject() {
  const api = useApi();
  const { jobs } = useServices();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ text }: { text: string; fileName: string }): Promise<Accepted<ProjectDetail>> => {
      if (new TextEncoder().encode(text).length <= INLINE_IMPORT_LIMIT) {
        return api.importProject(JSON.parse(text) as unknown);
      }
      const upload = await api.createImportUpload();
      await api.uploadImport(upload.upload_url, text);
      return api.importProject({ upload_id: upload.upload_id });
    },
    onSuccess: (result, { fileName }) => {
      if (result.kind === 'job') jobs.track({ job: result.job, label: `Import ${fileName}`, projectId: null });
      return refresh(queryClient, { queryKey: keys.projects });
    },
  });
}

function saveFile(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

function fileStem(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'project';
}

export function useExportProject() {
  const api = useApi();
  return useMutation({
    mutationFn: async ({ projectId, name, format }: { projectId: string; name: string; format: 'json' | 'markdown' }) => {
      if (format === 'markdown') {
        saveFile(`${fileStem(name)}.md`, 'text/markdown', await api.exportMarkdown(projectId));
        return;
      }
      const result = await api.exportProject(projectId);
      if (result.kind === 'link') window.location.assign(result.link.download_url);
      else saveFile(`${fileStem(name)}.json`, 'application/json', result.text);
    },
  });
}

export function useCreateTask(projectId: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ parentId, body }: { parentId: string | null; body: NewTask }) =>
      parentId ? api.createSubtask(parentId, body) : api.createTask(projectId, body),
    // A new top-level task has no tree yet; a subtask changes its parent's tree (and reopens
    // done ancestors, which can make their dependents wait again).
    onSuccess: (_task, { parentId }) =>
      refreshAfterWrite(queryClient, projectId, parentId ? treesAffectedBy(queryClient, projectId, parentId) : []),
  });
}

export function useUpdateTask(projectId: string, taskId: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: TaskUpdate) => api.updateTask(taskId, body),
    onSuccess: (task) => {
      queryClient.setQueryData(keys.task(taskId), task);
      return refreshTask(queryClient, projectId, taskId);
    },
  });
}

/**
 * The caller closes whatever shows the task; its own queries are left to expire. A subtree of
 * more than 2 000 tasks is deleted by a job, which the jobs tray follows.
 */
export function useDeleteTask(projectId: string) {
  const api = useApi();
  const { jobs } = useServices();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id }: { id: string; name: string }) => api.deleteTask(id),
    // Known before the delete: afterwards the cache cannot tell where the task was.
    onMutate: ({ id }) => ({ trees: treesAffectedBy(queryClient, projectId, id) }),
    onSuccess: (result, { id, name }, context) => {
      if (result.kind === 'job') jobs.track({ job: result.job, label: `Delete “${name}”`, projectId });
      else queryClient.removeQueries({ queryKey: keys.tree(projectId, id) });
      const trees = context.trees === 'all' ? 'all' : context.trees.filter((root) => root !== id);
      return refreshAfterWrite(queryClient, projectId, trees, result.kind === 'done' ? id : null);
    },
  });
}

/** A cancel that reaches more than 2 000 tasks answers with a job, which the jobs tray follows. */
export function useSetStatus(projectId: string) {
  const api = useApi();
  const { jobs } = useServices();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ taskId, status }: { taskId: string; status: TaskStatus; name: string }) => api.setStatus(taskId, status),
    onSuccess: (result, { taskId, status, name }) => {
      if (result.kind === 'job') {
        jobs.track({ job: result.job, label: status === 'wont_do' ? `Cancel “${name}”` : `Move “${name}”`, projectId });
      } else {
        queryClient.setQueryData(keys.task(taskId), result.value);
      }
      return refreshTask(queryClient, projectId, taskId);
    },
  });
}

interface ReorderVars {
  task: Task;
  rootId: string;
  position: number;
}

/** Reorder among siblings, drawn at once and rolled back if the API refuses. */
export function useReorder(projectId: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ task, position }: ReorderVars) => api.reorder(task.id, position),
    onMutate: async ({ task, rootId, position }: ReorderVars) => {
      if (task.parent_task_id === null) {
        const key = keys.topLevel(projectId);
        await queryClient.cancelQueries({ queryKey: key });
        const previous = queryClient.getQueryData<Task[]>(key);
        if (previous) {
          const from = previous.findIndex((t) => t.id === task.id);
          queryClient.setQueryData(key, moveItem(previous, from, position));
        }
        return () => queryClient.setQueryData(key, previous);
      }
      const key = keys.tree(projectId, rootId);
      await queryClient.cancelQueries({ queryKey: key });
      const previous = queryClient.getQueryData<TaskTree>(key);
      const parentId = task.parent_task_id;
      if (previous) queryClient.setQueryData(key, moveChild(previous, parentId, task.id, position));
      return () => queryClient.setQueryData(key, previous);
    },
    onError: (_error, _vars, rollback) => rollback?.(),
    onSettled: (_data, _error, { rootId }) => refreshAfterWrite(queryClient, projectId, [rootId]),
  });
}

export function useForceRelease(projectId: string) {
  const api = useApi();
  const { session } = useServices();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (taskId: string) => api.forceReleaseLock(taskId, session.actor.get()),
    onSuccess: (_data, taskId) => refreshTask(queryClient, projectId, taskId),
  });
}

export function useFlagRefinement(projectId: string, taskId: string) {
  const api = useApi();
  const { session } = useServices();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (notes: string) => api.flagRefinement(taskId, { refinement_notes: notes, author: session.actor.get() }),
    onSuccess: (task) => {
      queryClient.setQueryData(keys.task(taskId), task);
      return refreshTask(queryClient, projectId, taskId);
    },
  });
}

/**
 * Makes `taskId` wait for a blocker, or stop waiting. The waiting task's subtree changes
 * readiness; both tasks' dependency lists change. A refusal (422 INVALID_DEPENDENCY) is shown
 * by the form, not as a toast.
 */
export function useDependencyEdit(projectId: string, taskId: string) {
  const api = useApi();
  const { session } = useServices();
  const queryClient = useQueryClient();
  const after = (blockerId: string) =>
    Promise.all([refreshTask(queryClient, projectId, taskId), refresh(queryClient, { queryKey: keys.dependencies(blockerId) })]);
  const add = useMutation({
    mutationFn: (blockerId: string) => api.addDependency(taskId, blockerId, session.actor.get()),
    meta: { inlineErrors: true },
    onSuccess: (_edge, blockerId) => after(blockerId),
  });
  const remove = useMutation({
    mutationFn: (blockerId: string) => api.removeDependency(taskId, blockerId, session.actor.get()),
    onSuccess: (_data, blockerId) => after(blockerId),
  });
  return { add, remove };
}
