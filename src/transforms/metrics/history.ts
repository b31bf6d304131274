/**
 * Deal history derived from per-run snapshots (pure). Each run stores, per opportunity, its stage, amount and close
 * date under the run date; from that sequence we learn when a deal entered its current stage (when the view has no
 * stage-entered column), which stage-to-stage moves really happened, and how the pipeline looked week by week.
 */
import type { Deal } from './deal.js';
import { isoDay, parseIsoDay, toDay, weekStart } from './dates.js';

/** One opportunity in one run's snapshot, as stored by the state store. */
export interface SnapshotRow {
  /** `YYYY-MM-DD`: the run's as-of date. */
  readonly runDate: string;
  readonly dealId: string;
  readonly stage: string;
  readonly amount: number | null;
  /** `YYYY-MM-DD` or null. */
  readonly closeDate: string | null;
}

/**
 * When a deal entered its current stage, as far as snapshots can tell:
 * - `observed`: an earlier snapshot showed another stage, so the deal entered its stage after
 *   `previousSnapshotDate` and on or before `date` (we use `date`: snapshot precision, typically a day);
 * - `unchangedSince`: every snapshot of the deal shows this stage, so it entered on or before `date` (its first
 *   snapshot) — the true date is unknown, and days in stage are *at least* asOf − date.
 */
export type StageEntry =
  | { readonly kind: 'observed'; readonly date: string; readonly previousStage: string; readonly previousSnapshotDate: string }
  | { readonly kind: 'unchangedSince'; readonly date: string };

export interface DealStageHistory {
  readonly stageEntry: StageEntry;
  /** Distinct stages the deal has been seen in, in the order first seen (the current stage included). */
  readonly stagesSeen: readonly string[];
}

/** A stage change seen between two consecutive snapshots of a deal. */
export interface StageTransition {
  readonly dealId: string;
  readonly from: string;
  readonly to: string;
  /** Snapshot where the new stage was first seen, and the one before it (the move happened in between). */
  readonly date: string;
  readonly previousSnapshotDate: string;
  /** Amount in the snapshot that shows the new stage. */
  readonly amount: number | null;
}

export interface TrendStage {
  readonly stage: string;
  readonly count: number;
  /** Sum of known amounts. */
  readonly value: number;
}

export interface TrendWeek {
  /** Monday of the week, `YYYY-MM-DD`. */
  readonly weekStart: string;
  /** The latest snapshot of that week (up to asOf), or null when no run happened that week. */
  readonly snapshotDate: string | null;
  /** Count and value per stage in that snapshot, sorted by stage name (the sheet orders them by funnel). */
  readonly stages: readonly TrendStage[];
}

export interface DealHistory {
  /** The as-of date the history was derived for. */
  readonly asOf: string;
  /**
   * Distinct snapshot dates seen in the rows, ascending (the current run counts as the snapshot of asOf). From the
   * store's `loadHistory` this may miss runs where nothing changed; the first and the weekly dates are always there.
   */
  readonly snapshotDates: readonly string[];
  /** Per deal id (current deals and deals seen only in past snapshots). */
  readonly deals: ReadonlyMap<string, DealStageHistory>;
  /** Every stage change, ordered by date, then deal id. */
  readonly transitions: readonly StageTransition[];
  /** The last 12 ISO weeks up to the week of asOf, oldest first. */
  readonly trend: readonly TrendWeek[];
}

export const TREND_WEEKS = 12;

interface Point {
  readonly date: string;
  readonly stage: string;
  readonly amount: number | null;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Derives stage-entry dates, transitions and the 12-week trend from stored snapshots plus the current run's deals.
 * The current deals stand for the snapshot of `asOf` (replacing a stored one of the same date); snapshots after
 * `asOf` and rows with an unreadable run date are ignored. Pure: the result depends only on the arguments.
 */
export function deriveDealHistory(snapshots: readonly SnapshotRow[], current: readonly Pick<Deal, 'id' | 'stage' | 'amount'>[], asOf: Date): DealHistory {
  const asOfDay = toDay(asOf);
  const asOfText = isoDay(asOfDay);

  const points = new Map<string, Point[]>();
  const byDate = new Map<string, Map<string, Point>>();
  const add = (dealId: string, p: Point): void => {
    let perDate = byDate.get(p.date);
    if (perDate === undefined) {
      perDate = new Map();
      byDate.set(p.date, perDate);
    }
    // One point per deal per run date: the first one wins (duplicate ids in a view are kept once).
    if (perDate.has(dealId)) return;
    perDate.set(dealId, p);
    const list = points.get(dealId);
    if (list === undefined) points.set(dealId, [p]);
    else list.push(p);
  };

  for (const row of snapshots) {
    const day = parseIsoDay(row.runDate);
    if (day === undefined || day >= asOfDay) continue;
    add(row.dealId, { date: row.runDate, stage: row.stage, amount: row.amount });
  }
  for (const deal of current) add(deal.id, { date: asOfText, stage: deal.stage, amount: deal.amount });

  const snapshotDates = [...byDate.keys()].sort(compareText);
  const deals = new Map<string, DealStageHistory>();
  const transitions: StageTransition[] = [];

  for (const id of [...points.keys()].sort(compareText)) {
    const seq = (points.get(id) ?? []).sort((a, b) => compareText(a.date, b.date));
    const last = seq[seq.length - 1];
    if (last === undefined) continue;
    const stagesSeen: string[] = [];
    for (let i = 0; i < seq.length; i += 1) {
      const p = seq[i];
      const prev = seq[i - 1];
      if (p === undefined) continue;
      if (!stagesSeen.includes(p.stage)) stagesSeen.push(p.stage);
      if (prev !== undefined && prev.stage !== p.stage) {
        transitions.push({ dealId: id, from: prev.stage, to: p.stage, date: p.date, previousSnapshotDate: prev.date, amount: p.amount });
      }
    }
    // The final run of snapshots in the current stage starts at `start`.
    let start = seq.length - 1;
    while (start > 0 && seq[start - 1]?.stage === last.stage) start -= 1;
    const first = seq[start];
    const before = seq[start - 1];
    const stageEntry: StageEntry =
      first !== undefined && before !== undefined
        ? { kind: 'observed', date: first.date, previousStage: before.stage, previousSnapshotDate: before.date }
        : { kind: 'unchangedSince', date: first?.date ?? last.date };
    deals.set(id, { stageEntry, stagesSeen });
  }
  transitions.sort((a, b) => compareText(a.date, b.date) || compareText(a.dealId, b.dealId));

  const trend: TrendWeek[] = [];
  const lastWeek = weekStart(asOfDay);
  for (let w = TREND_WEEKS - 1; w >= 0; w -= 1) {
    const start = lastWeek - 7 * w;
    const end = Math.min(start + 6, asOfDay);
    let snapshotDate: string | null = null;
    for (const date of snapshotDates) {
      const day = parseIsoDay(date);
      if (day !== undefined && day >= start && day <= end) snapshotDate = date;
    }
    const stages = new Map<string, { count: number; value: number }>();
    if (snapshotDate !== null) {
      for (const p of byDate.get(snapshotDate)?.values() ?? []) {
        const s = stages.get(p.stage) ?? { count: 0, value: 0 };
        s.count += 1;
        if (p.amount !== null && Number.isFinite(p.amount)) s.value += p.amount;
        stages.set(p.stage, s);
      }
    }
    trend.push({
      weekStart: isoDay(start),
      snapshotDate,
      stages: [...stages.entries()].sort(([a], [b]) => compareText(a, b)).map(([stage, s]) => ({ stage, count: s.count, value: s.value })),
    });
  }

  return { asOf: asOfText, snapshotDates, deals, transitions, trend };
}
