/** Average deal size and average sales cycle over the period. */
import { measureAvgDealSize, measureSalesCycle, type Measured } from '../deal-slices.js';
import { kpi, type Kpi } from '../kpi.js';
import type { MetricsBasis } from '../metrics-basis.js';

export interface DealSizeAndCycle {
  /** The measures, for sales velocity. */
  readonly avgDealSize: Measured;
  readonly avgCycle: Measured;
  /** `avgDealSize` and `avgSalesCycle`. */
  readonly kpis: readonly Kpi[];
}

/** Average deal size in the configured variant (`averageDealSize`) and the won deals' created-to-close days. */
export function measureDealSizeAndCycle(b: MetricsBasis): DealSizeAndCycle {
  const avgDealSize = measureAvgDealSize(b.slices, b.ctx);
  const avgCycle = measureSalesCycle(b.slices, b.t);
  const period = b.periodLabel;
  return {
    avgDealSize,
    avgCycle,
    kpis: [
      kpi(b.t, 'avgDealSize', avgDealSize.value, 'currency', avgDealSize.count, avgDealSize.of, period),
      kpi(b.t, 'avgSalesCycle', avgCycle.value, 'days', avgCycle.count, avgCycle.of, period),
    ],
  };
}
