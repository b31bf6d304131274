/** Open deals that have sat in their stage longer than the stage allows, and how every open deal's age is known. */
import type { MetricsConfig } from '../config.js';
import type { Deal } from '../deal.js';
import { compareText, sumAmounts } from '../deal-slices.js';
import { kpi, type Kpi } from '../kpi.js';
import type { MetricsBasis } from '../metrics-basis.js';
import { daysInStage } from '../stage-age.js';

export interface StaleDeal {
  readonly id: string;
  readonly account: string | null;
  readonly owner: string | null;
  readonly stage: string;
  readonly daysInStage: number;
  readonly threshold: number;
  readonly basis: string;
  readonly amount: number | null;
  readonly closeDate: Date | null;
}

export interface StaleDeals {
  /** Sorted worst first: most days over the threshold, then largest amount, then id. */
  readonly staleDeals: readonly StaleDeal[];
  /** The same deals, for the per-group stale counts of the breakdowns. */
  readonly staleSet: ReadonlySet<Deal>;
  /** How days in stage were obtained, by source, e.g. `{ stageEntered: 120, sinceCreated: 5 }`. */
  readonly stageAgeBases: Readonly<Record<string, number>>;
  /** `staleDeals` and `staleValue`. */
  readonly kpis: readonly Kpi[];
}

function staleThreshold(stage: string, config: MetricsConfig): number | undefined {
  return typeof config.staleAfterDays === 'number' ? config.staleAfterDays : config.staleAfterDays[stage];
}

/**
 * Open deals in a configured stage whose days in stage (see {@link daysInStage}) exceed `staleAfterDays` for that
 * stage; deals in stages without a threshold, or whose age is unknown, are not stale.
 */
export function findStaleDeals(b: MetricsBasis): StaleDeals {
  const { config, asOfDay, history } = b.ctx;
  const stageAgeBases: Record<string, number> = {};
  const staleDeals: StaleDeal[] = [];
  const staleSet = new Set<Deal>();
  for (const d of b.slices.open) {
    const age = daysInStage(d, asOfDay, history, b.t);
    const basisKey = age === null ? 'unknown' : age.source;
    stageAgeBases[basisKey] = (stageAgeBases[basisKey] ?? 0) + 1;
    const threshold = d.stageKnown ? staleThreshold(d.stage, config) : undefined;
    if (age === null || threshold === undefined || age.days <= threshold) continue;
    staleSet.add(d);
    staleDeals.push({
      id: d.id,
      account: d.account,
      owner: d.owner,
      stage: d.stage,
      daysInStage: age.days,
      threshold,
      basis: age.basis,
      amount: d.amount,
      closeDate: d.closeDate,
    });
  }
  staleDeals.sort(
    (a, b) =>
      b.daysInStage - b.threshold - (a.daysInStage - a.threshold) ||
      (b.amount ?? 0) - (a.amount ?? 0) ||
      compareText(a.id, b.id),
  );
  const open = b.slices.open.length;
  return {
    staleDeals,
    staleSet,
    stageAgeBases,
    kpis: [
      kpi(b.t, 'staleDeals', staleDeals.length, 'count', open, b.t.t('basis.openChecked'), b.nowLabel),
      kpi(
        b.t,
        'staleValue',
        sumAmounts(b.deals.filter((d) => staleSet.has(d))),
        'currency',
        staleDeals.length,
        b.t.t('basis.staleDeals'),
        b.nowLabel,
      ),
    ],
  };
}
