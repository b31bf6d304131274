import { describe, expect, it } from 'vitest';
import { describeUnavailable, figureCell, type Figure } from './figure.js';
import {
  acquisitionCost,
  average,
  growthRate,
  leadGenerationTarget,
  lifetimeValue,
  pipelineCoverage,
  remainingCoverage,
  salesVelocity,
} from './formulas.js';

const na = (reason: string): Figure => ({ kind: 'n/a', reason });
const missing = (key: string): Figure => ({ kind: 'input missing', reason: key });

describe('worked examples of the reference', () => {
  it.each([
    ['average deal size: $1,000 over 10 deals', () => average(1_000, 10, 'no won deals'), 100],
    ['average sales cycle: 60 days over 10 deals', () => average(60, 10, 'no won deals'), 6],
    ['CAC: $10,000 for 100 new customers', () => acquisitionCost(10_000, 100, 'no new customers won'), 100],
    ['lead target: $250 a day over a 30-day month', () => leadGenerationTarget(250, 30), 7_500],
    ['lead target: $250 a day over six 30-day months', () => leadGenerationTarget(250, 180), 45_000],
  ])('%s', (_name, compute, expected) => {
    expect(compute()).toBe(expected);
  });
});

describe('formulas', () => {
  it.each<[string, () => Figure, Figure]>([
    ['average over zero deals', () => average(0, 0, 'no won deals'), na('no won deals')],
    [
      'sales velocity (4 × $100 × 75%) ÷ 6 days',
      () => salesVelocity(4, 100, 0.75, 6, 'average sales cycle is 0 days'),
      50,
    ],
    ['sales velocity without open deals', () => salesVelocity(0, 100, 0.75, 6, 'average sales cycle is 0 days'), 0],
    [
      'sales velocity passes the first unavailable input on',
      () => salesVelocity(4, na('no won deals'), 0.5, na('x'), 'average sales cycle is 0 days'),
      na('no won deals'),
    ],
    [
      'sales velocity with a 0-day cycle',
      () => salesVelocity(4, 100, 0.5, 0, 'average sales cycle is 0 days'),
      na('average sales cycle is 0 days'),
    ],
    ['CAC without spend', () => acquisitionCost(undefined, 10, 'no new customers won'), missing('metrics.spend')],
    ['CAC without new customers', () => acquisitionCost(5_000, 0, 'no new customers won'), na('no new customers won')],
    ['CLV $1,000/year × 3 years × 50% margin', () => lifetimeValue(1_000, 3, 0.5), 1_500],
    ['CLV without margin', () => lifetimeValue(1_000, 3), 3_000],
    ['CLV with unavailable revenue', () => lifetimeValue(na('no won deals'), 3), na('no won deals')],
    ['growth 1,000 → 1,500', () => growthRate(1_500, 1_000, 'no revenue in 2026-05'), 0.5],
    ['growth 1,000 → 0', () => growthRate(0, 1_000, 'no revenue in 2026-05'), -1],
    ['growth from nothing', () => growthRate(1_500, 0, 'no revenue in 2026-04'), na('no revenue in 2026-04')],
    [
      'lead target without a daily target',
      () => leadGenerationTarget(undefined, 30),
      missing('metrics.leadTargetPerDay'),
    ],
    ['coverage 10,000 ÷ 5,000', () => pipelineCoverage(10_000, 5_000, 'quota is 0'), 2],
    ['coverage without quota', () => pipelineCoverage(10_000, undefined, 'quota is 0'), missing('metrics.quota')],
    [
      'remaining coverage 9,000 ÷ (5,000 − 2,000)',
      () => remainingCoverage(9_000, 5_000, 2_000, 'quota already met'),
      3,
    ],
    [
      'remaining coverage once the quota is met',
      () => remainingCoverage(9_000, 5_000, 6_000, 'quota already met'),
      na('quota already met'),
    ],
  ])('%s', (_name, compute, expected) => {
    expect(compute()).toEqual(expected);
  });

  it('renders unavailable values as the cell text, never NaN', () => {
    expect(figureCell(na('no won deals'))).toBe('n/a (no won deals)');
    expect(figureCell(missing('metrics.spend'))).toBe('input missing (metrics.spend)');
    expect(describeUnavailable({ kind: 'n/a', reason: 'x' })).toBe('n/a (x)');
    expect(figureCell(average(Number.POSITIVE_INFINITY, 2, 'bad'))).toBe('n/a (bad)');
  });
});
