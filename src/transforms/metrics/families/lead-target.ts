/** New pipeline created in the period against the lead-generation target. */
import { sumAmounts } from '../deal-slices.js';
import { divide, isAvailable } from '../figure.js';
import { leadGenerationTarget } from '../formulas.js';
import { kpi, type Kpi } from '../kpi.js';
import type { MetricsBasis } from '../metrics-basis.js';
import { leadTargetSeries, type LeadTargetSeries } from '../series.js';

export interface LeadTarget {
  readonly leadTarget: LeadTargetSeries;
  /** `newPipeline`, `leadTarget` and `leadTargetAttainment`. */
  readonly kpis: readonly Kpi[];
}

/** The day or week series of new pipeline, and the period's new pipeline, target (per day × days) and attainment. */
export function measureLeadTarget(b: MetricsBasis): LeadTarget {
  const created = b.slices.createdInPeriod;
  const { periodDays } = b.ctx;
  const { t } = b;
  const newPipeline = sumAmounts(created);
  const target = leadGenerationTarget(b.ctx.config.leadTargetPerDay, periodDays);
  return {
    leadTarget: leadTargetSeries(b.slices, b.ctx),
    kpis: [
      kpi(t, 'newPipeline', newPipeline, 'currency', created.length, t.t('basis.createdInPeriod'), b.periodLabel),
      kpi(t, 'leadTarget', target, 'currency', periodDays, t.t('basis.daysInPeriod'), b.periodLabel),
      kpi(
        t,
        'leadTargetAttainment',
        isAvailable(target) ? divide(newPipeline, target, t.t('reason.targetZero')) : target,
        'percent',
        created.length,
        t.t('basis.createdInPeriod'),
        b.periodLabel,
      ),
    ],
  };
}
