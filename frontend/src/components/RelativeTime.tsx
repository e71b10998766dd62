import { formatDateTime, formatRelative } from '../domain/format';
import { useNow } from './useNow';

/** "5 min ago", kept current; the exact time is in the title and the datetime attribute. */
export function RelativeTime({ iso, className = '' }: { iso: string | null; className?: string }) {
  const now = useNow(5_000);
  if (!iso) return <span className={className}>never</span>;
  return (
    <time dateTime={iso} title={formatDateTime(iso)} className={className}>
      {formatRelative(iso, now)}
    </time>
  );
}
