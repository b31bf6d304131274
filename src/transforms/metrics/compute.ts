/**
 * Pipeline metrics as one pure function of the deals, the config and an explicit as-of date (plus optional snapshot
 * history). No I/O, no clock, no logging; every sort is explicit and every division goes through `figure.ts`, so the
 * same input always gives the same, finite-or-"n/a" output. Each KPI family is computed in `families/`; this module
 * composes them into one result.
 */
import { createTranslator, type Language } from '../../shared/i18n/translator.js';
import type { Breakdown } from './breakdowns.js';
import type { MetricsConfig } from './config.js';
import { isoDay } from './dates.js';
import type { Deal } from './deal.js';
import { measureBreakdowns } from './families/breakdowns-by-dimension.js';
import { measureConversion, type FunnelRow } from './families/conversion.js';
import { measureCustomerValue } from './families/customer-value.js';
import { measureDealSizeAndCycle } from './families/deal-size-cycle.js';
import { measureHistorySeries } from './families/history-series.js';
import { measureLeadTarget } from './families/lead-target.js';
import { measurePipelineCoverage } from './families/pipeline-coverage.js';
import { describeQualityNotes } from './families/quality-notes.js';
import { measureRevenueGrowth } from './families/revenue-growth.js';
import { findStaleDeals, type StaleDeal } from './families/stale-deals.js';
import { findUnqualifiedDeals, type UnqualifiedDeal } from './families/unqualified-deals.js';
import { measureVelocity } from './families/velocity.js';
import type { DealHistory, TrendWeek } from './history.js';
import { inSummaryOrder, withoutDeals, type Kpi } from './kpi.js';
import { prepareMetricsBasis } from './metrics-basis.js';
import type { LeadTargetSeries, MonthRevenue, TransitionCount } from './series.js';

export type { Breakdown, BreakdownRow, DimensionKey } from './breakdowns.js';
export { compareText } from './deal-slices.js';
export type { FunnelRow } from './families/conversion.js';
export type { StaleDeal } from './families/stale-deals.js';
export type { UnqualifiedDeal } from './families/unqualified-deals.js';
export type { Kpi, KpiUnit } from './kpi.js';
export type { LeadTargetRow, LeadTargetSeries, MonthRevenue, TransitionCount } from './series.js';
export { daysInStage, type StageAge, type StageAgeSource } from './stage-age.js';

export interface PipelineMetrics {
  /** The language of every text below. */
  readonly language: Language;
  readonly asOf: string;
  /** The period of the flow metrics; `label` is its dates in the workbook's language (`28 Nov 2025 – 27 Nov 2026`). */
  readonly period: { readonly start: string; readonly end: string; readonly days: number; readonly label: string };
  readonly currency: string;
  /** True when some amount has cents: money is then shown with cents, else in whole units. */
  readonly amountsHaveCents: boolean;
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
  /** How days in stage were obtained, by source, e.g. `{ stageEntered: 120, sinceCreated: 5 }`. */
  readonly stageAgeBases: Readonly<Record<string, number>>;
  /** Data-quality remarks, one sentence each (unreadable values, unknown stages, missing dates). */
  readonly notes: readonly string[];
}

/**
 * Computes every pipeline metric for `deals` as of `asOf` (a wall-clock date in UTC fields; the time of day is
 * ignored). Flow metrics (won, lost, created) cover `config.period`, ending on asOf inclusive; pipeline metrics are
 * as of asOf. `history` (from {@link deriveDealHistory}) adds stage-entry dates where the view has none, real stage
 * moves for conversion, and the 12-week trend. Labels, periods and reasons are written in `language` (default
 * English). Never throws on data: unavailable values carry their reason.
 */
export function computePipelineMetrics(
  deals: readonly Deal[],
  config: MetricsConfig,
  asOf: Date,
  history?: DealHistory,
  language: Language = 'en',
): PipelineMetrics {
  const b = prepareMetricsBasis(deals, config, asOf, history, createTranslator(language));
  const stale = findStaleDeals(b);
  const unqualified = findUnqualifiedDeals(b);
  const conversion = measureConversion(b);
  const sizeAndCycle = measureDealSizeAndCycle(b);
  const velocity = measureVelocity(b, {
    winRate: conversion.winRate,
    avgDealSize: sizeAndCycle.avgDealSize,
    avgCycle: sizeAndCycle.avgCycle,
  });
  const revenue = measureRevenueGrowth(b);
  const leadTarget = measureLeadTarget(b);
  const kpis = inSummaryOrder([
    ...measurePipelineCoverage(b).kpis,
    ...conversion.kpis,
    ...sizeAndCycle.kpis,
    ...velocity.kpis,
    ...revenue.kpis,
    ...leadTarget.kpis,
    ...stale.kpis,
    ...unqualified.kpis,
    ...measureCustomerValue(b).kpis,
  ]);

  return {
    language,
    asOf: b.asOfText,
    period: { start: isoDay(b.ctx.startDay), end: b.asOfText, days: b.ctx.periodDays, label: b.periodLabel },
    currency: config.currency,
    // Within a millionth of a cent of a whole amount is a whole amount (display values parsed as floats).
    amountsHaveCents: deals.some((d) => d.amount !== null && Math.abs(d.amount - Math.round(d.amount)) > 1e-6),
    dealCount: deals.length,
    kpis: deals.length === 0 ? withoutDeals(kpis, b.t) : kpis,
    funnel: conversion.funnel,
    staleDeals: stale.staleDeals,
    unqualifiedDeals: unqualified.unqualifiedDeals,
    qualificationStages: unqualified.qualificationStages,
    ...measureBreakdowns(b, stale.staleSet),
    monthlyRevenue: revenue.monthlyRevenue,
    leadTarget: leadTarget.leadTarget,
    ...measureHistorySeries(b),
    conversionUnknownLost: conversion.conversionUnknownLost,
    stageAgeBases: stale.stageAgeBases,
    notes: describeQualityNotes(b),
  };
}
