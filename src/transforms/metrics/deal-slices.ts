/**
 * The period slices of a deal list (open now; won, lost and created in the period) and the measures taken over a
 * slice (win rate, average deal size, sales cycle), shared by the KPIs and every breakdown so a group's win rate is
 * computed exactly like the headline one.
 */
import type { Translator } from '../../shared/i18n/translator.js';
import type { MetricsConfig } from './config.js';
import { parseIsoDay, toDay } from './dates.js';
import type { Deal } from './deal.js';
import { divide, notAvailable, type Figure } from './figure.js';
import { average } from './formulas.js';
import type { DealHistory } from './history.js';

/** Everything the measures need besides the deals: config, as-of day, period and the open stages in funnel order. */
export interface Context {
  readonly config: MetricsConfig;
  readonly asOfDay: number;
  readonly startDay: number;
  readonly periodDays: number;
  readonly openStages: readonly string[];
  readonly openIndex: ReadonlyMap<string, number>;
  readonly history: DealHistory | undefined;
  /** The texts of the workbook's language (reasons of n/a values, labels). */
  readonly t: Translator;
}

/** Code-point order: deterministic whatever the machine's locale. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Day number of a date, or null for a blank (or invalid) date. */
export function dayOf(date: Date | null): number | null {
  return date === null || Number.isNaN(date.getTime()) ? null : toDay(date);
}

/** Sum of the known amounts (blank amounts add nothing). */
export function sumAmounts(deals: readonly Deal[]): number {
  let total = 0;
  for (const d of deals) if (d.amount !== null) total += d.amount;
  return total;
}

/** The deals that have an amount. */
export function withAmount(deals: readonly Deal[]): Deal[] {
  return deals.filter((d) => d.amount !== null);
}

/**
 * Sum of amount × probability over the deals that have both; `n/a (no probability values)` when there are deals but
 * none has a probability. `count` is how many deals have both.
 */
export function measureWeightedValue(
  deals: readonly Deal[],
  t: Translator,
): { readonly value: Figure; readonly count: number } {
  const withProbability = deals.filter((d) => d.amount !== null && d.probability !== null);
  let weighted = 0;
  for (const d of withProbability) weighted += (d.amount ?? 0) * (d.probability ?? 0);
  return {
    value: deals.length > 0 && withProbability.length === 0 ? notAvailable(t.t('reason.noProbability')) : weighted,
    count: withProbability.length,
  };
}

/** Period of the flow metrics as day numbers; `from` after asOf gives a one-day period ending at asOf. */
export function resolvePeriod(config: MetricsConfig, asOfDay: number): { startDay: number; days: number } {
  const start =
    'lastDays' in config.period
      ? asOfDay - config.period.lastDays + 1
      : Math.min(parseIsoDay(config.period.from) ?? asOfDay, asOfDay);
  return { startDay: start, days: asOfDay - start + 1 };
}

/** A deal list cut by period: open now, won/lost (closed) in the period, created in the period. */
export interface Slices {
  readonly open: Deal[];
  readonly wonInPeriod: Deal[];
  readonly lostInPeriod: Deal[];
  readonly createdInPeriod: Deal[];
}

/** Cuts `deals` into {@link Slices}; closed deals without a close date fall in no period. */
export function slice(deals: readonly Deal[], ctx: Context): Slices {
  const inPeriod = (day: number | null): boolean => day !== null && day >= ctx.startDay && day <= ctx.asOfDay;
  const open: Deal[] = [];
  const wonInPeriod: Deal[] = [];
  const lostInPeriod: Deal[] = [];
  const createdInPeriod: Deal[] = [];
  for (const d of deals) {
    if (d.outcome === 'open') open.push(d);
    else if (inPeriod(dayOf(d.closeDate))) (d.outcome === 'won' ? wonInPeriod : lostInPeriod).push(d);
    if (inPeriod(dayOf(d.createdDate))) createdInPeriod.push(d);
  }
  return { open, wonInPeriod, lostInPeriod, createdInPeriod };
}

/** A measure, how many deals it rests on, and what those deals are. */
export interface Measured {
  readonly value: Figure;
  readonly count: number;
  readonly of: string;
}

/** Win rate of a slice in the configured variant (count, byValue, wonOverCreated). */
export function measureWinRate(s: Slices, ctx: Context): Measured {
  const { t } = ctx;
  switch (ctx.config.winRate) {
    case 'byValue': {
      const won = withAmount(s.wonInPeriod);
      const lost = withAmount(s.lostInPeriod);
      return {
        value: divide(
          sumAmounts(won),
          sumAmounts(won) + sumAmounts(lost),
          t.t(won.length + lost.length === 0 ? 'reason.noClosedInPeriod' : 'reason.closedNoValue'),
        ),
        count: won.length + lost.length,
        of: t.t('basis.closedWithAmount'),
      };
    }
    case 'wonOverCreated': {
      const won = s.createdInPeriod.filter((d) => d.outcome === 'won').length;
      return {
        value: divide(won, s.createdInPeriod.length, t.t('reason.noCreatedInPeriod')),
        count: s.createdInPeriod.length,
        of: t.t('basis.createdInPeriod'),
      };
    }
    case 'count': {
      const n = s.wonInPeriod.length + s.lostInPeriod.length;
      return {
        value: divide(s.wonInPeriod.length, n, t.t('reason.noClosedInPeriod')),
        count: n,
        of: t.t('basis.closedInPeriod'),
      };
    }
  }
}

/** Average deal size of a slice in the configured variant (won, closed, all). */
export function measureAvgDealSize(s: Slices, ctx: Context): Measured {
  const { t } = ctx;
  switch (ctx.config.averageDealSize) {
    case 'closed': {
      const deals = withAmount([...s.wonInPeriod, ...s.lostInPeriod]);
      return {
        value: average(sumAmounts(deals), deals.length, t.t('reason.noClosedDeals')),
        count: deals.length,
        of: t.t('basis.closedWithAmount'),
      };
    }
    case 'all': {
      const deals = withAmount([...s.wonInPeriod, ...s.lostInPeriod, ...s.open]);
      return {
        value: average(sumAmounts(deals), deals.length, t.t('reason.noDeals')),
        count: deals.length,
        of: t.t('basis.closedAndOpenWithAmount'),
      };
    }
    case 'won': {
      const deals = withAmount(s.wonInPeriod);
      return {
        value: average(sumAmounts(deals), deals.length, t.t('reason.noWonDeals')),
        count: deals.length,
        of: t.t('basis.wonWithAmount'),
      };
    }
  }
}

/** Average days from created to close over the won deals of a slice (deals missing a date, or closing before creation, are left out). */
export function measureSalesCycle(s: Slices, t: Translator): Measured {
  let total = 0;
  let count = 0;
  for (const d of s.wonInPeriod) {
    const created = dayOf(d.createdDate);
    const closed = dayOf(d.closeDate);
    // A close before creation is a data error, not a negative cycle.
    if (created === null || closed === null || closed < created) continue;
    total += closed - created;
    count += 1;
  }
  const reason = t.t(s.wonInPeriod.length === 0 ? 'reason.noWonDeals' : 'reason.noWonWithDates');
  return { value: average(total, count, reason), count, of: t.t('basis.wonWithBothDates') };
}
