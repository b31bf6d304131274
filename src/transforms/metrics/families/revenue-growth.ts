/** Won revenue in the period and its month-over-month growth. */
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
  const { t } = b;
  return {
    monthlyRevenue: monthly,
    kpis: [
      kpi(t, 'wonRevenue', sumAmounts(won), 'currency', won.length, t.t('basis.wonDeals'), b.periodLabel),
      kpi(
        t,
        'revenueGrowth',
        lastFullMonth?.growth ?? notAvailable(t.t('reason.noFullMonth')),
        'percent',
        lastFullMonth?.wonDeals ?? 0,
        t.t('basis.wonInMonth'),
        lastFullMonth === undefined
          ? b.periodLabel
          : t.t('period.monthVsMonth', {
              month: t.month(lastFullMonth.monthStart),
              previous: t.month(lastFullMonth.comparedFrom),
            }),
      ),
    ],
  };
}
