/** Breakdowns of the pipeline by a dimension (owner, product, region, deal-size band, customer type, lead source). */
import type { Translator } from '../../shared/i18n/translator.js';
import type { Deal } from './deal.js';
import { compareText, measureAvgDealSize, measureWinRate, slice, sumAmounts, type Context } from './deal-slices.js';
import type { Figure } from './figure.js';

/** One group of a breakdown: flow figures over the period, open and stale figures as of asOf. */
export interface BreakdownRow {
  readonly group: string;
  readonly created: number;
  readonly open: number;
  readonly openValue: number;
  readonly closed: number;
  readonly won: number;
  readonly wonValue: number;
  readonly winRate: Figure;
  readonly avgDealSize: Figure;
  readonly stale: number;
}

/** The dimensions the pipeline is broken down by. */
export type DimensionKey = 'owner' | 'product' | 'region' | 'dealSize' | 'customer' | 'leadSource';

/** A breakdown by one dimension. */
export interface Breakdown {
  readonly key: DimensionKey;
  /** Its name in the workbook's language (`Owner`, `Deal size`). */
  readonly dimension: string;
  /** False when the view has no column for this dimension (the rows are then empty). */
  readonly available: boolean;
  readonly rows: readonly BreakdownRow[];
}

/**
 * Labels of the deal-size bands (`under $10,000`, `$10,000 to under $50,000`, ..., `(no amount)`) in band order, in
 * `t`'s language.
 */
export function bandLabels(
  bounds: readonly number[],
  currency: string,
  t: Translator,
): { label: (amount: number | null) => string; order: readonly string[] } {
  const money = (amount: number): string => t.money(amount, currency);
  const labels: string[] = [];
  bounds.forEach((b, i) => {
    const prev = bounds[i - 1];
    labels.push(
      prev === undefined
        ? t.t('band.under', { amount: money(b) })
        : t.t('band.between', { from: money(prev), to: money(b) }),
    );
  });
  const top = bounds[bounds.length - 1];
  labels.push(top === undefined ? t.t('band.all') : t.t('band.over', { amount: money(top) }));
  const noAmount = t.t('group.noAmount');
  labels.push(noAmount);
  return {
    order: labels,
    label: (amount) => {
      if (amount === null) return noAmount;
      const i = bounds.findIndex((b) => amount < b);
      return labels[i < 0 ? bounds.length : i] ?? noAmount;
    },
  };
}

/**
 * Groups `deals` by `keyOf` (blank → `(blank)`) and measures each group. Rows are sorted by `fixedOrder` when given,
 * else by won value, then open value (largest first), then name, with `(blank)` last.
 */
export function breakdown(
  key: DimensionKey,
  deals: readonly Deal[],
  keyOf: (d: Deal) => string | null,
  available: boolean,
  ctx: Context,
  staleIds: ReadonlySet<Deal>,
  fixedOrder?: readonly string[],
): Breakdown {
  const dimension = ctx.t.t(`dimension.${key}`);
  if (!available) return { key, dimension, available, rows: [] };
  const blank = ctx.t.t('group.blank');
  const groups = new Map<string, Deal[]>();
  for (const d of deals) {
    const group = keyOf(d) ?? blank;
    const list = groups.get(group);
    if (list === undefined) groups.set(group, [d]);
    else list.push(d);
  }
  const rows: BreakdownRow[] = [];
  for (const [group, members] of groups) {
    const s = slice(members, ctx);
    rows.push({
      group,
      created: s.createdInPeriod.length,
      open: s.open.length,
      openValue: sumAmounts(s.open),
      closed: s.wonInPeriod.length + s.lostInPeriod.length,
      won: s.wonInPeriod.length,
      wonValue: sumAmounts(s.wonInPeriod),
      winRate: measureWinRate(s, ctx).value,
      avgDealSize: measureAvgDealSize(s, ctx).value,
      stale: members.filter((d) => staleIds.has(d)).length,
    });
  }
  const rank = (g: string): number => {
    const i = fixedOrder?.indexOf(g) ?? -1;
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  rows.sort((a, b) =>
    fixedOrder !== undefined
      ? rank(a.group) - rank(b.group) || compareText(a.group, b.group)
      : (a.group === blank ? 1 : 0) - (b.group === blank ? 1 : 0) ||
        b.wonValue - a.wonValue ||
        b.openValue - a.openValue ||
        compareText(a.group, b.group),
  );
  return { key, dimension, available, rows };
}
