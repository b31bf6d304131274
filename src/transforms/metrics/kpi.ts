/** A headline KPI of the Summary sheet: its value, unit, what it rests on and the period it covers. */
import { KPI_KEYS, type KpiKey } from './definitions.js';
import { finite, isAvailable, notAvailable, type Figure } from './figure.js';

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

/**
 * A KPI whose value is a finite number or says why not: an available value that is not finite (sums of absurd
 * amounts such as 1e308 can overflow) becomes `n/a (amounts too large to add up)`.
 */
export function kpi(
  key: KpiKey,
  label: string,
  value: Figure,
  unit: KpiUnit,
  count: number,
  of: string,
  period: string,
): Kpi {
  return {
    key,
    label,
    value: isAvailable(value) ? finite(value, 'amounts too large to add up') : value,
    unit,
    basis: { count, of },
    period,
  };
}

const SUMMARY_RANK = new Map<KpiKey, number>(KPI_KEYS.map((key, i) => [key, i]));

/** The KPIs in Summary order ({@link KPI_KEYS}), whichever family computed them. */
export function inSummaryOrder(kpis: readonly Kpi[]): Kpi[] {
  return [...kpis].sort((a, b) => (SUMMARY_RANK.get(a.key) ?? 0) - (SUMMARY_RANK.get(b.key) ?? 0));
}

/**
 * The KPIs of a view without deals: every value becomes `n/a (no deals in the view)` except the lead target and
 * values waiting for a missing input.
 */
export function withoutDeals(kpis: readonly Kpi[]): Kpi[] {
  // The target is an input, not data; everything else has nothing to rest on.
  return kpis.map((k) =>
    k.key === 'leadTarget' || (!isAvailable(k.value) && k.value.kind === 'input missing')
      ? k
      : { ...k, value: notAvailable('no deals in the view') },
  );
}
