/** Data-quality remarks printed with the metrics: what the figures left out, or counted with no value, and why. */
import type { MessageKey } from '../../../shared/i18n/translator.js';
import type { CheckedField } from '../deal.js';
import { compareText } from '../deal-slices.js';
import type { MetricsBasis } from '../metrics-basis.js';

const FIELD_KEY: Readonly<Record<CheckedField, MessageKey>> = {
  amount: 'quality.field.amount',
  probability: 'quality.field.probability',
  createdDate: 'quality.field.createdDate',
  closeDate: 'quality.field.closeDate',
  stageEnteredDate: 'quality.field.stageEnteredDate',
  won: 'quality.field.won',
  closed: 'quality.field.closed',
};

/**
 * One sentence per remark, in the workbook's language and a fixed order: unreadable values per field, stages not in
 * `metrics.stages`, repeated ids, closed deals without a close date, deals without a created date, open deals
 * without an amount, and a customer-type column with no values. Empty when the deals are clean.
 */
export function describeQualityNotes(b: MetricsBasis): string[] {
  const { deals, t } = b;
  const { config } = b.ctx;
  const notes: string[] = [];
  const bad = new Map<CheckedField, number>();
  for (const d of deals) for (const p of d.problems) bad.set(p, (bad.get(p) ?? 0) + 1);
  for (const [field, n] of [...bad.entries()].sort(([a], [b]) => compareText(a, b))) {
    notes.push(t.plural('quality.unreadable', n, { field: t.t(FIELD_KEY[field]) }));
  }
  const unknown = new Map<string, number>();
  for (const d of deals) if (!d.stageKnown) unknown.set(d.stage, (unknown.get(d.stage) ?? 0) + 1);
  if (unknown.size > 0) {
    const list = [...unknown.entries()]
      .sort(([a], [b]) => compareText(a, b))
      .map(([stage, n]) => `"${stage === '' ? t.t('group.blank') : stage}" (${t.number(n)})`)
      .join(', ');
    notes.push(t.t('quality.unknownStages', { list }));
  }
  const ids = new Set<string>();
  let duplicates = 0;
  for (const d of deals) {
    if (ids.has(d.id)) duplicates += 1;
    ids.add(d.id);
  }
  if (duplicates > 0) notes.push(t.plural('quality.duplicates', duplicates));
  const closedNoDate = deals.filter((d) => d.outcome !== 'open' && d.closeDate === null).length;
  if (closedNoDate > 0) notes.push(t.plural('quality.closedNoDate', closedNoDate));
  const noCreated = deals.filter((d) => d.createdDate === null).length;
  if (noCreated > 0) notes.push(t.plural('quality.noCreated', noCreated));
  const openNoAmount = b.slices.open.filter((d) => d.amount === null).length;
  if (openNoAmount > 0) notes.push(t.plural('quality.openNoAmount', openNoAmount));
  if (config.columns.customerType !== null && deals.length > 0 && deals.every((d) => d.customerTypeLabel === null)) {
    notes.push(t.t('quality.noCustomerType'));
  }
  return notes;
}
