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
  const newPipeline = sumAmounts(created);
  const target = leadGenerationTarget(b.ctx.config.leadTargetPerDay, periodDays);
  return {
    leadTarget: leadTargetSeries(b.slices, b.ctx),
    kpis: [
      kpi(
        'newPipeline',
        'New pipeline created',
        newPipeline,
        'currency',
        created.length,
        'deals created in the period',
        b.periodLabel,
      ),
      kpi('leadTarget', 'Lead-generation target', target, 'currency', periodDays, 'days in the period', b.periodLabel),
      kpi(
        'leadTargetAttainment',
        'Lead target attainment',
        isAvailable(target) ? divide(newPipeline, target, 'target is 0') : target,
        'percent',
        created.length,
        'deals created in the period',
        b.periodLabel,
      ),
    ],
  };
}
