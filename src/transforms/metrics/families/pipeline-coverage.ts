/** Open pipeline as of asOf (value, weighted value, count) and its coverage of the quota. */
import { measureWeightedValue, sumAmounts } from '../deal-slices.js';
import { pipelineCoverage, remainingCoverage } from '../formulas.js';
import { kpi, type Kpi } from '../kpi.js';
import type { MetricsBasis } from '../metrics-basis.js';

/**
 * KPIs `pipelineValue`, `weightedPipelineValue`, `openDeals`, `coverage` (open value ÷ quota) and
 * `coverageRemaining` (open value ÷ what remains of the quota after the period's won revenue).
 */
export function measurePipelineCoverage(b: MetricsBasis): { readonly kpis: readonly Kpi[] } {
  const { t } = b;
  const s = b.slices;
  const quota = b.ctx.config.quota;
  const openValue = sumAmounts(s.open);
  const weighted = measureWeightedValue(s.open, t);
  const wonRevenue = sumAmounts(s.wonInPeriod);
  const openKpi = (key: Kpi['key'], value: Kpi['value'], unit: Kpi['unit']): Kpi =>
    kpi(t, key, value, unit, s.open.length, t.t('basis.openDeals'), b.nowLabel);
  return {
    kpis: [
      openKpi('pipelineValue', openValue, 'currency'),
      kpi(
        t,
        'weightedPipelineValue',
        weighted.value,
        'currency',
        weighted.count,
        t.t('basis.openWithProbability'),
        b.nowLabel,
      ),
      openKpi('openDeals', s.open.length, 'count'),
      openKpi('coverage', pipelineCoverage(openValue, quota, t.t('reason.quotaZero')), 'ratio'),
      openKpi('coverageRemaining', remainingCoverage(openValue, quota, wonRevenue, t.t('reason.quotaMet')), 'ratio'),
    ],
  };
}
