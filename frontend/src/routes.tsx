import { lazy } from 'react';
import type { RouteObject } from 'react-router';
import { AppShell } from './AppShell';
import { ProjectLayout } from './views/ProjectLayout';
// The tree is the primary view: bundled in, so its data starts loading without waiting for a chunk.
import TreeView from './views/tree/TreeView';

const ProjectsView = lazy(() => import('./views/projects/ProjectsView'));
const KanbanView = lazy(() => import('./views/kanban/KanbanView'));
const LockMonitorView = lazy(() => import('./views/locks/LockMonitorView'));
const QueuesView = lazy(() => import('./views/queues/QueuesView'));
const ActivityView = lazy(() => import('./views/activity/ActivityView'));
const AgentsView = lazy(() => import('./views/agents/AgentsView'));

function NotFound() {
  return <p className="p-6 text-sm">Nothing here. Go back to the projects.</p>;
}

export const routes: RouteObject[] = [
  {
    element: <AppShell />,
    children: [
      { index: true, element: <ProjectsView /> },
      {
        path: 'projects/:projectId',
        element: <ProjectLayout />,
        children: [
          { index: true, element: <TreeView /> },
          { path: 'kanban', element: <KanbanView /> },
          { path: 'locks', element: <LockMonitorView /> },
          { path: 'queues', element: <QueuesView /> },
          { path: 'activity', element: <ActivityView /> },
          { path: 'agents', element: <AgentsView /> },
        ],
      },
      { path: '*', element: <NotFound /> },
    ],
  },
];
