/**
 * What every metric family starts from: the deals, the context (config, as-of day, period, open stages, history),
 * the period slices and the two period labels. Derived once from the deals, the config and `asOf`, so each family
 * is a pure function of the same inputs.
 */
import type { Translator } from '../../shared/i18n/translator.js';
import type { MetricsConfig } from './config.js';
import { fromDay, isoDay, toDay } from './dates.js';
import type { Deal } from './deal.js';
import { resolvePeriod, slice, type Context, type Slices } from './deal-slices.js';
import type { DealHistory } from './history.js';

export interface MetricsBasis {
  readonly deals: readonly Deal[];
  readonly ctx: Context;
  readonly slices: Slices;
  /** `YYYY-MM-DD` of asOf. */
  readonly asOfText: string;
  /** The period of the flow metrics as dates, `28 Nov 2025 – 27 Nov 2026`, in the workbook's language. */
  readonly periodLabel: string;
  /** The date of the pipeline metrics, `as of 27 Nov 2026`. */
  readonly nowLabel: string;
  /** The texts of the workbook's language. */
  readonly t: Translator;
}

/** The basis of the metrics of `deals` as of `asOf` (its UTC date; the time of day is ignored). */
export function prepareMetricsBasis(
  deals: readonly Deal[],
  config: MetricsConfig,
  asOf: Date,
  history: DealHistory | undefined,
  t: Translator,
): MetricsBasis {
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
    t,
  };
  const asOfText = isoDay(asOfDay);
  return {
    deals,
    ctx,
    slices: slice(deals, ctx),
    asOfText,
    periodLabel: t.dayRange(fromDay(startDay), fromDay(asOfDay)),
    nowLabel: t.t('period.asOf', { date: t.day(fromDay(asOfDay)) }),
    t,
  };
}
