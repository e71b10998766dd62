import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCreateTask, useReorder } from '../../api/mutations';
import { useProjectTree } from '../../api/queries';
import type { TaskType } from '../../api/types';
import { Empty, LoadFailed, Loading } from '../../components/Status';
import { EMPTY_FILTER, flattenTree, isFilterActive, type FlatRow, type TreeFilter } from '../../domain/tree';
import { useProjectId, useTaskParam } from '../useTaskParam';
import { AddTaskForm } from './AddTaskForm';
import { TreeFilters } from './TreeFilters';
import { TreeRow, type DropState } from './TreeRow';

type Item = { kind: 'task'; row: FlatRow } | { kind: 'add'; parent: FlatRow };

const ROW_HEIGHT = 36;

/** The project's task tree: virtualized, filterable, reorderable by drag or keyboard. */
export default function TreeView() {
  const projectId = useProjectId();
  const { roots, index, isPending, loadingRoots, error, retry } = useProjectTree(projectId);
  const lookup = useCallback((id: string) => index.get(id)?.task, [index]);
  const { open } = useTaskParam();
  const createTask = useCreateTask(projectId);
  const reorder = useReorder(projectId);

  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set());
  // Flattening 2000 tasks takes about a millisecond: the filter applies on every keystroke.
  const [filter, setFilter] = useState<TreeFilter>(EMPTY_FILTER);
  const [addingUnder, setAddingUnder] = useState<string | null>(null);
  const [dragged, setDragged] = useState<FlatRow | null>(null);
  const [dropTarget, setDropTarget] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState('');
  // A control to focus once its row is rendered (rows outside the viewport are not in the DOM),
  // and for a moved row, kept until the row is at its new place (moving a node drops its focus).
  const pendingFocus = useRef<{ selector: string; taskId?: string; siblingIndex?: number } | null>(null);
  const canReorder = !isFilterActive(filter);

  const rows = useMemo(() => flattenTree(roots, collapsed, filter), [roots, collapsed, filter]);
  const items = useMemo<Item[]>(() => {
    const list: Item[] = [];
    for (const row of rows) {
      list.push({ kind: 'task', row });
      if (row.task.id === addingUnder) list.push({ kind: 'add', parent: row });
    }
    return list;
  }, [rows, addingUnder]);

  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scroller.current,
    estimateSize: (i) => (items[i]?.kind === 'add' ? 48 : ROW_HEIGHT),
    getItemKey: (i) => {
      const item = items[i];
      return item?.kind === 'task' ? item.row.task.id : `add-${item?.parent.task.id ?? i}`;
    },
    overscan: 12,
  });

  useEffect(() => {
    const want = pendingFocus.current;
    const target = want && document.querySelector<HTMLElement>(want.selector);
    if (!want || !target) return;
    if (document.activeElement !== target) target.focus();
    if (want.siblingIndex === undefined || rows.find((r) => r.task.id === want.taskId)?.siblingIndex === want.siblingIndex) {
      pendingFocus.current = null;
    }
  });

  const toggle = useCallback((row: FlatRow) => {
    setCollapsed((current) => {
      const next = new Set(current);
      if (next.has(row.task.id)) next.delete(row.task.id);
      else next.add(row.task.id);
      return next;
    });
  }, []);

  const moveTo = (row: FlatRow, position: number) => {
    if (position < 0 || position >= row.siblingCount || position === row.siblingIndex) return;
    reorder.mutate({ task: row.task, rootId: row.rootId, position });
    setAnnouncement(`Moved ${row.task.name} to position ${position + 1} of ${row.siblingCount}`);
  };

  // Keyboard reorder: the handle keeps the focus while its row moves.
  const moveBy = (row: FlatRow, delta: -1 | 1) => {
    const position = row.siblingIndex + delta;
    if (position < 0 || position >= row.siblingCount) return;
    pendingFocus.current = { selector: `[data-handle-for="${row.task.id}"]`, taskId: row.task.id, siblingIndex: position };
    moveTo(row, position);
  };

  // ↑/↓ on a task name goes to the previous/next row, scrolling it into the rendered window.
  const navigate = (row: FlatRow, delta: -1 | 1) => {
    const at = rows.indexOf(row) + delta;
    const target = rows[at];
    if (!target) return;
    virtualizer.scrollToIndex(items.findIndex((item) => item.kind === 'task' && item.row === target));
    const selector = `[data-task-id="${target.task.id}"] [data-testid="tree-row-name"]`;
    pendingFocus.current = { selector };
    document.querySelector<HTMLElement>(selector)?.focus();
  };

  const isSibling = (a: FlatRow, b: FlatRow) => a.task.parent_task_id === b.task.parent_task_id && a.task.id !== b.task.id;

  const onDragStart = (row: FlatRow, event: DragEvent) => {
    event.dataTransfer.effectAllowed = 'move';
    event.dataTransfer.setData('text/plain', row.task.id);
    setDragged(row);
  };
  const onDragOver = (row: FlatRow, event: DragEvent) => {
    if (!dragged || !isSibling(dragged, row)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'move';
    if (dropTarget !== row.task.id) setDropTarget(row.task.id);
  };
  const onDrop = (row: FlatRow, event: DragEvent) => {
    event.preventDefault();
    if (dragged && isSibling(dragged, row)) moveTo(dragged, row.siblingIndex);
    setDragged(null);
    setDropTarget(null);
  };
  const onDragEnd = () => {
    setDragged(null);
    setDropTarget(null);
  };
  const dropStateOf = (row: FlatRow): DropState => {
    if (!dragged || dropTarget !== row.task.id) return 'none';
    return dragged.siblingIndex < row.siblingIndex ? 'after' : 'before';
  };

  const addTask = (parent: FlatRow | null) => (name: string, taskType: TaskType) =>
    createTask.mutateAsync({
      parentId: parent?.task.id ?? null,
      body: { name, task_type: taskType },
    });

  const startAdding = (row: FlatRow) => {
    setAddingUnder(row.task.id);
    setCollapsed((current) => {
      if (!current.has(row.task.id)) return current;
      const next = new Set(current);
      next.delete(row.task.id);
      return next;
    });
  };

  const allParents = () => new Set(rows.filter((r) => r.hasChildren).map((r) => r.task.id));

  return (
    <section className="flex h-full min-h-0 flex-col gap-3" aria-label="Task tree">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <TreeFilters filter={filter} onChange={setFilter} />
        <div className="flex gap-2">
          <button type="button" className="btn" onClick={() => setCollapsed(new Set())}>
            Expand all
          </button>
          <button type="button" className="btn" onClick={() => setCollapsed(allParents())}>
            Collapse all
          </button>
        </div>
      </div>
      <AddTaskForm parentName={null} onSubmit={addTask(null)} />
      <p className="sr-only" aria-live="polite">
        {announcement}
      </p>
      {isPending ? (
        <Loading label="Loading tasks…" />
      ) : error && roots.length === 0 ? (
        <LoadFailed what="the task tree" onRetry={() => void retry()} />
      ) : roots.length === 0 ? (
        <Empty>No tasks yet. Add the first one above.</Empty>
      ) : items.length === 0 ? (
        <Empty>No task matches the filter.</Empty>
      ) : (
        <div
          ref={scroller}
          className="min-h-0 flex-1 overflow-auto rounded-md border border-slate-200 bg-white"
          data-testid="tree-scroller"
          data-row-count={rows.length}
          data-loading={loadingRoots.size > 0}
          aria-busy={loadingRoots.size > 0}
        >
          <div role="list" aria-label="Tasks" style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {virtualizer.getVirtualItems().map((v) => {
              const item = items[v.index];
              if (!item) return null;
              return (
                <div
                  key={v.key}
                  data-index={v.index}
                  ref={virtualizer.measureElement}
                  style={{ position: 'absolute', top: 0, left: 0, width: '100%', transform: `translateY(${v.start}px)` }}
                >
                  {item.kind === 'task' ? (
                    <TreeRow
                      row={item.row}
                      loadingChildren={loadingRoots.has(item.row.task.id)}
                      canReorder={canReorder}
                      dropState={dropStateOf(item.row)}
                      lookup={lookup}
                      onToggle={toggle}
                      onOpen={open}
                      onAddSubtask={startAdding}
                      onMoveBy={moveBy}
                      onNavigate={navigate}
                      onDragStart={onDragStart}
                      onDragOver={onDragOver}
                      onDrop={onDrop}
                      onDragEnd={onDragEnd}
                    />
                  ) : (
                    <div role="listitem" className="border-b border-slate-100 bg-blue-50/50 py-1.5 pr-2" style={{ paddingLeft: `${(item.parent.level + 1) * 1.25 + 1.75}rem` }}>
                      <AddTaskForm
                        parentName={item.parent.task.name}
                        onSubmit={addTask(item.parent)}
                        onCancel={() => setAddingUnder(null)}
                      />
                    </div>
                  )}
                </div>
              );
            })}
          </div>
        </div>
      )}
    </section>
  );
}
