import type { Readiness, Task, TaskStatus, TaskTree } from '../api/types';

export interface TreeFilter {
  text: string;
  status: TaskStatus | '';
  readiness: Readiness | '';
}

export const EMPTY_FILTER: TreeFilter = { text: '', status: '', readiness: '' };

export function isFilterActive(filter: TreeFilter): boolean {
  return filter.text.trim() !== '' || filter.status !== '' || filter.readiness !== '';
}

export interface FlatRow {
  task: TaskTree;
  /** 0 for top-level tasks. */
  level: number;
  rootId: string;
  hasChildren: boolean;
  expanded: boolean;
  /** False for an ancestor shown only to give context to a filtered match. */
  matches: boolean;
  /** Index among all siblings (what PATCH /reorder calls position). */
  siblingIndex: number;
  siblingCount: number;
}

function matchesFilter(task: Task, filter: TreeFilter, needle: string): boolean {
  if (filter.status && task.status !== filter.status) return false;
  if (filter.readiness && task.readiness !== filter.readiness) return false;
  if (needle && !task.name.toLowerCase().includes(needle)) return false;
  return true;
}

/**
 * The rows to draw, in tree order. Collapsed tasks hide their descendants. While a filter is
 * active, a task is shown when it or a descendant matches, and paths to matches stay open.
 */
export function flattenTree(roots: readonly TaskTree[], collapsed: ReadonlySet<string>, filter: TreeFilter): FlatRow[] {
  const rows: FlatRow[] = [];
  const filtering = isFilterActive(filter);
  const needle = filter.text.trim().toLowerCase();

  // Returns whether this subtree produced any row (only meaningful while filtering).
  const visit = (task: TaskTree, level: number, rootId: string, siblingIndex: number, siblingCount: number): boolean => {
    const self = matchesFilter(task, filter, needle);
    const hasChildren = task.children.length > 0;
    const expanded = filtering || !collapsed.has(task.id);
    const at = rows.length;
    rows.push({ task, level, rootId, hasChildren, expanded, matches: self, siblingIndex, siblingCount });
    let childShown = false;
    if (hasChildren && expanded) {
      task.children.forEach((child, i) => {
        if (visit(child, level + 1, rootId, i, task.children.length)) childShown = true;
      });
    }
    if (filtering && !self && !childShown) {
      rows.length = at;
      return false;
    }
    return true;
  };

  roots.forEach((root, i) => visit(root, 0, root.id, i, roots.length));
  return rows;
}

export interface IndexedTask {
  task: TaskTree;
  rootId: string;
}

/** Every task of the project by id, with the top-level task whose tree holds it. */
export function indexTrees(roots: readonly TaskTree[]): Map<string, IndexedTask> {
  const index = new Map<string, IndexedTask>();
  const walk = (task: TaskTree, rootId: string) => {
    index.set(task.id, { task, rootId });
    task.children.forEach((child) => walk(child, rootId));
  };
  roots.forEach((root) => walk(root, root.id));
  return index;
}

/** Moves the item at `from` to index `to` (the final index), returning a new array. */
export function moveItem<T>(items: readonly T[], from: number, to: number): T[] {
  const next = items.slice();
  const [item] = next.splice(from, 1);
  if (item === undefined) return next;
  next.splice(Math.max(0, Math.min(to, next.length)), 0, item);
  return next;
}

/** Returns a copy of `tree` where the children of `parentId` have `taskId` moved to index `to`. */
export function moveChild(tree: TaskTree, parentId: string, taskId: string, to: number): TaskTree {
  if (tree.id === parentId) {
    const from = tree.children.findIndex((c) => c.id === taskId);
    if (from < 0) return tree;
    return { ...tree, children: moveItem(tree.children, from, to) };
  }
  let changed = false;
  const children = tree.children.map((child) => {
    const next = moveChild(child, parentId, taskId, to);
    if (next !== child) changed = true;
    return next;
  });
  return changed ? { ...tree, children } : tree;
}
