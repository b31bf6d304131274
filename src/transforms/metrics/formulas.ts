/**
 * The metric formulas themselves, on plain numbers. Kept apart from the deal bookkeeping so each formula can be read
 * (and tested against the reference's worked examples) in one line.
 */
import { combine, divide, inputMissing, notAvailable, type Figure } from './figure.js';

/** Average of a total over a count: `$1,000 over 10 deals → $100`, `60 days over 10 deals → 6 days`. */
export function average(total: number, count: number, reasonIfNone: string): Figure {
  return divide(total, count, reasonIfNone);
}

/**
 * Sales velocity in currency per day: `(open deals × average deal size × win rate) ÷ average sales cycle (days)`.
 * An unavailable input passes its reason on; a zero-day cycle is `n/a (<reasonIfZeroCycle>)`.
 */
export function salesVelocity(
  openDeals: number,
  avgDealSize: Figure,
  winRate: Figure,
  avgSalesCycleDays: Figure,
  reasonIfZeroCycle: string,
): Figure {
  return combine([avgDealSize, winRate, avgSalesCycleDays], ([size = 0, rate = 0, cycle = 0]) =>
    divide(openDeals * size * rate, cycle, reasonIfZeroCycle),
  );
}

/** Customer acquisition cost: `spend ÷ new customers` (`$10,000 for 100 customers → $100`). */
export function acquisitionCost(spend: number | undefined, newCustomers: number, reasonIfNone: string): Figure {
  if (spend === undefined) return inputMissing('metrics.spend');
  return divide(spend, newCustomers, reasonIfNone);
}

/** Lifetime value: `revenue per customer per year × lifetime years × gross margin (1 when not given)`. */
export function lifetimeValue(revenuePerCustomerPerYear: Figure, lifetimeYears: number, grossMargin = 1): Figure {
  return combine([revenuePerCustomerPerYear], ([revenue = 0]) => revenue * lifetimeYears * grossMargin);
}

/** Growth as a fraction: `(current − previous) ÷ previous`; `n/a (<reasonIfNone>)` when there was nothing to grow from. */
export function growthRate(current: number, previous: number, reasonIfNone: string): Figure {
  return divide(current - previous, previous, reasonIfNone);
}

/** Cumulative lead-generation target: `$250 a day → $7,500 after 30 days, $45,000 after 180 days`. */
export function leadGenerationTarget(perDay: number | undefined, days: number): Figure {
  if (perDay === undefined) return inputMissing('metrics.leadTargetPerDay');
  return perDay * days;
}

/** Pipeline coverage as a ratio (3 = 3×): `open pipeline value ÷ quota`. */
export function pipelineCoverage(openValue: number, quota: number | undefined, reasonIfZero: string): Figure {
  if (quota === undefined) return inputMissing('metrics.quota');
  return divide(openValue, quota, reasonIfZero);
}

/**
 * Coverage of what remains to win: `open pipeline value ÷ (quota − won so far)`; `n/a (<reasonIfMet>)` once the
 * quota is met.
 */
export function remainingCoverage(
  openValue: number,
  quota: number | undefined,
  wonSoFar: number,
  reasonIfMet: string,
): Figure {
  if (quota === undefined) return inputMissing('metrics.quota');
  const remaining = quota - wonSoFar;
  if (remaining <= 0) return notAvailable(reasonIfMet);
  return divide(openValue, remaining, reasonIfMet);
}
