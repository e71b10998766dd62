// The one module that talks to the Chorus API. Every endpoint the UI uses is a typed method here.
import type {
  Accepted,
  ActivityEvent,
  ActivityFilter,
  Agent,
  Commit,
  Dependencies,
  Dependency,
  HistoryPoint,
  Job,
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

type Query = Record<string, string | number | boolean | readonly string[] | undefined | null>;

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
      if (value === undefined || value === null) continue;
      // A list is a repeated parameter (?kind=a&kind=b).
      if (Array.isArray(value)) value.forEach((item: string) => params.append(key, item));
      else params.set(key, String(value));
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

  /** A 202 carries a Job (SPEC §13); any other success is the finished write. */
  async function accepted<T>(path: string, opts: RequestOptions, read: (response: Response) => Promise<T>): Promise<Accepted<T>> {
    const response = await send(path, opts);
    if (response.status === 202) return { kind: 'job', job: (await response.json()) as Job };
    return { kind: 'done', value: await read(response) };
  }

  /** One page of a list: its items and the offset of the next page (X-Next-Offset), or null at the end. */
  async function page<T>(path: string, query: Query): Promise<{ items: T[]; next: number | null }> {
    const response = await send(path, { query });
    const next = response.headers.get('X-Next-Offset');
    return { items: (await response.json()) as T[], next: next === null ? null : Number(next) };
  }

  const activityQuery = (filter: Partial<ActivityFilter>): Query => ({
    actor: filter.actor || undefined,
    kind: filter.kinds && filter.kinds.length > 0 ? filter.kinds : undefined,
    task_id: filter.taskId || undefined,
  });

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
    /** Inline imports answer 201 with the project; an import through an upload answers 202 with a Job. */
    importProject: (snapshot: unknown) =>
      accepted('/projects/import', { method: 'POST', body: snapshot }, (r) => r.json() as Promise<ProjectDetail>),
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
    /** 204, or 202 with a Job when the subtree has more than 2 000 tasks. */
    deleteTask: (id: string) => accepted(`/tasks/${id}`, { method: 'DELETE' }, async () => undefined),
    /** 200 with the task, or 202 with a Job when a cancel reaches more than 2 000 tasks. */
    setStatus: (id: string, status: TaskStatus) =>
      accepted(`/tasks/${id}/status`, { method: 'PATCH', body: { status } }, (r) => r.json() as Promise<Task>),
    reorder: (id: string, position: number) =>
      json<Task>(`/tasks/${id}/reorder`, { method: 'PATCH', body: { position } }),
    forceReleaseLock: (taskId: string, callerLabel: string) =>
      none(`/tasks/${taskId}/lock`, { method: 'DELETE', query: { force: true, caller_label: callerLabel } }),
    flagRefinement: (id: string, body: { refinement_notes: string; author?: string }) =>
      json<Task>(`/tasks/${id}/flag-refinement`, { method: 'POST', body }),
    listWorkLog: (id: string) => all<WorkLogEntry>(`/tasks/${id}/work-log`),
    listCommits: (id: string) => all<Commit>(`/tasks/${id}/commits`),
    getContext: (id: string) => json<TaskContext>(`/tasks/${id}/context`),

    listDependencies: (id: string) => json<Dependencies>(`/tasks/${id}/dependencies`),
    addDependency: (id: string, blockerId: string, author: string) =>
      json<Dependency>(`/tasks/${id}/dependencies`, { method: 'POST', body: { blocker_id: blockerId, author } }),
    removeDependency: (id: string, blockerId: string, author: string) =>
      none(`/tasks/${id}/dependencies/${blockerId}`, { method: 'DELETE', query: { author } }),

    getJob: (id: string) => json<Job>(`/jobs/${id}`),

    /** One page of the feed, newest first; offsets count from the newest event at the time of the request. */
    listActivity: (projectId: string, filter: Partial<ActivityFilter>, offset: number, limit: number) =>
      page<ActivityEvent>(`/projects/${projectId}/activity`, { ...activityQuery(filter), offset, limit }),
    /** The events at or after `since` (inclusive), newest first: up to `max`, and whether more were left. */
    listActivitySince: async (projectId: string, filter: Partial<ActivityFilter>, since: string, max: number) => {
      const items: ActivityEvent[] = [];
      let offset: number | null = 0;
      while (offset !== null && items.length < max) {
        const result: { items: ActivityEvent[]; next: number | null } = await page<ActivityEvent>(`/projects/${projectId}/activity`, {
          ...activityQuery(filter),
          since,
          offset,
          limit: PAGE_SIZE,
        });
        items.push(...result.items);
        offset = result.next;
      }
      return { items, more: offset !== null };
    },
    getHistory: (projectId: string, days: number) => json<HistoryPoint[]>(`/projects/${projectId}/history`, { query: { days } }),
    listAgents: (projectId: string, hours: number) => json<Agent[]>(`/projects/${projectId}/agents`, { query: { hours } }),

    listLocks: (projectId?: string) => all<Lock>('/locks', { project_id: projectId }),
    listInProgress: (projectId: string) => all<Task>(`/projects/${projectId}/in-progress`),
    listAvailable: (operation: LockPurpose, projectId: string | null, limit: number) =>
      json<Task[]>('/tasks/available', { query: { operation, project_id: projectId, limit } }),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
