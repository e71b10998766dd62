// Write hooks. Errors surface as toasts through the MutationCache (see queryClient.ts);
// successes invalidate what the write can have changed.
import { useMutation, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { keys } from './queries';
import { useApi, useServices } from './services';
import type { NewTask, Task, TaskStatus, TaskTree, TaskUpdate } from './types';
import { moveChild, moveItem } from '../domain/tree';

/** The top-level task whose cached tree holds `taskId`, or 'all' when the cache does not know. */
function rootOf(queryClient: QueryClient, projectId: string, taskId: string): string | 'all' {
  const top = queryClient.getQueryData<Task[]>(keys.topLevel(projectId));
  if (top?.some((t) => t.id === taskId)) return taskId;
  const contains = (tree: TaskTree): boolean => tree.id === taskId || tree.children.some(contains);
  for (const [, tree] of queryClient.getQueriesData<TaskTree>({ queryKey: keys.trees(projectId) })) {
    if (tree && contains(tree)) return tree.id;
  }
  return 'all';
}

/**
 * A task write can change its tree (cascades, rollups), the project counts, the monitors and
 * the queues. `trees` names the one tree to refetch ('all' when unknown, 'none' when no tree changed).
 */
function refreshAfterWrite(queryClient: QueryClient, projectId: string, trees: string | 'all' | 'none'): Promise<unknown> {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: keys.projectDetail(projectId) }),
    queryClient.invalidateQueries({ queryKey: keys.topLevel(projectId) }),
    trees === 'none'
      ? null
      : queryClient.invalidateQueries({ queryKey: trees === 'all' ? keys.trees(projectId) : keys.tree(projectId, trees) }),
    queryClient.invalidateQueries({ queryKey: keys.locks(projectId) }),
    queryClient.invalidateQueries({ queryKey: keys.inProgress(projectId) }),
    queryClient.invalidateQueries({ queryKey: keys.available }),
    queryClient.invalidateQueries({ queryKey: keys.projects }),
  ]);
}

/** After a write to one task: its own queries (work log, commits, context included), and everything in its project that it can change. */
function refreshTask(queryClient: QueryClient, projectId: string, taskId: string): Promise<unknown> {
  return Promise.all([
    refreshAfterWrite(queryClient, projectId, rootOf(queryClient, projectId, taskId)),
    queryClient.invalidateQueries({ queryKey: keys.task(taskId) }),
  ]);
}

export function useCreateProject() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; description?: string }) => api.createProject(body),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.projects }),
  });
}

export function useUpdateProject(projectId: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { name?: string; description?: string }) => api.updateProject(projectId, body),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.projects }),
        queryClient.invalidateQueries({ queryKey: keys.projectDetail(projectId) }),
      ]),
  });
}

export function useDeleteProject() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (projectId: string) => api.deleteProject(projectId),
    onSuccess: (_data, projectId) => {
      queryClient.removeQueries({ queryKey: keys.project(projectId) });
      return queryClient.invalidateQueries({ queryKey: keys.projects });
    },
  });
}

/** Imports up to 6 MB go inline; larger ones through an upload URL (SPEC §7). */
const INLINE_IMPORT_LIMIT = 6_000_000;

export function useImportProject() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (text: string) => {
      if (new TextEncoder().encode(text).length <= INLINE_IMPORT_LIMIT) {
        return api.importProject(JSON.parse(text) as unknown);
      }
      const upload = await api.createImportUpload();
      await api.uploadImport(upload.upload_url, text);
      return api.importProject({ upload_id: upload.upload_id });
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.projects }),
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
    // A new top-level task has no tree yet; a subtask changes its parent's tree.
    onSuccess: (_task, { parentId }) =>
      refreshAfterWrite(queryClient, projectId, parentId ? rootOf(queryClient, projectId, parentId) : 'none'),
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

/** The caller closes whatever shows the task; its own queries are left to expire. */
export function useDeleteTask(projectId: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (taskId: string) => api.deleteTask(taskId),
    onMutate: (taskId) => ({ root: rootOf(queryClient, projectId, taskId) }),
    onSuccess: (_data, taskId, context) => {
      if (context.root === taskId) {
        // The deleted task was top-level: its tree is gone, no other tree changed.
        queryClient.removeQueries({ queryKey: keys.tree(projectId, taskId) });
        return refreshAfterWrite(queryClient, projectId, 'none');
      }
      return refreshAfterWrite(queryClient, projectId, context.root);
    },
  });
}

export function useSetStatus(projectId: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ taskId, status }: { taskId: string; status: TaskStatus }) => api.setStatus(taskId, status),
    onSuccess: (task) => {
      queryClient.setQueryData(keys.task(task.id), task);
      return refreshTask(queryClient, projectId, task.id);
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
    onSettled: (_data, _error, { rootId }) => refreshAfterWrite(queryClient, projectId, rootId),
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
