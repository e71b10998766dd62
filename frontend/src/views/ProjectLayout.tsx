import { lazy, Suspense } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router';
import { Loading } from '../components/Status';
import { ProjectHeader } from './ProjectHeader';
import { useProjectId, useTaskParam } from './useTaskParam';

const TaskDetailPanel = lazy(() => import('./detail/TaskDetailPanel'));

const TABS = [
  { to: '', label: 'Tree' },
  { to: 'kanban', label: 'Kanban' },
  { to: 'locks', label: 'Lock monitor' },
  { to: 'queues', label: 'Queues' },
  { to: 'activity', label: 'Activity' },
  { to: 'agents', label: 'Agents' },
] as const;

/** A project's header and tabs; the task slide-out opens over any tab. */
export function ProjectLayout() {
  const projectId = useProjectId();
  const { taskId, close } = useTaskParam();
  // Tabs keep ?task= so the open task stays open.
  const { search } = useLocation();
  return (
    <div className="flex h-full min-h-0 flex-col">
      <ProjectHeader projectId={projectId} />
      <nav aria-label="Project views" className="flex gap-1 border-b border-slate-200 bg-white px-6">
        {TABS.map((tab) => (
          <NavLink
            key={tab.label}
            to={{ pathname: tab.to === '' ? `/projects/${projectId}` : `/projects/${projectId}/${tab.to}`, search }}
            end
            className={({ isActive }) =>
              `-mb-px border-b-2 px-3 py-2 text-sm font-medium ${
                isActive ? 'border-blue-600 text-blue-700' : 'border-transparent text-slate-600 hover:text-slate-900'
              }`
            }
          >
            {tab.label}
          </NavLink>
        ))}
      </nav>
      <main className="min-h-0 flex-1 overflow-hidden p-4 px-6">
        <Suspense fallback={<Loading label="Loading view…" />}>
          <Outlet />
        </Suspense>
      </main>
      {taskId && (
        <Suspense fallback={null}>
          <TaskDetailPanel key={taskId} projectId={projectId} taskId={taskId} onClose={close} />
        </Suspense>
      )}
    </div>
  );
}
