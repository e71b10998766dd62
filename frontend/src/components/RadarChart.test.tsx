import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { axisPoint, RadarChart } from './RadarChart';

describe('RadarChart', () => {
  const scores = { scope_clarity: 2, decision_points: 0, context_window_demand: 1, verification_complexity: 2, domain_specificity: 1 };

  it('describes every dimension and its score for screen readers', () => {
    render(<RadarChart scores={scores} />);
    expect(screen.getByRole('img')).toHaveAccessibleName(
      'Sizing radar: Scope clarity 2 of 2, Decision points 0 of 2, Context window demand 1 of 2, Verification complexity 2 of 2, Domain specificity 1 of 2',
    );
  });

  it('puts a full score on the tip of its axis and a zero in the centre', () => {
    render(<RadarChart scores={scores} />);
    const points = screen.getByTestId('radar-shape').getAttribute('points')!.split(' ');
    const tip = axisPoint(0, 5, 1);
    const centre = axisPoint(1, 5, 0);
    const half = axisPoint(2, 5, 0.5);
    expect(points[0]).toBe(`${tip.x.toFixed(1)},${tip.y.toFixed(1)}`);
    expect(points[1]).toBe(`${centre.x.toFixed(1)},${centre.y.toFixed(1)}`);
    expect(points[2]).toBe(`${half.x.toFixed(1)},${half.y.toFixed(1)}`);
    // The first axis points straight up.
    expect(tip.x).toBeCloseTo(centre.x);
    expect(tip.y).toBeLessThan(centre.y);
  });
});
