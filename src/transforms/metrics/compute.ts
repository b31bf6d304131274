/**
 * Pipeline metrics as one pure function of the deals, the config and an explicit as-of date (plus optional snapshot
 * history). No I/O, no clock, no logging; every sort is explicit and every division goes through `figure.ts`, so the
 * same input always gives the same, finite-or-"n/a" output.
 */
import { breakdown, bandLabels, type Breakdown } from './breakdowns.js';
import type { MetricsConfig } from './config.js';
import { isoDay, monthIndex, monthLabel, toDay } from './dates.js';
import { CHECKED_FIELD_LABEL, type CheckedField, type Deal } from './deal.js';
import {
  compareText,
  dayOf,
  measureAvgDealSize,
  measureSalesCycle,
  measureWinRate,
  plural,
  resolvePeriod,
  slice,
  sumAmounts,
  type Context,
  type Slices,
} from './deal-slices.js';
import type { KpiKey } from './definitions.js';
import { combine, divide, finite, isAvailable, notAvailable, type Figure } from './figure.js';
import {
  acquisitionCost,
  leadGenerationTarget,
  lifetimeValue,
  pipelineCoverage,
  remainingCoverage,
  salesVelocity,
} from './formulas.js';
import type { DealHistory, TrendWeek } from './history.js';
import {
  leadTargetSeries,
  monthlyRevenue,
  transitionCounts,
  type LeadTargetSeries,
  type MonthRevenue,
  type TransitionCount,
} from './series.js';
import { daysInStage } from './stage-age.js';

export type { Breakdown, BreakdownRow } from './breakdowns.js';
export { compareText, formatMoney } from './deal-slices.js';
export type { LeadTargetRow, LeadTargetSeries, MonthRevenue, TransitionCount } from './series.js';
export { daysInStage, type StageAge } from './stage-age.js';

/** How a KPI value is shown. `ratio` is a plain multiple (coverage 3.2 = 3.2×). */
export type KpiUnit = 'currency' | 'currencyPerDay' | 'percent' | 'days' | 'ratio' | 'count';

export interface Kpi {
  readonly key: KpiKey;
  readonly label: string;
  readonly value: Figure;
  readonly unit: KpiUnit;
  /** What the value rests on: how many of what (e.g. 37 "won deals closed in the period"). */
  readonly basis: { readonly count: number; readonly of: string };
  /** The period the value covers, e.g. `2025-11-28 to 2026-11-27` or `as of 2026-11-27`. */
  readonly period: string;
}

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

export interface UnqualifiedDeal {
  readonly id: string;
  readonly account: string | null;
  readonly owner: string | null;
  readonly stage: string;
  readonly daysSinceCreated: number;
  readonly amount: number | null;
}

export interface PipelineMetrics {
  readonly asOf: string;
  readonly period: { readonly start: string; readonly end: string; readonly days: number; readonly label: string };
  readonly currency: string;
  readonly dealCount: number;
  readonly kpis: readonly Kpi[];
  readonly funnel: readonly FunnelRow[];
  /** Sorted worst first: most days over the threshold, then largest amount, then id. */
  readonly staleDeals: readonly StaleDeal[];
  /** Null when `qualifyWithinDays` is not set. Sorted oldest first, then largest amount, then id. */
  readonly unqualifiedDeals: readonly UnqualifiedDeal[] | null;
  readonly qualificationStages: readonly string[];
  readonly byOwner: Breakdown;
  readonly byProduct: Breakdown;
  /** Region, deal-size band, new vs existing customers, lead source. */
  readonly breakdowns: readonly Breakdown[];
  readonly monthlyRevenue: readonly MonthRevenue[];
  readonly leadTarget: LeadTargetSeries;
  /** Null without snapshot history. */
  readonly trend: readonly TrendWeek[] | null;
  readonly transitions: readonly TransitionCount[] | null;
  readonly snapshotDates: readonly string[];
  /** Lost deals created in the period whose furthest stage is unknown (no snapshot showed them open): left out of conversion. */
  readonly conversionUnknownLost: number;
  /** How days in stage were obtained, e.g. `{ "stage entered date": 120, "since created": 5 }`. */
  readonly stageAgeBases: Readonly<Record<string, number>>;
  /** Data-quality remarks, one sentence each (unreadable values, unknown stages, missing dates). */
  readonly notes: readonly string[];
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

function staleThreshold(stage: string, config: MetricsConfig): number | undefined {
  return typeof config.staleAfterDays === 'number' ? config.staleAfterDays : config.staleAfterDays[stage];
}

function defaultQualificationStages(config: MetricsConfig, openStages: readonly string[]): readonly string[] {
  return config.qualificationStages ?? openStages.slice(0, Math.min(2, openStages.length));
}

function qualityNotes(deals: readonly Deal[], s: Slices, config: MetricsConfig): string[] {
  const notes: string[] = [];
  const bad = new Map<CheckedField, number>();
  for (const d of deals) for (const p of d.problems) bad.set(p, (bad.get(p) ?? 0) + 1);
  for (const [field, n] of [...bad.entries()].sort(([a], [b]) => compareText(a, b))) {
    notes.push(`${plural(n, 'deal')} with an unreadable ${CHECKED_FIELD_LABEL[field]} (treated as blank)`);
  }
  const unknown = new Map<string, number>();
  for (const d of deals) if (!d.stageKnown) unknown.set(d.stage, (unknown.get(d.stage) ?? 0) + 1);
  if (unknown.size > 0) {
    const list = [...unknown.entries()]
      .sort(([a], [b]) => compareText(a, b))
      .map(([stage, n]) => `"${stage === '' ? '(blank)' : stage}" (${n})`)
      .join(', ');
    notes.push(
      `deals in stages not listed in metrics.stages: ${list}; they count in totals but not per stage — add the stages to metrics.stages`,
    );
  }
  const ids = new Set<string>();
  let duplicates = 0;
  for (const d of deals) {
    if (ids.has(d.id)) duplicates += 1;
    ids.add(d.id);
  }
  if (duplicates > 0)
    notes.push(`${plural(duplicates, 'row')} repeat an opportunity id already seen (every row is counted)`);
  const closedNoDate = deals.filter((d) => d.outcome !== 'open' && d.closeDate === null).length;
  if (closedNoDate > 0)
    notes.push(
      `${plural(closedNoDate, 'closed deal')} without a close date, left out of the period's won/lost figures`,
    );
  const noCreated = deals.filter((d) => d.createdDate === null).length;
  if (noCreated > 0)
    notes.push(
      `${plural(noCreated, 'deal')} without a created date, left out of created-in-period figures, conversion and sales cycles`,
    );
  const openNoAmount = s.open.filter((d) => d.amount === null).length;
  if (openNoAmount > 0) notes.push(`${plural(openNoAmount, 'open deal')} without an amount, counted with no value`);
  if (config.columns.customerType !== null && deals.length > 0 && deals.every((d) => d.customerTypeLabel === null)) {
    notes.push('no customer-type values: new vs existing figures and CAC are unavailable');
  }
  return notes;
}

/**
 * Computes every pipeline metric for `deals` as of `asOf` (a wall-clock date in UTC fields; the time of day is
 * ignored). Flow metrics (won, lost, created) cover `config.period`, ending on asOf inclusive; pipeline metrics are
 * as of asOf. `history` (from {@link deriveDealHistory}) adds stage-entry dates where the view has none, real stage
 * moves for conversion, and the 12-week trend. Never throws on data: unavailable values carry their reason.
 */
export function computePipelineMetrics(
  deals: readonly Deal[],
  config: MetricsConfig,
  asOf: Date,
  history?: DealHistory,
): PipelineMetrics {
  const asOfDay = toDay(asOf);
  const { startDay, days: periodDays } = resolvePeriod(config, asOfDay);
  const terminal = new Set([...config.wonStages, ...config.lostStages]);
  const openStages = config.stages.filter((st) => !terminal.has(st));
  const ctx: Context = {
    config,
    asOfDay,
    startDay,
    periodDays,
    openStages,
    openIndex: new Map(openStages.map((st, i) => [st, i])),
    history,
  };
  const asOfText = isoDay(asOfDay);
  const periodLabel = `${isoDay(startDay)} to ${asOfText}`;
  const nowLabel = `as of ${asOfText}`;
  const s = slice(deals, ctx);

  // Stage ages and stale deals.
  const stageAgeBases: Record<string, number> = {};
  const staleDeals: StaleDeal[] = [];
  const staleSet = new Set<Deal>();
  for (const d of s.open) {
    const age = daysInStage(d, asOfDay, history);
    const basisKey = age === null ? 'unknown' : age.basis.replace(/ \(.*$|:.*$/, '');
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

  // Unqualified deals past the qualification deadline.
  const qualificationStages = defaultQualificationStages(config, openStages);
  let unqualifiedDeals: UnqualifiedDeal[] | null = null;
  if (config.qualifyWithinDays !== undefined) {
    const deadline = config.qualifyWithinDays;
    const stages = new Set(qualificationStages);
    unqualifiedDeals = [];
    for (const d of s.open) {
      const created = dayOf(d.createdDate);
      if (!stages.has(d.stage) || created === null || asOfDay - created <= deadline) continue;
      unqualifiedDeals.push({
        id: d.id,
        account: d.account,
        owner: d.owner,
        stage: d.stage,
        daysSinceCreated: asOfDay - created,
        amount: d.amount,
      });
    }
    unqualifiedDeals.sort(
      (a, b) => b.daysSinceCreated - a.daysSinceCreated || (b.amount ?? 0) - (a.amount ?? 0) || compareText(a.id, b.id),
    );
  }

  // Conversion over the cohort created in the period.
  const furthest = new Map<Deal, number | null>(s.createdInPeriod.map((d) => [d, furthestReached(d, ctx)]));
  const known = [...furthest.values()].filter((f): f is number => f !== null);
  const unknownLost = s.createdInPeriod.filter((d) => d.outcome === 'lost' && furthest.get(d) === null).length;

  const funnel: FunnelRow[] = config.stages.map((stage) => {
    const kind = config.wonStages.includes(stage) ? 'won' : config.lostStages.includes(stage) ? 'lost' : 'open';
    const members =
      kind === 'open'
        ? s.open.filter((d) => d.stage === stage)
        : (kind === 'won' ? s.wonInPeriod : s.lostInPeriod).filter((d) => d.stage === stage);
    const withProbability = members.filter((d) => d.amount !== null && d.probability !== null);
    let weighted = 0;
    for (const d of withProbability) weighted += (d.amount ?? 0) * (d.probability ?? 0);
    const index = ctx.openIndex.get(stage);
    const reached = index === undefined ? null : known.filter((f) => f >= index).length;
    const movedOn = index === undefined ? null : known.filter((f) => f > index).length;
    return {
      stage,
      kind,
      deals: members.length,
      value: sumAmounts(members),
      weightedValue:
        members.length > 0 && withProbability.length === 0 ? notAvailable('no probability values') : weighted,
      reached,
      movedOn,
      conversionToNext:
        reached === null || movedOn === null ? null : divide(movedOn, reached, 'no deals reached this stage'),
    };
  });

  // KPIs.
  const openValue = sumAmounts(s.open);
  const openWithProbability = s.open.filter((d) => d.amount !== null && d.probability !== null);
  let weightedValue = 0;
  for (const d of openWithProbability) weightedValue += (d.amount ?? 0) * (d.probability ?? 0);
  const wonRevenue = sumAmounts(s.wonInPeriod);
  const winRate = measureWinRate(s, ctx);
  const avgDealSize = measureAvgDealSize(s, ctx);
  const avgCycle = measureSalesCycle(s);

  const leadStageIndexes = (config.leadStages ?? openStages.slice(0, 1)).map((st) => ctx.openIndex.get(st) ?? 0);
  const lastLeadStage = Math.max(0, ...leadStageIndexes);
  const converted = known.filter((f) => f > lastLeadStage).length;

  const newCustomerKeys = new Set(
    s.wonInPeriod.filter((d) => d.customerType === 'new').map((d) => d.account ?? `deal:${d.id}`),
  );
  const hasCustomerType = deals.some((d) => d.customerTypeLabel !== null);
  const customersWon = new Set(s.wonInPeriod.map((d) => d.account ?? `deal:${d.id}`));
  const clvInputs = config.clv;
  const revenuePerCustomerPerYear: Figure =
    clvInputs?.revenuePerCustomerPerYear ??
    combine(
      [divide(wonRevenue, customersWon.size, 'no won deals')],
      ([perCustomer = 0]) => (perCustomer * 365) / periodDays,
    );

  const monthly = monthlyRevenue(deals, ctx);
  const lastFullMonth = monthly.filter((m) => !m.toDate).at(-1);
  const leadTarget = leadTargetSeries(s, ctx);
  const newPipeline = sumAmounts(s.createdInPeriod);
  const target = leadGenerationTarget(config.leadTargetPerDay, periodDays);
  const unqualifiedValue =
    unqualifiedDeals === null ? null : unqualifiedDeals.reduce((total, u) => total + (u.amount ?? 0), 0);

  // Sums of absurd amounts (1e308) can overflow: a KPI is a finite number or says why not.
  const kpi = (
    key: KpiKey,
    label: string,
    value: Figure,
    unit: KpiUnit,
    count: number,
    of: string,
    period: string,
  ): Kpi => ({
    key,
    label,
    value: isAvailable(value) ? finite(value, 'amounts too large to add up') : value,
    unit,
    basis: { count, of },
    period,
  });
  const customersOf =
    'new customers won in the period' +
    (s.wonInPeriod.some((d) => d.account === null) ? ' (deals without an account count as one customer each)' : '');

  let kpis: Kpi[] = [
    kpi('pipelineValue', 'Open pipeline value', openValue, 'currency', s.open.length, 'open deals', nowLabel),
    kpi(
      'weightedPipelineValue',
      'Probability-weighted pipeline',
      s.open.length > 0 && openWithProbability.length === 0 ? notAvailable('no probability values') : weightedValue,
      'currency',
      openWithProbability.length,
      'open deals with a probability',
      nowLabel,
    ),
    kpi('openDeals', 'Open deals', s.open.length, 'count', s.open.length, 'open deals', nowLabel),
    kpi(
      'coverage',
      'Pipeline coverage',
      pipelineCoverage(openValue, config.quota),
      'ratio',
      s.open.length,
      'open deals',
      nowLabel,
    ),
    kpi(
      'coverageRemaining',
      'Coverage of remaining quota',
      remainingCoverage(openValue, config.quota, wonRevenue),
      'ratio',
      s.open.length,
      'open deals',
      nowLabel,
    ),
    kpi('winRate', 'Win rate', winRate.value, 'percent', winRate.count, winRate.of, periodLabel),
    kpi(
      'avgDealSize',
      'Average deal size',
      avgDealSize.value,
      'currency',
      avgDealSize.count,
      avgDealSize.of,
      periodLabel,
    ),
    kpi('avgSalesCycle', 'Average sales cycle', avgCycle.value, 'days', avgCycle.count, avgCycle.of, periodLabel),
    kpi(
      'salesVelocity',
      'Sales velocity',
      salesVelocity(s.open.length, avgDealSize.value, winRate.value, avgCycle.value),
      'currencyPerDay',
      s.open.length,
      'open deals',
      `${nowLabel}, rates over ${periodLabel}`,
    ),
    kpi(
      'leadConversion',
      'Lead conversion rate',
      divide(converted, known.length, 'no deals created in the period'),
      'percent',
      known.length,
      `leads created in the period${unknownLost > 0 ? ` (${plural(unknownLost, 'lost deal')} without stage history left out)` : ''}`,
      periodLabel,
    ),
    kpi('wonRevenue', 'Won revenue', wonRevenue, 'currency', s.wonInPeriod.length, 'won deals', periodLabel),
    kpi(
      'revenueGrowth',
      'Revenue growth (last full month)',
      lastFullMonth?.growth ?? notAvailable('no full month in the period'),
      'percent',
      lastFullMonth?.wonDeals ?? 0,
      'won deals in the month',
      lastFullMonth === undefined
        ? periodLabel
        : `${lastFullMonth.month} vs ${monthLabel(monthIndex(toDay(lastFullMonth.monthStart)) - 1)}`,
    ),
    kpi(
      'newPipeline',
      'New pipeline created',
      newPipeline,
      'currency',
      s.createdInPeriod.length,
      'deals created in the period',
      periodLabel,
    ),
    kpi('leadTarget', 'Lead-generation target', target, 'currency', periodDays, 'days in the period', periodLabel),
    kpi(
      'leadTargetAttainment',
      'Lead target attainment',
      isAvailable(target) ? divide(newPipeline, target, 'target is 0') : target,
      'percent',
      s.createdInPeriod.length,
      'deals created in the period',
      periodLabel,
    ),
    kpi('staleDeals', 'Stale deals', staleDeals.length, 'count', s.open.length, 'open deals checked', nowLabel),
    kpi(
      'staleValue',
      'Stale pipeline value',
      sumAmounts(deals.filter((d) => staleSet.has(d))),
      'currency',
      staleDeals.length,
      'stale deals',
      nowLabel,
    ),
    kpi(
      'unqualifiedDeals',
      'Unqualified past deadline',
      unqualifiedDeals === null
        ? { kind: 'input missing', reason: 'metrics.qualifyWithinDays' }
        : unqualifiedDeals.length,
      'count',
      s.open.filter((d) => qualificationStages.includes(d.stage)).length,
      `open deals in ${qualificationStages.join(', ')}`,
      nowLabel,
    ),
    kpi(
      'unqualifiedValue',
      'Unqualified value past deadline',
      unqualifiedValue === null ? { kind: 'input missing', reason: 'metrics.qualifyWithinDays' } : unqualifiedValue,
      'currency',
      unqualifiedDeals?.length ?? 0,
      'unqualified deals past the deadline',
      nowLabel,
    ),
    kpi(
      'cac',
      'Customer acquisition cost',
      config.spend !== undefined && !hasCustomerType
        ? notAvailable('no customer-type column')
        : acquisitionCost(config.spend, newCustomerKeys.size),
      'currency',
      newCustomerKeys.size,
      customersOf,
      periodLabel,
    ),
    kpi(
      'clv',
      'Customer lifetime value',
      clvInputs === undefined
        ? { kind: 'input missing', reason: 'metrics.clv.lifetimeYears' }
        : lifetimeValue(revenuePerCustomerPerYear, clvInputs.lifetimeYears, clvInputs.grossMargin),
      'currency',
      customersWon.size,
      clvInputs?.revenuePerCustomerPerYear === undefined
        ? 'customers won in the period (revenue per customer annualised)'
        : 'customers won in the period (revenue per customer from metrics.clv)',
      periodLabel,
    ),
  ];
  if (deals.length === 0) {
    // The target is an input, not data; everything else has nothing to rest on.
    kpis = kpis.map((k) =>
      k.key === 'leadTarget' || (!isAvailable(k.value) && k.value.kind === 'input missing')
        ? k
        : { ...k, value: notAvailable('no deals in the view') },
    );
  }

  const band = bandLabels(config.dealSizeBands, config.currency);
  const has = (pick: (d: Deal) => string | null): boolean => deals.some((d) => pick(d) !== null);
  const customerTypeLabel = (d: Deal): string | null =>
    d.customerType === 'new'
      ? 'New customers'
      : d.customerType === 'existing'
        ? 'Existing customers'
        : d.customerTypeLabel;

  return {
    asOf: asOfText,
    period: { start: isoDay(startDay), end: asOfText, days: periodDays, label: periodLabel },
    currency: config.currency,
    dealCount: deals.length,
    kpis,
    funnel,
    staleDeals,
    unqualifiedDeals,
    qualificationStages,
    byOwner: breakdown(
      'Owner',
      deals,
      (d) => d.owner,
      has((d) => d.owner),
      ctx,
      staleSet,
    ),
    byProduct: breakdown(
      'Product',
      deals,
      (d) => d.product,
      has((d) => d.product),
      ctx,
      staleSet,
    ),
    breakdowns: [
      breakdown(
        'Region',
        deals,
        (d) => d.region,
        has((d) => d.region),
        ctx,
        staleSet,
      ),
      breakdown('Deal size', deals, (d) => band.label(d.amount), deals.length > 0, ctx, staleSet, band.order),
      breakdown(
        'Customer',
        deals,
        customerTypeLabel,
        has((d) => d.customerTypeLabel),
        ctx,
        staleSet,
        ['New customers', 'Existing customers'],
      ),
      breakdown(
        'Lead source',
        deals,
        (d) => d.leadSource,
        has((d) => d.leadSource),
        ctx,
        staleSet,
      ),
    ],
    monthlyRevenue: monthly,
    leadTarget,
    trend: history?.trend ?? null,
    transitions: history === undefined ? null : transitionCounts(history, ctx),
    snapshotDates: history?.snapshotDates ?? [],
    conversionUnknownLost: unknownLost,
    stageAgeBases,
    notes: qualityNotes(deals, s, config),
  };
}
