import { DIMENSIONS, type Dimension, type PointsBreakdown } from '../../api/types';
import { MAX_SCORE, RadarChart } from '../../components/RadarChart';
import { formatDateTime, humanize } from '../../domain/format';

/** The five-dimension sizing as a radar chart, each dimension's reasoning, confidence and risks. */
export function SizingSection({ breakdown }: { breakdown: PointsBreakdown | null }) {
  if (!breakdown) {
    return <p className="text-sm text-slate-500">Not sized by an agent yet.</p>;
  }
  const scores = Object.fromEntries(DIMENSIONS.map((d) => [d, breakdown[d].score])) as Record<Dimension, number>;
  return (
    <div className="flex flex-col gap-3">
      <p className="text-sm">
        Total <strong data-testid="sizing-total">{breakdown.total}</strong> / 10 · confidence{' '}
        <strong data-testid="sizing-confidence">{breakdown.confidence}</strong> / 5
        {breakdown.scored_by && (
          <span className="text-slate-500">
            {' '}
            · by {breakdown.scored_by}, {formatDateTime(breakdown.scored_at)}
          </span>
        )}
      </p>
      <RadarChart scores={scores} />
      <dl className="flex flex-col gap-2 text-sm">
        {DIMENSIONS.map((d) => (
          <div key={d}>
            <dt className="font-medium">
              {humanize(d)}{' '}
              <span className="text-slate-500">
                ({breakdown[d].score}/{MAX_SCORE})
              </span>
            </dt>
            <dd className="text-slate-700">{breakdown[d].reasoning || '—'}</dd>
          </div>
        ))}
      </dl>
      <div className="text-sm">
        <h4 className="font-medium">Risk factors</h4>
        {breakdown.risk_factors && breakdown.risk_factors.length > 0 ? (
          <ul className="list-disc pl-5 text-slate-700">
            {breakdown.risk_factors.map((risk, i) => (
              <li key={i}>{risk}</li>
            ))}
          </ul>
        ) : (
          <p className="text-slate-500">None recorded.</p>
        )}
      </div>
      {breakdown.breakdown_suggestions && (
        <div className="text-sm">
          <h4 className="font-medium">Breakdown suggestions</h4>
          <p className="whitespace-pre-wrap text-slate-700">{breakdown.breakdown_suggestions}</p>
        </div>
      )}
    </div>
  );
}
