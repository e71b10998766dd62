// The one module that talks to the Chorus API. Every endpoint the UI uses is a typed method here.
import type {
  Commit,
  ExportLink,
  ImportUpload,
  Lock,
  LockPurpose,
  NewTask,
  Project,
  ProjectDetail,
  Task,
  TaskContext,
  TaskStatus,
  TaskTree,
  TaskUpdate,
  WorkLogEntry,
} from './types';

/** A failed call, carrying the SPEC §5 envelope when the API sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly requestId: string | null;

  constructor(status: number, code: string, message: string, details: Record<string, unknown>, requestId: string | null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.requestId = requestId;
  }
}

export interface ClientOptions {
  baseUrl: string;
  getToken: () => string | null;
  /** Called on every 401 so the app can ask for a token. */
  onUnauthorized: () => void;
  fetchImpl?: typeof fetch;
}

type Query = Record<string, string | number | boolean | undefined | null>;

interface RequestOptions {
  method?: string;
  query?: Query;
  body?: unknown;
}

const PAGE_SIZE = 200;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function toApiError(response: Response): Promise<ApiError> {
  const headerId = response.headers.get('X-Request-ID');
  let payload: unknown = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  const envelope = isRecord(payload) && isRecord(payload.error) ? payload.error : null;
  if (envelope) {
    return new ApiError(
      response.status,
      typeof envelope.code === 'string' ? envelope.code : `HTTP_${response.status}`,
      typeof envelope.message === 'string' ? envelope.message : response.statusText,
      isRecord(envelope.details) ? envelope.details : {},
      typeof envelope.request_id === 'string' ? envelope.request_id : headerId,
    );
  }
  return new ApiError(response.status, `HTTP_${response.status}`, response.statusText || 'Request failed', {}, headerId);
}

export function createApiClient(options: ClientOptions) {
  const doFetch = options.fetchImpl ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const base = options.baseUrl.replace(/\/+$/, '');

  function url(path: string, query?: Query): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) params.set(key, String(value));
    }
    const qs = params.toString();
    return `${base}${path}${qs ? `?${qs}` : ''}`;
  }

  async function send(path: string, { method = 'GET', query, body }: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = options.getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(url(path, query), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new ApiError(0, 'NETWORK_ERROR', `Cannot reach the API (${reason})`, {}, null);
    }
    if (!response.ok) {
      if (response.status === 401) options.onUnauthorized();
      throw await toApiError(response);
    }
    return response;
  }

  async function json<T>(path: string, opts?: RequestOptions): Promise<T> {
    const response = await send(path, opts);
    return (await response.json()) as T;
  }

  async function none(path: string, opts?: RequestOptions): Promise<void> {
    await send(path, opts);
  }

  /** Follows X-Next-Offset until the list ends. */
  async function all<T>(path: string, query: Query = {}): Promise<T[]> {
    const items: T[] = [];
    let offset: number | null = 0;
    while (offset !== null) {
      const response = await send(path, { query: { ...query, limit: PAGE_SIZE, offset } });
      items.push(...((await response.json()) as T[]));
      const next = response.headers.get('X-Next-Offset');
      offset = next === null ? null : Number(next);
    }
    return items;
  }

  return {
    listProjects: () => all<Project>('/projects'),
    getProject: (id: string) => json<ProjectDetail>(`/projects/${id}`),
    createProject: (body: { name: string; description?: string }) =>
      json<Project>('/projects', { method: 'POST', body }),
    updateProject: (id: string, body: { name?: string; description?: string }) =>
      json<Project>(`/projects/${id}`, { method: 'PUT', body }),
    deleteProject: (id: string) => none(`/projects/${id}`, { method: 'DELETE' }),

    /** JSON export: the snapshot itself, or a short-lived link when it is too large to send inline. */
    exportProject: async (id: string): Promise<{ kind: 'inline'; text: string } | { kind: 'link'; link: ExportLink }> => {
      const text = await (await send(`/projects/${id}/export`)).text();
      const parsed: unknown = JSON.parse(text);
      if (isRecord(parsed) && typeof parsed.download_url === 'string' && !('format_version' in parsed)) {
        return { kind: 'link', link: parsed as unknown as ExportLink };
      }
      return { kind: 'inline', text };
    },
    exportMarkdown: async (id: string): Promise<string> =>
      (await send(`/projects/${id}/export`, { query: { format: 'markdown' } })).text(),
    importProject: (snapshot: unknown) => json<ProjectDetail>('/projects/import', { method: 'POST', body: snapshot }),
    createImportUpload: () => json<ImportUpload>('/projects/import-uploads', { method: 'POST' }),
    /** PUT of a large export to the object-storage URL handed out by createImportUpload. */
    uploadImport: async (uploadUrl: string, text: string): Promise<void> => {
      const response = await doFetch(uploadUrl, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: text,
      });
      if (!response.ok) throw new ApiError(response.status, 'UPLOAD_FAILED', 'The upload was refused', {}, null);
    },

    listTopLevelTasks: (projectId: string) => all<Task>(`/projects/${projectId}/tasks`),
    getTaskTree: (id: string) => json<TaskTree>(`/tasks/${id}/tree`),
    getTask: (id: string) => json<Task>(`/tasks/${id}`),
    createTask: (projectId: string, body: NewTask) =>
      json<Task>(`/projects/${projectId}/tasks`, { method: 'POST', body }),
    createSubtask: (parentId: string, body: NewTask) =>
      json<Task>(`/tasks/${parentId}/subtasks`, { method: 'POST', body }),
    updateTask: (id: string, body: TaskUpdate) => json<Task>(`/tasks/${id}`, { method: 'PUT', body }),
    deleteTask: (id: string) => none(`/tasks/${id}`, { method: 'DELETE' }),
    setStatus: (id: string, status: TaskStatus) =>
      json<Task>(`/tasks/${id}/status`, { method: 'PATCH', body: { status } }),
    reorder: (id: string, position: number) =>
      json<Task>(`/tasks/${id}/reorder`, { method: 'PATCH', body: { position } }),
    forceReleaseLock: (taskId: string, callerLabel: string) =>
      none(`/tasks/${taskId}/lock`, { method: 'DELETE', query: { force: true, caller_label: callerLabel } }),
    flagRefinement: (id: string, body: { refinement_notes: string; author?: string }) =>
      json<Task>(`/tasks/${id}/flag-refinement`, { method: 'POST', body }),
    listWorkLog: (id: string) => all<WorkLogEntry>(`/tasks/${id}/work-log`),
    listCommits: (id: string) => all<Commit>(`/tasks/${id}/commits`),
    getContext: (id: string) => json<TaskContext>(`/tasks/${id}/context`),

    listLocks: (projectId?: string) => all<Lock>('/locks', { project_id: projectId }),
    listInProgress: (projectId: string) => all<Task>(`/projects/${projectId}/in-progress`),
    listAvailable: (operation: LockPurpose, projectId: string | null, limit: number) =>
      json<Task[]>('/tasks/available', { query: { operation, project_id: projectId, limit } }),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
