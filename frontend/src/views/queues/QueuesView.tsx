import { useState } from 'react';
import { useNavigate } from 'react-router';
import { OPERATIONS } from '../../api/types';
import { useProjectId, useTaskParam } from '../useTaskParam';
import { QueueColumn } from './QueueColumn';

/** What agents get next from GET /tasks/available, for each operation. */
export default function QueuesView() {
  const projectId = useProjectId();
  const { open } = useTaskParam();
  const navigate = useNavigate();
  const [allProjects, setAllProjects] = useState(false);

  const openTask = (taskId: string, taskProject: string) => {
    if (taskProject === projectId) open(taskId);
    else void navigate(`/projects/${taskProject}/queues?task=${taskId}`);
  };

  return (
    <div className="flex h-full min-h-0 flex-col gap-3">
      <div className="flex items-center gap-4">
        <p className="text-sm text-slate-600">Unlocked tasks in the order agents are offered them. Refreshes every 10 s.</p>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={allProjects} onChange={(e) => setAllProjects(e.target.checked)} />
          All projects
        </label>
      </div>
      <div className="grid min-h-0 flex-1 grid-cols-4 gap-3">
        {OPERATIONS.map((operation) => (
          <QueueColumn key={operation} operation={operation} projectId={allProjects ? null : projectId} onOpen={openTask} />
        ))}
      </div>
    </div>
  );
}
