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
  const s = b.slices;
  const quota = b.ctx.config.quota;
  const openValue = sumAmounts(s.open);
  const weighted = measureWeightedValue(s.open);
  const wonRevenue = sumAmounts(s.wonInPeriod);
  const openKpi = (key: Kpi['key'], label: string, value: Kpi['value'], unit: Kpi['unit']): Kpi =>
    kpi(key, label, value, unit, s.open.length, 'open deals', b.nowLabel);
  return {
    kpis: [
      openKpi('pipelineValue', 'Open pipeline value', openValue, 'currency'),
      kpi(
        'weightedPipelineValue',
        'Probability-weighted pipeline',
        weighted.value,
        'currency',
        weighted.count,
        'open deals with a probability',
        b.nowLabel,
      ),
      openKpi('openDeals', 'Open deals', s.open.length, 'count'),
      openKpi('coverage', 'Pipeline coverage', pipelineCoverage(openValue, quota), 'ratio'),
      openKpi(
        'coverageRemaining',
        'Coverage of remaining quota',
        remainingCoverage(openValue, quota, wonRevenue),
        'ratio',
      ),
    ],
  };
}
