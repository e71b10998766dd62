interface ProgressBarProps {
  label: string;
  value: number;
  max: number;
}

/** Points done out of the total, as a bar with the numbers beside it. */
export function ProgressBar({ label, value, max }: ProgressBarProps) {
  const percent = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 0;
  return (
    <div className="flex items-center gap-2">
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={max}
        aria-valuenow={value}
        aria-valuetext={`${value} of ${max} points`}
        className="h-2.5 w-full min-w-24 overflow-hidden rounded-full bg-slate-200"
      >
        <div className="h-full rounded-full bg-green-600" style={{ width: `${percent}%` }} />
      </div>
      <span className="text-xs whitespace-nowrap text-slate-600 tabular-nums">
        {value} / {max} pts
      </span>
    </div>
  );
}
