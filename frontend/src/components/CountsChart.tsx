interface CountsChartProps<K extends string> {
  title: string;
  order: readonly K[];
  counts: Record<K, number>;
  labels: Record<K, string>;
  colors: Record<K, string>;
  /** Wider for longer labels ("Blocked by dependencies"). */
  wide?: boolean;
}

/** A small horizontal bar chart of counts. */
export function CountsChart<K extends string>({ title, order, counts, labels, colors, wide = false }: CountsChartProps<K>) {
  const max = Math.max(1, ...order.map((key) => counts[key] ?? 0));
  return (
    <figure className={wide ? 'w-80' : 'w-72'}>
      <figcaption className="mb-1 text-xs font-semibold tracking-wide text-slate-500 uppercase">{title}</figcaption>
      <ul className="flex flex-col gap-0.5">
        {order.map((key) => {
          const count = counts[key] ?? 0;
          return (
            <li key={key} className={`grid items-center gap-2 text-xs ${wide ? 'grid-cols-[10.5rem_1fr_2.5rem]' : 'grid-cols-[8.5rem_1fr_2.5rem]'}`}>
              <span className="truncate text-slate-600">{labels[key]}</span>
              <span className="h-2 rounded bg-slate-100" aria-hidden>
                <span className={`block h-2 rounded ${colors[key]}`} style={{ width: `${(count / max) * 100}%` }} />
              </span>
              <span className="text-right tabular-nums" data-count-for={key}>
                {count}
              </span>
            </li>
          );
        })}
      </ul>
    </figure>
  );
}
