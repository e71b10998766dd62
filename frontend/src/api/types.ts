// Resource shapes from SPEC §2. Only what the UI reads or sends is typed precisely.

export type TaskType = 'feature' | 'bug' | 'tech_debt';
export type TaskStatus = 'todo' | 'doing' | 'done' | 'wont_do';
export type Readiness =
  | 'needs_refinement'
  | 'blocked_by_children'
  | 'needs_sizing'
  | 'needs_breakdown'
  | 'blocked_by_dependencies'
  | 'ready';
export type LockPurpose = 'sizing' | 'breakdown' | 'refinement' | 'implementation';
export type WorkLogOperation = LockPurpose | 'note';

export const TASK_TYPES: readonly TaskType[] = ['feature', 'bug', 'tech_debt'];
export const STATUSES: readonly TaskStatus[] = ['todo', 'doing', 'done', 'wont_do'];
export const READINESS: readonly Readiness[] = [
  'needs_refinement',
  'blocked_by_children',
  'needs_sizing',
  'needs_breakdown',
  'blocked_by_dependencies',
  'ready',
];
export const OPERATIONS: readonly LockPurpose[] = ['sizing', 'breakdown', 'refinement', 'implementation'];

export const DIMENSIONS = [
  'scope_clarity',
  'decision_points',
  'context_window_demand',
  'verification_complexity',
  'domain_specificity',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface Project {
  id: string;
  name: string;
  description: string | null;
  created_at: string;
  updated_at: string;
}

export interface ProjectDetail extends Project {
  task_count: number;
  points_total: number;
  points_completed: number;
  status_counts: Record<TaskStatus, number>;
  readiness_counts: Record<Readiness, number>;
  active_locks: number;
}

export interface Lock {
  task_id: string;
  caller_label: string;
  lock_purpose: LockPurpose;
  acquired_at: string;
  last_heartbeat_at: string;
  expires_at: string;
  fencing_token: number;
  ttl_seconds: number;
}

export interface DimensionScore {
  score: number;
  reasoning: string;
}

export type PointsBreakdown = Record<Dimension, DimensionScore> & {
  total: number;
  confidence: number;
  risk_factors: string[] | null;
  breakdown_suggestions: string | null;
  scored_by: string | null;
  scored_at: string | null;
};

export interface Task {
  id: string;
  project_id: string;
  parent_task_id: string | null;
  name: string;
  description: string | null;
  context: string | null;
  task_type: TaskType;
  status: TaskStatus;
  priority: number;
  points: number | null;
  points_breakdown: PointsBreakdown | null;
  sizing_confidence: number | null;
  needs_refinement: boolean;
  refinement_notes: string | null;
  context_captured_at: string | null;
  content_changed_at: string | null;
  position: number;
  depth: number;
  created_at: string;
  updated_at: string;
  effective_points: number | null;
  rolled_up_points: number | null;
  unsized_children: number;
  children_count: number;
  readiness: Readiness;
  is_locked: boolean;
  lock: Lock | null;
  /** Ids of the tasks this one waits for (SPEC §12), oldest edge first. */
  blocked_by: string[];
  /** How many of `blocked_by` are still open (todo/doing). */
  open_blockers: number;
  /** True when this task or an ancestor has an open blocker. */
  waiting: boolean;
}

export interface TaskTree extends Task {
  children: TaskTree[];
}

export interface WorkLogEntry {
  id: string;
  task_id: string;
  author: string;
  operation: WorkLogOperation;
  content: string;
  created_at: string;
}

export interface Commit {
  id: string;
  task_id: string;
  author: string;
  commit_hash: string;
  message: string | null;
  committed_at: string;
}

export interface TaskContext {
  context_captured_at: string | null;
  context_freshness: 'fresh' | 'stale';
  stale_reasons: string[];
}

export interface NewTask {
  name: string;
  task_type: TaskType;
  description?: string;
  context?: string;
  priority?: number;
  points?: number;
  position?: number;
}

export interface TaskUpdate {
  name?: string;
  description?: string | null;
  context?: string | null;
  task_type?: TaskType;
  priority?: number;
  points?: number | null;
}

/** A large export is answered with a short-lived link instead of the body (SPEC §7). */
export interface ExportLink {
  download_url: string;
  expires_at: string;
  size_bytes: number;
}

export interface ImportUpload {
  upload_id: string;
  upload_url: string;
  expires_at: string;
}

/** An edge: `task_id` waits for `blocker_id` (SPEC §12). */
export interface Dependency {
  task_id: string;
  blocker_id: string;
  created_at: string;
  author: string;
}

export interface Dependencies {
  blocked_by: Task[];
  blocking: Task[];
}

export type JobKind = 'import' | 'cancel' | 'delete' | 'propagate';
export type JobStatus = 'running' | 'succeeded' | 'failed';

/** Work that outlives a request (SPEC §13): answered 202, polled at GET /jobs/{id}. */
export interface Job {
  id: string;
  kind: JobKind;
  status: JobStatus;
  created_at: string;
  updated_at: string;
  progress: { done: number; total: number };
  result: { project_id?: string; task_id?: string } | null;
  error: { code: string; message: string; details: Record<string, unknown> } | null;
}

/** A write that either finished (200/201/204) or goes on as a Job (202). */
export type Accepted<T> = { kind: 'done'; value: T } | { kind: 'job'; job: Job };

export const EVENT_KINDS = [
  'task_created',
  'task_updated',
  'task_deleted',
  'status_changed',
  'sized',
  'broken_down',
  'refined',
  'completed',
  'flagged',
  'note',
  'lock_acquired',
  'lock_released',
  'lock_forced',
  'lock_expired',
  'dependency_added',
  'dependency_removed',
  'commit_recorded',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** One change in a project's activity feed (SPEC §14). */
export interface ActivityEvent {
  id: string;
  project_id: string;
  task_id: string;
  task_name: string;
  kind: EventKind;
  actor: string;
  at: string;
  summary: string;
  details: Record<string, unknown>;
}

export interface ActivityFilter {
  actor: string;
  kinds: readonly EventKind[];
  taskId: string;
}

/** The project's counters at the end of one UTC day (today: now). */
export interface HistoryPoint {
  date: string;
  points_total: number;
  points_completed: number;
  tasks_total: number;
  tasks_done: number;
  events: number;
}

/** One actor of GET /projects/{id}/agents (an extension of the API, docs/decisions.md). */
export interface Agent {
  actor: string;
  last_seen_at: string | null;
  events: number;
  operations: number;
  locks_expired: number;
  live_locks: Lock[];
}
