import type { DragEvent, KeyboardEvent } from 'react';
import { LockBadge, PointsBadge, ReadinessBadge, StatusBadge } from '../../components/Badges';
import { WaitingChip } from '../../components/WaitingChip';
import { TYPE_LABEL } from '../../domain/format';
import type { FlatRow } from '../../domain/tree';
import type { TaskLookup } from '../../domain/waiting';

export type DropState = 'none' | 'before' | 'after';

interface TreeRowProps {
  row: FlatRow;
  /** Its subtree is still on the way. */
  loadingChildren: boolean;
  canReorder: boolean;
  dropState: DropState;
  /** Names the blockers in the "waits for" chip. */
  lookup: TaskLookup;
  onToggle: (row: FlatRow) => void;
  onOpen: (taskId: string) => void;
  onAddSubtask: (row: FlatRow) => void;
  /** Keyboard alternative to dragging: move by one among siblings. */
  onMoveBy: (row: FlatRow, delta: -1 | 1) => void;
  /** Arrow keys on the name: focus the previous/next row. */
  onNavigate: (row: FlatRow, delta: -1 | 1) => void;
  onDragStart: (row: FlatRow, event: DragEvent) => void;
  onDragOver: (row: FlatRow, event: DragEvent) => void;
  onDrop: (row: FlatRow, event: DragEvent) => void;
  onDragEnd: () => void;
}

/** One task in the tree: toggle, drag handle, name (opens the detail), badges, add-subtask. */
export function TreeRow(props: TreeRowProps) {
  const { row, loadingChildren, canReorder, dropState, lookup, onToggle, onOpen, onAddSubtask, onMoveBy, onNavigate } = props;
  const { task } = row;

  const arrows = (action: (row: FlatRow, delta: -1 | 1) => void) => (event: KeyboardEvent) => {
    if (event.key === 'ArrowUp' || event.key === 'ArrowDown') {
      event.preventDefault();
      action(row, event.key === 'ArrowUp' ? -1 : 1);
    }
  };

  const dropLine =
    dropState === 'before' ? 'shadow-[inset_0_2px_0_0_#2563eb]' : dropState === 'after' ? 'shadow-[inset_0_-2px_0_0_#2563eb]' : '';

  return (
    <div
      role="listitem"
      data-testid="tree-row"
      data-task-id={task.id}
      draggable={canReorder}
      onDragStart={(e) => props.onDragStart(row, e)}
      onDragOver={(e) => props.onDragOver(row, e)}
      onDrop={(e) => props.onDrop(row, e)}
      onDragEnd={props.onDragEnd}
      className={`group flex h-9 items-center gap-1.5 border-b border-slate-100 pr-2 text-sm hover:bg-slate-50 ${dropLine} ${
        row.matches ? '' : 'opacity-50'
      }`}
      style={{ paddingLeft: `${row.level * 1.25 + 0.25}rem` }}
    >
      {row.hasChildren ? (
        <button
          type="button"
          className="w-5 shrink-0 rounded text-slate-500 hover:text-slate-900"
          aria-expanded={row.expanded}
          aria-label={`${row.expanded ? 'Collapse' : 'Expand'} ${task.name}`}
          onClick={() => onToggle(row)}
        >
          <span aria-hidden>{row.expanded ? '▾' : '▸'}</span>
        </button>
      ) : loadingChildren ? (
        <span className="flex w-5 shrink-0 justify-center" role="status" aria-label={`Loading subtasks of ${task.name}`}>
          <span className="h-3 w-3 animate-spin rounded-full border-2 border-slate-300 border-t-blue-600" />
        </span>
      ) : (
        <span className="w-5 shrink-0" aria-hidden />
      )}
      <button
        type="button"
        className="shrink-0 cursor-grab rounded px-0.5 text-slate-400 hover:text-slate-700 disabled:cursor-not-allowed disabled:opacity-30"
        aria-label={`Reorder ${task.name} (position ${row.siblingIndex + 1} of ${row.siblingCount}); use the up and down arrow keys`}
        title={canReorder ? 'Drag, or focus and press ↑/↓, to reorder' : 'Clear the filter to reorder'}
        disabled={!canReorder}
        onKeyDown={arrows(onMoveBy)}
        data-handle-for={task.id}
      >
        <span aria-hidden>⠿</span>
      </button>
      <button
        type="button"
        className="min-w-0 flex-1 truncate rounded text-left hover:underline"
        onClick={() => onOpen(task.id)}
        onKeyDown={arrows(onNavigate)}
        title={task.name}
        data-testid="tree-row-name"
      >
        {task.name}
      </button>
      <span className="hidden text-xs text-slate-500 md:inline">{TYPE_LABEL[task.task_type]}</span>
      <StatusBadge status={task.status} />
      <ReadinessBadge readiness={task.readiness} />
      <WaitingChip task={task} lookup={lookup} />
      <PointsBadge points={task.effective_points} />
      {task.lock && <LockBadge lock={task.lock} />}
      <button
        type="button"
        className="shrink-0 rounded px-1 text-xs text-blue-700 opacity-60 group-hover:opacity-100 hover:underline focus-visible:opacity-100"
        onClick={() => onAddSubtask(row)}
        aria-label={`Add subtask to ${task.name}`}
      >
        + Subtask
      </button>
    </div>
  );
}
