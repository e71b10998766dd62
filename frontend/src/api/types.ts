// Resource shapes from SPEC §2. Only what the UI reads or sends is typed precisely.

export type TaskType = 'feature' | 'bug' | 'tech_debt';
export type TaskStatus = 'todo' | 'doing' | 'done' | 'wont_do';
export type Readiness =
  | 'needs_refinement'
  | 'blocked_by_children'
  | 'needs_sizing'
  | 'needs_breakdown'
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
