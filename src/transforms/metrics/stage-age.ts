/** How long an open deal has been in its stage, from the best source available, and which source that was. */
import type { Translator } from '../../shared/i18n/translator.js';
import { fromDay, parseIsoDay } from './dates.js';
import type { Deal } from './deal.js';
import { dayOf } from './deal-slices.js';
import type { DealHistory } from './history.js';

/** Where the days in stage come from, best first. */
export type StageAgeSource = 'stageEntered' | 'snapshots' | 'sinceCreated' | 'atLeast';

/** Days in the current stage and the source of that figure (shown next to it). */
export interface StageAge {
  readonly days: number;
  readonly source: StageAgeSource;
  /** Where the days come from, in the workbook's language, shown next to them. */
  readonly basis: string;
}

/**
 * Days the deal has been in its stage as of `asOfDay`, and where that figure comes from; null when nothing tells.
 * Sources, best first: the view's stage-entered date; a stage change seen between snapshots (dated by the first
 * snapshot showing the new stage); the created date — an upper bound, exact for deals still in their first stage —
 * when snapshots never saw the stage change (or there are none); the first snapshot date — a lower bound, "at least" —
 * when the created date is missing too. Dates after asOf count as 0 days.
 */
export function daysInStage(
  deal: Deal,
  asOfDay: number,
  history: DealHistory | undefined,
  t: Translator,
): StageAge | null {
  const clamp = (d: number): number => Math.max(0, d);
  const dayText = (iso: string): string => {
    const day = parseIsoDay(iso);
    return day === undefined ? iso : t.day(fromDay(day));
  };
  const entered = dayOf(deal.stageEnteredDate);
  if (entered !== null)
    return { days: clamp(asOfDay - entered), source: 'stageEntered', basis: t.t('stageAge.entered') };
  const entry = history?.deals.get(deal.id)?.stageEntry;
  if (entry?.kind === 'observed') {
    const day = parseIsoDay(entry.date);
    if (day !== undefined)
      return {
        days: clamp(asOfDay - day),
        source: 'snapshots',
        basis: t.t('stageAge.observed', {
          stage: entry.previousStage,
          from: dayText(entry.previousSnapshotDate),
          to: dayText(entry.date),
        }),
      };
  }
  const created = dayOf(deal.createdDate);
  // A deal first seen in today's run has no history yet: fall through to the created date.
  if (entry?.kind === 'unchangedSince' && parseIsoDay(entry.date) !== asOfDay) {
    const since = parseIsoDay(entry.date);
    // Same stage in every snapshot: the created date bounds the entry from below; the first snapshot from above.
    if (created !== null && (since === undefined || created <= since))
      return {
        days: clamp(asOfDay - created),
        source: 'sinceCreated',
        basis: t.t('stageAge.createdUnchanged', { date: dayText(entry.date) }),
      };
    if (since !== undefined)
      return {
        days: clamp(asOfDay - since),
        source: 'atLeast',
        basis: t.t('stageAge.atLeast', { date: dayText(entry.date) }),
      };
  }
  if (created !== null)
    return { days: clamp(asOfDay - created), source: 'sinceCreated', basis: t.t('stageAge.created') };
  return null;
}
