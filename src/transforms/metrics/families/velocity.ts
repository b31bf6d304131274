/** Sales velocity: how much pipeline value the open deals turn into per day at the period's rates. */
import { fromDay } from '../dates.js';
import type { Measured } from '../deal-slices.js';
import { salesVelocity } from '../formulas.js';
import { kpi, type Kpi } from '../kpi.js';
import type { MetricsBasis } from '../metrics-basis.js';

/** The rates velocity is built from, as measured by the conversion and deal-size families. */
export interface VelocityRates {
  readonly winRate: Measured;
  readonly avgDealSize: Measured;
  readonly avgCycle: Measured;
}

/** KPI `salesVelocity`: open deals × average deal size × win rate ÷ average sales cycle, in currency per day. */
export function measureVelocity(b: MetricsBasis, rates: VelocityRates): { readonly kpis: readonly Kpi[] } {
  const open = b.slices.open.length;
  return {
    kpis: [
      kpi(
        b.t,
        'salesVelocity',
        salesVelocity(
          open,
          rates.avgDealSize.value,
          rates.winRate.value,
          rates.avgCycle.value,
          b.t.t('reason.zeroCycle'),
        ),
        'currencyPerDay',
        open,
        b.t.t('basis.openDeals'),
        b.t.t('period.asOfWithRates', { date: b.t.day(fromDay(b.ctx.asOfDay)), range: b.periodLabel }),
      ),
    ],
  };
}
