/**
 * Conversion: the stage funnel (deals and value per stage, and how the cohort created in the period moved through
 * the open stages), the win rate and the lead conversion rate.
 */
import type { Deal } from '../deal.js';
import { measureWeightedValue, measureWinRate, sumAmounts, type Context, type Measured } from '../deal-slices.js';
import { divide, type Figure } from '../figure.js';
import { kpi, type Kpi } from '../kpi.js';
import type { MetricsBasis } from '../metrics-basis.js';

export interface FunnelRow {
  readonly stage: string;
  readonly kind: 'open' | 'won' | 'lost';
  /** Open stages: deals in the stage now; won/lost stages: deals closed in the period. */
  readonly deals: number;
  readonly value: number;
  readonly weightedValue: Figure;
  /** Open stages only: deals created in the period that reached the stage / moved past it, and the ratio. */
  readonly reached: number | null;
  readonly movedOn: number | null;
  readonly conversionToNext: Figure | null;
}

export interface Conversion {
  readonly funnel: readonly FunnelRow[];
  /** The win rate measure, for sales velocity. */
  readonly winRate: Measured;
  /** Lost deals created in the period whose furthest stage is unknown: left out of conversion. */
  readonly conversionUnknownLost: number;
  /** `winRate` and `leadConversion`. */
  readonly kpis: readonly Kpi[];
}

/**
 * How far a deal got, as an index into the open stages (`openStages.length` = won), or null when unknown: a lost
 * deal whose snapshots never showed an open stage, or an open deal in a stage that is not configured.
 */
function furthestReached(deal: Deal, ctx: Context): number | null {
  if (deal.outcome === 'won') return ctx.openStages.length;
  let best = deal.outcome === 'open' ? (ctx.openIndex.get(deal.stage) ?? null) : null;
  for (const stage of ctx.history?.deals.get(deal.id)?.stagesSeen ?? []) {
    const i = ctx.openIndex.get(stage);
    if (i !== undefined && (best === null || i > best)) best = i;
  }
  return best;
}

/** One row per configured stage; `known` holds the furthest stage index of each cohort deal whose progress is known. */
function funnelRows(b: MetricsBasis, known: readonly number[]): FunnelRow[] {
  const { config } = b.ctx;
  const s = b.slices;
  return config.stages.map((stage) => {
    const kind = config.wonStages.includes(stage) ? 'won' : config.lostStages.includes(stage) ? 'lost' : 'open';
    const members =
      kind === 'open'
        ? s.open.filter((d) => d.stage === stage)
        : (kind === 'won' ? s.wonInPeriod : s.lostInPeriod).filter((d) => d.stage === stage);
    const index = b.ctx.openIndex.get(stage);
    const reached = index === undefined ? null : known.filter((f) => f >= index).length;
    const movedOn = index === undefined ? null : known.filter((f) => f > index).length;
    return {
      stage,
      kind,
      deals: members.length,
      value: sumAmounts(members),
      weightedValue: measureWeightedValue(members, b.t).value,
      reached,
      movedOn,
      conversionToNext:
        reached === null || movedOn === null ? null : divide(movedOn, reached, b.t.t('reason.noneReachedStage')),
    };
  });
}

/**
 * The funnel and the conversion KPIs over the cohort created in the period. A lead has converted once it got past
 * the last of `leadStages` (default: the first open stage).
 */
export function measureConversion(b: MetricsBasis): Conversion {
  const { config, openStages } = b.ctx;
  const s = b.slices;
  const furthest = new Map<Deal, number | null>(s.createdInPeriod.map((d) => [d, furthestReached(d, b.ctx)]));
  const known = [...furthest.values()].filter((f): f is number => f !== null);
  const unknownLost = s.createdInPeriod.filter((d) => d.outcome === 'lost' && furthest.get(d) === null).length;

  const winRate = measureWinRate(s, b.ctx);
  const leadStageIndexes = (config.leadStages ?? openStages.slice(0, 1)).map((st) => b.ctx.openIndex.get(st) ?? 0);
  const lastLeadStage = Math.max(0, ...leadStageIndexes);
  const converted = known.filter((f) => f > lastLeadStage).length;
  const { t } = b;

  return {
    funnel: funnelRows(b, known),
    winRate,
    conversionUnknownLost: unknownLost,
    kpis: [
      kpi(t, 'winRate', winRate.value, 'percent', winRate.count, winRate.of, b.periodLabel),
      kpi(
        t,
        'leadConversion',
        divide(converted, known.length, t.t('reason.noCreatedInPeriod')),
        'percent',
        known.length,
        unknownLost > 0 ? t.plural('basis.leadsLeftOut', unknownLost) : t.t('basis.leadsCreated'),
        b.periodLabel,
      ),
    ],
  };
}
