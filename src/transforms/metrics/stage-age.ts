/** How long an open deal has been in its stage, from the best source available, and which source that was. */
import { parseIsoDay } from './dates.js';
import type { Deal } from './deal.js';
import { dayOf } from './deal-slices.js';
import type { DealHistory } from './history.js';

/** Days in the current stage and the source of that figure (shown next to it). */
export interface StageAge {
  readonly days: number;
  /** Where the days come from, shown next to them. */
  readonly basis: string;
}

/**
 * Days the deal has been in its stage as of `asOfDay`, and where that figure comes from; null when nothing tells.
 * Sources, best first: the view's stage-entered date; a stage change seen between snapshots (dated by the first
 * snapshot showing the new stage); the created date — an upper bound, exact for deals still in their first stage —
 * when snapshots never saw the stage change (or there are none); the first snapshot date — a lower bound, "at least" —
 * when the created date is missing too. Dates after asOf count as 0 days.
 */
export function daysInStage(deal: Deal, asOfDay: number, history: DealHistory | undefined): StageAge | null {
  const clamp = (d: number): number => Math.max(0, d);
  const entered = dayOf(deal.stageEnteredDate);
  if (entered !== null) return { days: clamp(asOfDay - entered), basis: 'stage entered date' };
  const entry = history?.deals.get(deal.id)?.stageEntry;
  if (entry?.kind === 'observed') {
    const day = parseIsoDay(entry.date);
    if (day !== undefined)
      return {
        days: clamp(asOfDay - day),
        basis: `snapshots: moved from ${entry.previousStage} between ${entry.previousSnapshotDate} and ${entry.date}`,
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
        basis: `since created (stage unchanged in snapshots since ${entry.date})`,
      };
    if (since !== undefined)
      return { days: clamp(asOfDay - since), basis: `at least (stage unchanged in snapshots since ${entry.date})` };
  }
  if (created !== null) return { days: clamp(asOfDay - created), basis: 'since created (no stage entered date)' };
  return null;
}
