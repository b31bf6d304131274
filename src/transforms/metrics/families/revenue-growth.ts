/** Won revenue in the period and its month-over-month growth. */
import { monthIndex, monthLabel, toDay } from '../dates.js';
import { sumAmounts } from '../deal-slices.js';
import { notAvailable } from '../figure.js';
import { kpi, type Kpi } from '../kpi.js';
import type { MetricsBasis } from '../metrics-basis.js';
import { monthlyRevenue, type MonthRevenue } from '../series.js';

export interface RevenueGrowth {
  readonly monthlyRevenue: readonly MonthRevenue[];
  /** `wonRevenue` and `revenueGrowth`. */
  readonly kpis: readonly Kpi[];
}

/** Monthly won revenue over the period; the growth KPI is that of the last full month over the month before it. */
export function measureRevenueGrowth(b: MetricsBasis): RevenueGrowth {
  const monthly = monthlyRevenue(b.deals, b.ctx);
  const lastFullMonth = monthly.filter((m) => !m.toDate).at(-1);
  const won = b.slices.wonInPeriod;
  return {
    monthlyRevenue: monthly,
    kpis: [
      kpi('wonRevenue', 'Won revenue', sumAmounts(won), 'currency', won.length, 'won deals', b.periodLabel),
      kpi(
        'revenueGrowth',
        'Revenue growth (last full month)',
        lastFullMonth?.growth ?? notAvailable('no full month in the period'),
        'percent',
        lastFullMonth?.wonDeals ?? 0,
        'won deals in the month',
        lastFullMonth === undefined
          ? b.periodLabel
          : `${lastFullMonth.month} vs ${monthLabel(monthIndex(toDay(lastFullMonth.monthStart)) - 1)}`,
      ),
    ],
  };
}
