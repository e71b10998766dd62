import { useEffect } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { AGENT_HOURS, AGENTS_REFRESH_MS, keys, useAgents } from '../../api/queries';
import { Empty, LoadFailed, Loading } from '../../components/Status';
import { useProjectId } from '../useTaskParam';
import { AgentRow } from './AgentRow';

/** Who worked on the project in the last 24 h, or holds a lock in it now (GET /projects/{id}/agents). */
export default function AgentsView() {
  const projectId = useProjectId();
  const agents = useAgents(projectId, { poll: true });
  const queryClient = useQueryClient();
  // A new answer (the same one keeps its reference): the header's lock count follows it.
  useEffect(() => {
    if (agents.data) void queryClient.invalidateQueries({ queryKey: keys.projectDetail(projectId) });
  }, [agents.data, queryClient, projectId]);
  return (
    <section className="flex h-full min-h-0 flex-col gap-3 overflow-y-auto" aria-labelledby="agents-title">
      <div className="flex flex-wrap items-baseline gap-3">
        <h2 id="agents-title" className="text-base font-semibold">
          Agents
        </h2>
        <span className="text-xs text-slate-500">
          seen in the last {AGENT_HOURS} h or holding a lock · refreshes every {AGENTS_REFRESH_MS / 1000} s · a red row lost locks
          that expired while it held them (crashed or stalled)
        </span>
      </div>
      {agents.isPending ? (
        <Loading label="Loading agents…" />
      ) : agents.isError && !agents.data ? (
        <LoadFailed what="the agents" onRetry={() => void agents.refetch()} />
      ) : agents.data.length === 0 ? (
        <Empty>No agent has worked on this project in the last {AGENT_HOURS} hours.</Empty>
      ) : (
        <table className="w-full text-left text-sm">
          <thead className="border-b border-slate-300 text-xs text-slate-500 uppercase">
            <tr>
              <th className="py-1 pl-2 font-medium">Agent</th>
              <th className="font-medium">Last seen</th>
              <th className="font-medium">Live locks</th>
              <th className="text-right font-medium">Operations</th>
              <th className="text-right font-medium">Events</th>
              <th className="pr-2 text-right font-medium">Locks expired</th>
            </tr>
          </thead>
          <tbody>
            {agents.data.map((agent) => (
              <AgentRow key={agent.actor} agent={agent} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
