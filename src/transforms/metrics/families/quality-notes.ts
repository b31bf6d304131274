/** Data-quality remarks printed with the metrics: what the figures left out, or counted with no value, and why. */
import { CHECKED_FIELD_LABEL, type CheckedField } from '../deal.js';
import { compareText, plural } from '../deal-slices.js';
import type { MetricsBasis } from '../metrics-basis.js';

/**
 * One sentence per remark, in a fixed order: unreadable values per field, stages not in `metrics.stages`, repeated
 * ids, closed deals without a close date, deals without a created date, open deals without an amount, and a
 * customer-type column with no values. Empty when the deals are clean.
 */
export function describeQualityNotes(b: MetricsBasis): string[] {
  const { deals } = b;
  const { config } = b.ctx;
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
  const openNoAmount = b.slices.open.filter((d) => d.amount === null).length;
  if (openNoAmount > 0) notes.push(`${plural(openNoAmount, 'open deal')} without an amount, counted with no value`);
  if (config.columns.customerType !== null && deals.length > 0 && deals.every((d) => d.customerTypeLabel === null)) {
    notes.push('no customer-type values: new vs existing figures and CAC are unavailable');
  }
  return notes;
}
