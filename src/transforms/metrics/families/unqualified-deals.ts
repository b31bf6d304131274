/** Open deals still in a qualification stage after the qualification deadline. */
import type { MetricsConfig } from '../config.js';
import { compareText, dayOf } from '../deal-slices.js';
import { inputMissing } from '../figure.js';
import { kpi, type Kpi } from '../kpi.js';
import type { MetricsBasis } from '../metrics-basis.js';

export interface UnqualifiedDeal {
  readonly id: string;
  readonly account: string | null;
  readonly owner: string | null;
  readonly stage: string;
  readonly daysSinceCreated: number;
  readonly amount: number | null;
}

export interface UnqualifiedDeals {
  /** Null when `qualifyWithinDays` is not set. Sorted oldest first, then largest amount, then id. */
  readonly unqualifiedDeals: readonly UnqualifiedDeal[] | null;
  readonly qualificationStages: readonly string[];
  /** `unqualifiedDeals` and `unqualifiedValue`. */
  readonly kpis: readonly Kpi[];
}

function defaultQualificationStages(config: MetricsConfig, openStages: readonly string[]): readonly string[] {
  return config.qualificationStages ?? openStages.slice(0, Math.min(2, openStages.length));
}

/** Open deals in the qualification stages created more than `qualifyWithinDays` days before asOf. */
function pastDeadline(b: MetricsBasis, stages: ReadonlySet<string>, deadline: number): UnqualifiedDeal[] {
  const { asOfDay } = b.ctx;
  const found: UnqualifiedDeal[] = [];
  for (const d of b.slices.open) {
    const created = dayOf(d.createdDate);
    if (!stages.has(d.stage) || created === null || asOfDay - created <= deadline) continue;
    found.push({
      id: d.id,
      account: d.account,
      owner: d.owner,
      stage: d.stage,
      daysSinceCreated: asOfDay - created,
      amount: d.amount,
    });
  }
  return found.sort(
    (a, b) => b.daysSinceCreated - a.daysSinceCreated || (b.amount ?? 0) - (a.amount ?? 0) || compareText(a.id, b.id),
  );
}

/**
 * Deals past the qualification deadline (`qualifyWithinDays`) in `qualificationStages` (default: the first two open
 * stages); without a deadline the list is null and both KPIs say `input missing (metrics.qualifyWithinDays)`.
 */
export function findUnqualifiedDeals(b: MetricsBasis): UnqualifiedDeals {
  const { config, openStages } = b.ctx;
  const qualificationStages = defaultQualificationStages(config, openStages);
  const unqualifiedDeals =
    config.qualifyWithinDays === undefined
      ? null
      : pastDeadline(b, new Set(qualificationStages), config.qualifyWithinDays);
  const unqualifiedValue =
    unqualifiedDeals === null ? null : unqualifiedDeals.reduce((total, u) => total + (u.amount ?? 0), 0);
  return {
    unqualifiedDeals,
    qualificationStages,
    kpis: [
      kpi(
        b.t,
        'unqualifiedDeals',
        unqualifiedDeals === null ? inputMissing('metrics.qualifyWithinDays') : unqualifiedDeals.length,
        'count',
        b.slices.open.filter((d) => qualificationStages.includes(d.stage)).length,
        b.t.t('basis.openInStages', { stages: b.t.list(qualificationStages) }),
        b.nowLabel,
      ),
      kpi(
        b.t,
        'unqualifiedValue',
        unqualifiedValue === null ? inputMissing('metrics.qualifyWithinDays') : unqualifiedValue,
        'currency',
        unqualifiedDeals?.length ?? 0,
        b.t.t('basis.unqualifiedPastDeadline'),
        b.nowLabel,
      ),
    ],
  };
}
