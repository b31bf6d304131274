/** Time series of the metrics: won revenue by month, new pipeline against the lead target, stage moves. */
import { fromDay, monthIndex, monthLabel, monthStartDay } from './dates.js';
import type { Deal } from './deal.js';
import { compareText, dayOf, type Context, type Slices } from './deal-slices.js';
import { divide, isAvailable, type Figure } from './figure.js';
import { growthRate, leadGenerationTarget } from './formulas.js';
import type { DealHistory } from './history.js';

/**
 * Won revenue of one calendar month and its growth over the month before. The month of asOf, when asOf is not its
 * last day, is the month to date: its growth is measured against the same days of the month before (days 1 to
 * asOf's day, or the whole month before when that is shorter), never against a whole month.
 */
export interface MonthRevenue {
  /** `YYYY-MM`. */
  readonly month: string;
  /** First day of the month (UTC midnight). */
  readonly monthStart: Date;
  /** True for the month of asOf when asOf is not its last day. */
  readonly toDate: boolean;
  /** The last day the revenue covers: the month's last day, or asOf for the month to date. */
  readonly lastDay: Date;
  readonly revenue: number;
  readonly wonDeals: number;
  /** The days of the month before that the growth compares with (inclusive). */
  readonly comparedFrom: Date;
  readonly comparedTo: Date;
  /** Won revenue of those days. */
  readonly comparedRevenue: number;
  readonly growth: Figure;
}

/** One day or week of new pipeline against the cumulative lead-generation target. */
export interface LeadTargetRow {
  /** Last day of the bucket (a day, or a 7-day week counted from the period start). */
  readonly date: Date;
  readonly daysElapsed: number;
  readonly newPipeline: number;
  readonly cumulativeActual: number;
  readonly cumulativeTarget: Figure;
  readonly gap: Figure;
  readonly attainment: Figure;
}

/** The lead-target series: daily rows for periods up to 62 days, else 7-day rows from the period start. */
export interface LeadTargetSeries {
  readonly perDay: number | null;
  readonly granularity: 'day' | 'week';
  readonly rows: readonly LeadTargetRow[];
}

/** How many times deals moved from one stage to another between snapshots. */
export interface TransitionCount {
  readonly from: string;
  readonly to: string;
  readonly direction: 'forward' | 'backward' | 'won' | 'lost' | 'other';
  readonly moves: number;
  readonly value: number;
}

/** New pipeline (amounts of deals created) per day or week of the period, cumulated against `leadTargetPerDay` × days. */
export function leadTargetSeries(s: Slices, ctx: Context): LeadTargetSeries {
  const perDay = ctx.config.leadTargetPerDay;
  const granularity = ctx.periodDays <= 62 ? 'day' : 'week';
  const step = granularity === 'day' ? 1 : 7;
  const daily = new Array<number>(ctx.periodDays).fill(0);
  for (const d of s.createdInPeriod) {
    const day = dayOf(d.createdDate);
    if (day !== null && d.amount !== null) daily[day - ctx.startDay] = (daily[day - ctx.startDay] ?? 0) + d.amount;
  }
  const rows: LeadTargetRow[] = [];
  let cumulative = 0;
  for (let offset = 0; offset < ctx.periodDays; offset += step) {
    const last = Math.min(offset + step, ctx.periodDays);
    let bucket = 0;
    for (let i = offset; i < last; i += 1) bucket += daily[i] ?? 0;
    cumulative += bucket;
    const target = leadGenerationTarget(perDay, last);
    rows.push({
      date: fromDay(ctx.startDay + last - 1),
      daysElapsed: last,
      newPipeline: bucket,
      cumulativeActual: cumulative,
      cumulativeTarget: target,
      gap: isAvailable(target) ? cumulative - target : target,
      attainment: isAvailable(target) ? divide(cumulative, target, ctx.t.t('reason.targetZero')) : target,
    });
  }
  return { perDay: perDay ?? null, granularity, rows };
}

/**
 * Won revenue per calendar month from the period start month to the asOf month (growth uses the month before even
 * if outside the period); the asOf month is compared with the same days of the month before unless asOf is its
 * last day (see {@link MonthRevenue}).
 */
export function monthlyRevenue(deals: readonly Deal[], ctx: Context): MonthRevenue[] {
  const { t } = ctx;
  // Per close day: a month's revenue, or part of one, is a sum over at most 31 days.
  const byDay = new Map<number, { revenue: number; won: number }>();
  for (const d of deals) {
    const day = dayOf(d.closeDate);
    if (d.outcome !== 'won' || day === null || day > ctx.asOfDay) continue;
    const r = byDay.get(day) ?? { revenue: 0, won: 0 };
    r.revenue += d.amount ?? 0;
    r.won += 1;
    byDay.set(day, r);
  }
  const sum = (fromDayNumber: number, toDayNumber: number): { revenue: number; won: number } => {
    const total = { revenue: 0, won: 0 };
    for (let day = fromDayNumber; day <= toDayNumber; day += 1) {
      const r = byDay.get(day);
      if (r !== undefined) {
        total.revenue += r.revenue;
        total.won += r.won;
      }
    }
    return total;
  };
  const first = monthIndex(ctx.startDay);
  const last = monthIndex(ctx.asOfDay);
  const asOfIsMonthEnd = monthIndex(ctx.asOfDay + 1) !== last;
  const rows: MonthRevenue[] = [];
  for (let m = first; m <= last; m += 1) {
    const start = monthStartDay(m);
    const toDate = m === last && !asOfIsMonthEnd;
    const end = toDate ? ctx.asOfDay : monthStartDay(m + 1) - 1;
    const previousStart = monthStartDay(m - 1);
    // The same days of the month before: 1 to asOf's day of the month, at most that month's last day.
    const previousEnd = toDate ? Math.min(previousStart + (end - start), start - 1) : start - 1;
    const current = sum(start, end);
    const compared = sum(previousStart, previousEnd);
    const comparedText = toDate
      ? t.dayRange(fromDay(previousStart), fromDay(previousEnd))
      : t.month(fromDay(previousStart));
    rows.push({
      month: monthLabel(m),
      monthStart: fromDay(start),
      toDate,
      lastDay: fromDay(end),
      revenue: current.revenue,
      wonDeals: current.won,
      comparedFrom: fromDay(previousStart),
      comparedTo: fromDay(previousEnd),
      comparedRevenue: compared.revenue,
      growth: growthRate(current.revenue, compared.revenue, t.t('reason.noRevenueIn', { month: comparedText })),
    });
  }
  return rows;
}

/** Stage moves of the history aggregated by (from, to), in funnel order of `from`, then `to`. */
export function transitionCounts(history: DealHistory, ctx: Context): TransitionCount[] {
  const order = new Map(ctx.config.stages.map((s, i) => [s, i]));
  const won = new Set(ctx.config.wonStages);
  const lost = new Set(ctx.config.lostStages);
  const counts = new Map<string, TransitionCount & { moves: number; value: number }>();
  for (const t of history.transitions) {
    const key = `${t.from}\u0000${t.to}`;
    let c = counts.get(key);
    if (c === undefined) {
      const a = order.get(t.from);
      const b = order.get(t.to);
      const direction = won.has(t.to)
        ? 'won'
        : lost.has(t.to)
          ? 'lost'
          : a === undefined || b === undefined
            ? 'other'
            : b > a
              ? 'forward'
              : 'backward';
      c = { from: t.from, to: t.to, direction, moves: 0, value: 0 };
      counts.set(key, c);
    }
    c.moves += 1;
    c.value += t.amount ?? 0;
  }
  const rank = (s: string): number => order.get(s) ?? Number.MAX_SAFE_INTEGER;
  return [...counts.values()].sort(
    (a, b) =>
      rank(a.from) - rank(b.from) || compareText(a.from, b.from) || rank(a.to) - rank(b.to) || compareText(a.to, b.to),
  );
}
