/**
 * Deal history derived from per-run snapshots (pure). Each run observes, per opportunity, its stage, amount and close
 * date on the run date; from that sequence we learn when a deal entered its current stage (when the view has no
 * stage-entered column), which stage-to-stage moves really happened, and how the pipeline looked week by week.
 *
 * The state store keeps changes, not copies: a deal's state (stage, amount, close date) is stored once with the first
 * and last run that saw it ({@link DealStateRow}), so history costs O(deals + changes) rather than O(deals × runs).
 * Per-run rows ({@link SnapshotRow}) are still accepted: each row is a state seen in that one run.
 */
import type { Deal } from './deal.js';
import { isoDay, parseIsoDay, toDay, weekStart } from './dates.js';
import type { DealStateRow, SnapshotHistory, SnapshotRow } from '../../contracts/snapshot-store.js';

export type { DealStateRow, SnapshotHistory, SnapshotRow } from '../../contracts/snapshot-store.js';

/**
 * When a deal entered its current stage, as far as snapshots can tell:
 * - `observed`: an earlier snapshot showed another stage, so the deal entered its stage after
 *   `previousSnapshotDate` and on or before `date` (we use `date`: snapshot precision, typically a day);
 * - `unchangedSince`: every snapshot of the deal shows this stage, so it entered on or before `date` (its first
 *   snapshot) — the true date is unknown, and days in stage are *at least* asOf − date.
 */
export type StageEntry =
  | {
      readonly kind: 'observed';
      readonly date: string;
      readonly previousStage: string;
      readonly previousSnapshotDate: string;
    }
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
  /** Dates of the runs that saw deals, before asOf, ascending, then asOf (the current run) when it has deals. */
  readonly snapshotDates: readonly string[];
  /** Per deal id (current deals and deals seen only in past snapshots). */
  readonly deals: ReadonlyMap<string, DealStageHistory>;
  /** Every stage change, ordered by date, then deal id. */
  readonly transitions: readonly StageTransition[];
  /** The last 12 ISO weeks up to the week of asOf, oldest first. */
  readonly trend: readonly TrendWeek[];
}

export const TREND_WEEKS = 12;

/** A stored state after clipping to the runs before asOf, or the current run's observation (first = last = asOf). */
interface Span {
  readonly first: number;
  readonly last: number;
  readonly firstText: string;
  readonly lastText: string;
  readonly stage: string;
  readonly amount: number | null;
}

interface StageTotal {
  count: number;
  value: number;
}

type CurrentDeal = Pick<Deal, 'id' | 'stage' | 'amount'>;

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Per-run rows as states: each row is a state seen in that run only. */
function historyFromRows(rows: readonly SnapshotRow[]): SnapshotHistory {
  const dates = new Set<string>();
  const states: DealStateRow[] = [];
  for (const r of rows) {
    dates.add(r.runDate);
    states.push({ dealId: r.dealId, stage: r.stage, amount: r.amount, firstDate: r.runDate, lastDate: r.runDate });
  }
  return { runDates: [...dates], states };
}

function isRowList(value: readonly SnapshotRow[] | SnapshotHistory): value is readonly SnapshotRow[] {
  return Array.isArray(value);
}

function addTo(totals: Map<string, StageTotal>, stage: string, amount: number | null): void {
  let t = totals.get(stage);
  if (t === undefined) {
    t = { count: 0, value: 0 };
    totals.set(stage, t);
  }
  t.count += 1;
  if (amount !== null && Number.isFinite(amount)) t.value += amount;
}

/** `parseIsoDay` memoised: states repeat a few dozen dates hundreds of thousands of times. */
function createDayParser(): (text: string) => number | undefined {
  const cache = new Map<string, number | undefined>();
  return (text) => {
    if (cache.has(text)) return cache.get(text);
    const day = parseIsoDay(text);
    cache.set(text, day);
    return day;
  };
}

/** One trend week: its Monday, the snapshot standing for it (null when no run that week) and its stage totals. */
interface TrendBucket {
  readonly start: number;
  readonly day: number | null;
  readonly totals: Map<string, StageTotal>;
}

/** A trend week whose snapshot is a stored one (before asOf). */
type StoredTrendBucket = TrendBucket & { readonly day: number };

/** The stored states kept (clipped to before asOf), as indexes into `states` in walking order. */
interface OrderedStates {
  readonly states: readonly DealStateRow[];
  /** Parsed first and (clipped) last day per state index. */
  readonly firstDays: Float64Array;
  readonly lastDays: Float64Array;
  /** Deal id order, then first day. */
  readonly order: readonly number[];
}

/** Everything the per-deal walk reads and fills. */
interface Walk {
  readonly asOfDay: number;
  readonly asOfText: string;
  readonly dayOf: (text: string) => number | undefined;
  readonly storedTrend: readonly StoredTrendBucket[];
  readonly deals: Map<string, DealStageHistory>;
  readonly transitions: StageTransition[];
  // Most deals never move: share their (immutable) stage entry and stages-seen list rather than allocate one each.
  readonly unchangedSince: Map<string, StageEntry>;
  readonly onlyStage: Map<string, readonly string[]>;
}

/** The last {@link TREND_WEEKS} weeks up to asOf, each with the latest snapshot day of the week up to asOf. */
function trendBuckets(snapshotDays: readonly number[], asOfDay: number): TrendBucket[] {
  const buckets: TrendBucket[] = [];
  const lastWeek = weekStart(asOfDay);
  for (let w = TREND_WEEKS - 1; w >= 0; w -= 1) {
    const start = lastWeek - 7 * w;
    const end = Math.min(start + 6, asOfDay);
    let day: number | null = null;
    for (const d of snapshotDays) if (d >= start && d <= end) day = d;
    buckets.push({ start, day, totals: new Map() });
  }
  return buckets;
}

/**
 * Stored states before asOf, clipped to the last run before it, in deal id order, then first date (a stable sort:
 * of two states of a deal starting the same day, the first given comes first). States with an unreadable or
 * reversed date are dropped.
 */
function orderStoredStates(
  states: readonly DealStateRow[],
  dayOf: (text: string) => number | undefined,
  asOfDay: number,
  lastRunBefore: number | undefined,
): OrderedStates {
  const firstDays = new Float64Array(states.length);
  const lastDays = new Float64Array(states.length);
  const order: number[] = [];
  for (let i = 0; i < states.length; i += 1) {
    const s = states[i];
    if (s === undefined) continue;
    const first = dayOf(s.firstDate);
    const last = dayOf(s.lastDate);
    if (first === undefined || last === undefined || last < first || first >= asOfDay) continue;
    firstDays[i] = first;
    lastDays[i] = last < asOfDay ? last : Math.max(first, lastRunBefore ?? first);
    order.push(i);
  }
  order.sort(
    (a, b) =>
      compareText(states[a]?.dealId ?? '', states[b]?.dealId ?? '') || (firstDays[a] ?? 0) - (firstDays[b] ?? 0),
  );
  return { states, firstDays, lastDays, order };
}

/**
 * Fills `seq` with the spans of deal `id` from its stored states, starting at `order[si]`, less any overlapping an
 * earlier one (a repeated observation). Returns the index of the next deal's first state.
 */
function readStoredSpans(seq: Span[], ordered: OrderedStates, si: number, id: string, walk: Walk): number {
  const { states, firstDays, lastDays, order } = ordered;
  for (; si < order.length; si += 1) {
    const i = order[si] ?? 0;
    const s = states[i];
    if (s === undefined || s.dealId !== id) break;
    const first = firstDays[i] ?? 0;
    const last = lastDays[i] ?? 0;
    const prev = seq[seq.length - 1];
    if (prev !== undefined && first <= prev.last) continue;
    seq.push({
      first,
      last,
      firstText: s.firstDate,
      lastText: last === walk.dayOf(s.lastDate) ? s.lastDate : isoDay(last),
      stage: s.stage,
      amount: s.amount,
    });
  }
  return si;
}

/**
 * Records one deal from its spans (oldest first, today's last when it is a current deal): its stage changes, its
 * stored spans' share of the trend, its stages seen and when it entered its current stage.
 */
function recordDeal(id: string, seq: readonly Span[], walk: Walk): void {
  const last = seq[seq.length - 1];
  if (last === undefined) return;
  const stagesSeen: string[] = [];
  for (let k = 0; k < seq.length; k += 1) {
    const p = seq[k];
    if (p === undefined) continue;
    const prev = seq[k - 1];
    if (!stagesSeen.includes(p.stage)) stagesSeen.push(p.stage);
    if (prev !== undefined && prev.stage !== p.stage) {
      walk.transitions.push({
        dealId: id,
        from: prev.stage,
        to: p.stage,
        date: p.firstText,
        previousSnapshotDate: prev.lastText,
        amount: p.amount,
      });
    }
    if (p.first < walk.asOfDay) {
      for (const w of walk.storedTrend) if (p.first <= w.day && w.day <= p.last) addTo(w.totals, p.stage, p.amount);
    }
  }
  // The current stage began with the first of the trailing spans in that stage (an amount or close date change
  // within a stage starts a new state, not a new stage).
  let start = seq.length - 1;
  while (start > 0 && seq[start - 1]?.stage === last.stage) start -= 1;
  const first = seq[start] ?? last;
  const before = seq[start - 1];
  let stageEntry: StageEntry;
  if (before !== undefined) {
    stageEntry = {
      kind: 'observed',
      date: first.firstText,
      previousStage: before.stage,
      previousSnapshotDate: before.lastText,
    };
  } else {
    stageEntry = walk.unchangedSince.get(first.firstText) ?? { kind: 'unchangedSince', date: first.firstText };
    walk.unchangedSince.set(first.firstText, stageEntry);
  }
  let seen: readonly string[] = stagesSeen;
  if (stagesSeen.length === 1) {
    seen = walk.onlyStage.get(last.stage) ?? stagesSeen;
    walk.onlyStage.set(last.stage, seen);
  }
  walk.deals.set(id, { stageEntry, stagesSeen: seen });
}

/**
 * Walks the stored states and the current deals together in deal id order, one deal at a time, recording each
 * deal into `walk` (its spans are held only while it is recorded).
 */
function walkDeals(ordered: OrderedStates, currentById: ReadonlyMap<string, CurrentDeal>, walk: Walk): void {
  const { states, order } = ordered;
  const currentIds = [...currentById.keys()].sort(compareText);
  const seq: Span[] = [];
  let si = 0;
  let ci = 0;
  while (si < order.length || ci < currentIds.length) {
    const storedId = si < order.length ? states[order[si] ?? 0]?.dealId : undefined;
    const currentId = currentIds[ci];
    const id =
      storedId === undefined
        ? (currentId ?? '')
        : currentId === undefined || storedId <= currentId
          ? storedId
          : currentId;

    // The deal's spans: its stored states, then today.
    seq.length = 0;
    si = readStoredSpans(seq, ordered, si, id, walk);
    if (currentId === id) {
      const deal = currentById.get(id);
      if (deal !== undefined)
        seq.push({
          first: walk.asOfDay,
          last: walk.asOfDay,
          firstText: walk.asOfText,
          lastText: walk.asOfText,
          stage: deal.stage,
          amount: deal.amount,
        });
      ci += 1;
    }
    recordDeal(id, seq, walk);
  }
}

/**
 * Derives stage-entry dates, transitions and the 12-week trend from stored history (the store's `loadHistory`, or
 * per-run rows) plus the current run's deals. The current deals stand for the snapshot of `asOf`: stored observations
 * on or after `asOf` are ignored (a stored state reaching past asOf ends at the last run before it), as are states
 * with an unreadable date. A deal id repeated in one run counts once (the first wins). Time is O(n log n) and memory
 * O(n) in states + current deals: deals are walked in id order one at a time, and the trend is summed per week and
 * stage on the way, never held per deal and week. Pure: the result depends only on the arguments.
 */
export function deriveDealHistory(
  snapshots: readonly SnapshotRow[] | SnapshotHistory,
  current: readonly CurrentDeal[],
  asOf: Date,
): DealHistory {
  const stored = isRowList(snapshots) ? historyFromRows(snapshots) : snapshots;
  const dayOf = createDayParser();
  const asOfDay = toDay(asOf);
  const asOfText = isoDay(asOfDay);

  const runDays = [...new Set(stored.runDates)]
    .map(dayOf)
    .filter((d): d is number => d !== undefined && d < asOfDay)
    .sort((a, b) => a - b);
  const currentById = new Map<string, CurrentDeal>();
  for (const deal of current) if (!currentById.has(deal.id)) currentById.set(deal.id, deal);
  const snapshotDays = currentById.size > 0 ? [...runDays, asOfDay] : runDays;

  // Trend: per week, the latest snapshot of the week up to asOf. Stored ones are summed from the states while walking
  // the deals; the current run's one from the current deals.
  const buckets = trendBuckets(snapshotDays, asOfDay);
  const walk: Walk = {
    asOfDay,
    asOfText,
    dayOf,
    storedTrend: buckets.filter((w): w is StoredTrendBucket => w.day !== null && w.day < asOfDay),
    deals: new Map(),
    transitions: [],
    unchangedSince: new Map(),
    onlyStage: new Map(),
  };
  walkDeals(orderStoredStates(stored.states, dayOf, asOfDay, runDays[runDays.length - 1]), currentById, walk);
  walk.transitions.sort((a, b) => compareText(a.date, b.date) || compareText(a.dealId, b.dealId));

  const currentWeek = buckets.find((w) => w.day === asOfDay);
  if (currentWeek !== undefined)
    for (const deal of currentById.values()) addTo(currentWeek.totals, deal.stage, deal.amount);

  const trend: TrendWeek[] = buckets.map((w) => ({
    weekStart: isoDay(w.start),
    snapshotDate: w.day === null ? null : isoDay(w.day),
    stages: [...w.totals.entries()]
      .sort(([a], [b]) => compareText(a, b))
      .map(([stage, t]) => ({ stage, count: t.count, value: t.value })),
  }));

  return {
    asOf: asOfText,
    snapshotDates: snapshotDays.map(isoDay),
    deals: walk.deals,
    transitions: walk.transitions,
    trend,
  };
}
