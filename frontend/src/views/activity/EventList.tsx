import { Link } from 'react-router';
import type { ActivityEvent, EventKind } from '../../api/types';
import { RelativeTime } from '../../components/RelativeTime';
import { EVENT_KIND_LABEL } from '../../domain/format';
import { useTaskParam } from '../useTaskParam';

const KIND_STYLE: Partial<Record<EventKind, string>> = {
  task_deleted: 'border-red-300 bg-red-50 text-red-800',
  lock_expired: 'border-red-300 bg-red-50 text-red-800',
  lock_forced: 'border-amber-300 bg-amber-50 text-amber-900',
  completed: 'border-green-300 bg-green-50 text-green-800',
  status_changed: 'border-blue-300 bg-blue-50 text-blue-800',
  dependency_added: 'border-pink-300 bg-pink-50 text-pink-800',
  dependency_removed: 'border-pink-300 bg-pink-50 text-pink-800',
};

interface EventListProps {
  events: readonly ActivityEvent[];
  /** Tasks known to be gone: their events name them without a link. */
  isDeleted: (event: ActivityEvent) => boolean;
  /** False in a task's own history, where every event is about that task. */
  showTask?: boolean;
  label: string;
}

/** Events, newest first: when, who, what kind, the API's summary, and a link to the task. */
export function EventList({ events, isDeleted, showTask = true, label }: EventListProps) {
  const { hrefFor } = useTaskParam();
  return (
    <ol className="flex flex-col" aria-label={label}>
      {events.map((event) => (
        <li key={event.id} className="border-b border-slate-100 py-2" data-testid="event" data-kind={event.kind} data-event-id={event.id}>
          <div className="flex flex-wrap items-center gap-x-2 gap-y-0.5 text-xs text-slate-500">
            <RelativeTime iso={event.at} />
            <span className="font-medium text-slate-800" data-testid="event-actor">
              {event.actor}
            </span>
            <span className={`rounded border px-1 py-px font-medium ${KIND_STYLE[event.kind] ?? 'border-slate-300 bg-slate-50 text-slate-700'}`}>
              {EVENT_KIND_LABEL[event.kind] ?? event.kind}
            </span>
            {showTask &&
              (isDeleted(event) ? (
                <span className="text-slate-600" data-testid="event-task">
                  {event.task_name} <span className="italic">(deleted)</span>
                </span>
              ) : (
                <Link to={hrefFor(event.task_id)} className="text-blue-800 hover:underline" data-testid="event-task">
                  {event.task_name}
                </Link>
              ))}
          </div>
          <p className="mt-0.5 text-sm text-slate-800">{event.summary}</p>
        </li>
      ))}
    </ol>
  );
}
