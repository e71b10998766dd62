import { useCallback, useMemo, useState, type DragEvent } from 'react';
import { useSetStatus } from '../../api/mutations';
import { useProjectTree } from '../../api/queries';
import { STATUSES, type TaskStatus, type TaskTree } from '../../api/types';
import { Empty, LoadFailed, Loading } from '../../components/Status';
import { STATUS_LABEL } from '../../domain/format';
import { useProjectId, useTaskParam } from '../useTaskParam';
import { KanbanCard } from './KanbanCard';

const PAGE = 100;

function isLeaf(task: TaskTree): boolean {
  return task.children.every((child) => child.status === 'wont_do');
}

/** Four status columns. Dropping a card asks the API for the move; a refusal shows the API's reason. */
export default function KanbanView() {
  const projectId = useProjectId();
  const { index, isPending, loadingRoots, error, retry } = useProjectTree(projectId);
  const { open } = useTaskParam();
  const lookup = useCallback((id: string) => index.get(id)?.task, [index]);
  const setStatus = useSetStatus(projectId);
  const [leavesOnly, setLeavesOnly] = useState(true);
  const [text, setText] = useState('');
  const [shown, setShown] = useState<Record<TaskStatus, number>>({ todo: PAGE, doing: PAGE, done: PAGE, wont_do: PAGE });
  const [dragged, setDragged] = useState<TaskTree | null>(null);
  const [over, setOver] = useState<TaskStatus | null>(null);

  const columns = useMemo(() => {
    const needle = text.trim().toLowerCase();
    const byStatus: Record<TaskStatus, TaskTree[]> = { todo: [], doing: [], done: [], wont_do: [] };
    for (const { task } of index.values()) {
      if (leavesOnly && !isLeaf(task)) continue;
      if (needle && !task.name.toLowerCase().includes(needle)) continue;
      byStatus[task.status].push(task);
    }
    return byStatus;
  }, [index, leavesOnly, text]);

  const move = (task: TaskTree, status: TaskStatus) => {
    if (task.status !== status) setStatus.mutate({ taskId: task.id, status, name: task.name });
  };
  const onDragStart = (task: TaskTree, event: DragEvent) => {
    event.dataTransfer.effectAllowed = 'move';
    event.dataTransfer.setData('text/plain', task.id);
    setDragged(task);
  };
  const endDrag = () => {
    setDragged(null);
    setOver(null);
  };

  // Cards would jump between columns while subtrees arrive: wait for all of them.
  if (isPending || loadingRoots.size > 0) return <Loading label="Loading board…" />;
  if (error && index.size === 0) return <LoadFailed what="the board" onRetry={() => void retry()} />;

  return (
    <section className="flex h-full min-h-0 flex-col gap-3" aria-label="Kanban board">
      <div className="flex flex-wrap items-end gap-4">
        <label className="flex flex-col text-xs font-medium text-slate-600">
          Filter by name
          <input type="search" className="field w-56" value={text} onChange={(e) => setText(e.target.value)} placeholder="Search tasks" />
        </label>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={leavesOnly} onChange={(e) => setLeavesOnly(e.target.checked)} />
          Leaf tasks only
        </label>
      </div>
      {index.size === 0 ? (
        <Empty>No tasks yet. Add some in the tree.</Empty>
      ) : (
        <div className="grid min-h-0 flex-1 grid-cols-4 gap-3">
          {STATUSES.map((status) => {
            const cards = columns[status];
            return (
              <div
                key={status}
                className={`flex min-h-0 flex-col rounded-lg border bg-slate-100 ${over === status ? 'border-blue-500 ring-2 ring-blue-300' : 'border-slate-200'}`}
                onDragOver={(e) => {
                  if (!dragged) return;
                  e.preventDefault();
                  if (over !== status) setOver(status);
                }}
                onDragLeave={(e) => {
                  if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(null);
                }}
                onDrop={(e) => {
                  e.preventDefault();
                  if (dragged) move(dragged, status);
                  endDrag();
                }}
                data-testid={`kanban-column-${status}`}
              >
                <h2 className="flex items-center justify-between px-3 py-2 text-sm font-semibold">
                  {STATUS_LABEL[status]} <span className="rounded bg-white px-1.5 text-xs text-slate-600">{cards.length}</span>
                </h2>
                <ul className="flex min-h-24 flex-1 flex-col gap-2 overflow-y-auto px-2 pb-2" aria-label={`${STATUS_LABEL[status]} tasks`}>
                  {cards.length === 0 && <li className="p-3 text-center text-xs text-slate-500">No tasks</li>}
                  {cards.slice(0, shown[status]).map((task) => (
                    <KanbanCard
                      key={task.id}
                      task={task}
                      parentName={task.parent_task_id ? (index.get(task.parent_task_id)?.task.name ?? null) : null}
                      lookup={lookup}
                      onOpen={open}
                      onMove={move}
                      onDragStart={onDragStart}
                      onDragEnd={endDrag}
                    />
                  ))}
                  {cards.length > shown[status] && (
                    <li>
                      <button type="button" className="btn w-full justify-center" onClick={() => setShown((s) => ({ ...s, [status]: s[status] + PAGE }))}>
                        Show {Math.min(PAGE, cards.length - shown[status])} more
                      </button>
                    </li>
                  )}
                </ul>
              </div>
            );
          })}
        </div>
      )}
    </section>
  );
}
