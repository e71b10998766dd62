import { Link } from 'react-router';
import { useTask } from '../../api/queries';
import type { Agent, Lock } from '../../api/types';
import { Countdown } from '../../components/Countdown';
import { RelativeTime } from '../../components/RelativeTime';
import { OPERATION_LABEL } from '../../domain/format';
import { useTaskParam } from '../useTaskParam';

function LiveLock({ lock }: { lock: Lock }) {
  const task = useTask(lock.task_id);
  const { hrefFor } = useTaskParam();
  const name = task.data?.name ?? (task.isPending ? 'Loading…' : lock.task_id);
  return (
    <li className="flex flex-wrap items-center gap-x-2 text-sm" data-testid="agent-lock">
      <Link to={hrefFor(lock.task_id)} className="text-blue-800 hover:underline">
        {name}
      </Link>
      <span className="text-xs text-slate-600">{OPERATION_LABEL[lock.lock_purpose]}</span>
      <span className="text-xs text-slate-500">
        expires in <Countdown expiresAt={lock.expires_at} />
      </span>
    </li>
  );
}

/** One actor: live locks, work done, locks that expired on it (an agent that crashed or stalled stands out), last seen. */
export function AgentRow({ agent }: { agent: Agent }) {
  const lost = agent.locks_expired > 0;
  return (
    <tr
      className={`border-b border-slate-100 align-top ${lost ? 'border-l-4 border-l-red-500 bg-red-50' : ''}`}
      data-testid="agent-row"
      data-actor={agent.actor}
      data-locks-expired={agent.locks_expired}
    >
      <th scope="row" className="py-2 pr-3 pl-2 text-left font-medium">
        {agent.actor}
      </th>
      <td className="py-2 pr-3 text-slate-700">
        <RelativeTime iso={agent.last_seen_at} />
      </td>
      <td className="py-2 pr-3">
        {agent.live_locks.length === 0 ? (
          <span className="text-slate-500">none</span>
        ) : (
          <ul className="flex flex-col gap-0.5">
            {agent.live_locks.map((lock) => (
              <LiveLock key={`${lock.task_id}-${lock.fencing_token}`} lock={lock} />
            ))}
          </ul>
        )}
      </td>
      <td className="py-2 pr-3 text-right tabular-nums">{agent.operations}</td>
      <td className="py-2 pr-3 text-right tabular-nums">{agent.events}</td>
      <td className="py-2 pr-2 text-right">
        {lost ? (
          <span className="inline-flex items-center gap-1 rounded border border-red-400 bg-white px-1.5 py-px text-xs font-semibold text-red-800" data-testid="locks-expired">
            <span aria-hidden>⚠</span>
            {agent.locks_expired} expired
            <span className="sr-only"> (locks that ran out while this agent held them: it may have crashed)</span>
          </span>
        ) : (
          <span className="tabular-nums text-slate-500">0</span>
        )}
      </td>
    </tr>
  );
}
