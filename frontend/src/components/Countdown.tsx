import { formatRemaining } from '../domain/format';
import { useNow } from './useNow';

/** Time left until `expiresAt`, ticking every second. */
export function Countdown({ expiresAt }: { expiresAt: string }) {
  const now = useNow();
  const remaining = new Date(expiresAt).getTime() - now;
  return (
    <time dateTime={expiresAt} className={`font-mono tabular-nums ${remaining < 60_000 ? 'text-red-700' : ''}`} title={expiresAt}>
      {formatRemaining(remaining)}
    </time>
  );
}
