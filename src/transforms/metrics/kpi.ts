/** A headline KPI of the Summary sheet: its value, unit, what it rests on and the period it covers. */
import type { Translator } from '../../shared/i18n/translator.js';
import { KPI_KEYS, type KpiKey } from './definitions.js';
import { finite, isAvailable, notAvailable, type Figure } from './figure.js';

/** How a KPI value is shown. `ratio` is a plain multiple (coverage 3.2 = 3.2×). */
export type KpiUnit = 'currency' | 'currencyPerDay' | 'percent' | 'days' | 'ratio' | 'count';

export interface Kpi {
  readonly key: KpiKey;
  /** Its name in the workbook's language. */
  readonly label: string;
  readonly value: Figure;
  readonly unit: KpiUnit;
  /** What the value rests on: how many of what (e.g. 37 "won deals closed in the period"). */
  readonly basis: { readonly count: number; readonly of: string };
  /** The period the value covers, e.g. `28 Nov 2025 – 27 Nov 2026` or `as of 27 Nov 2026`. */
  readonly period: string;
}

/**
 * A KPI named in `t`'s language, whose value is a finite number or says why not: an available value that is not
 * finite (sums of absurd amounts such as 1e308 can overflow) becomes `n/a (amounts too large to add up)`.
 */
export function kpi(
  t: Translator,
  key: KpiKey,
  value: Figure,
  unit: KpiUnit,
  count: number,
  of: string,
  period: string,
): Kpi {
  return {
    key,
    label: t.t(`kpi.${key}`),
    value: isAvailable(value) ? finite(value, t.t('reason.tooLarge')) : value,
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
export function withoutDeals(kpis: readonly Kpi[], t: Translator): Kpi[] {
  // The target is an input, not data; everything else has nothing to rest on.
  return kpis.map((k) =>
    k.key === 'leadTarget' || (!isAvailable(k.value) && k.value.kind === 'input missing')
      ? k
      : { ...k, value: notAvailable(t.t('reason.noDealsInView')) },
  );
}
