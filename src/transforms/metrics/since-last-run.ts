/**
 * What changed since the last refresh, from the per-deal snapshots (pure): deals created, won and lost, moved
 * forward or backward a stage, and value added or removed, between the snapshot of the previous successful run and
 * this run's deals.
 */
import type { SnapshotHistory } from '../../contracts/snapshot-store.js';
import type { MetricsConfig } from './config.js';
import type { Deal } from './deal.js';

/** A number of deals and the sum of their amounts (blank amounts add nothing). */
export interface ChangeCount {
  readonly deals: number;
  readonly value: number;
}

export interface SinceLastRun {
  /** `YYYY-MM-DD`: the run whose snapshot this run is compared with. */
  readonly previousRunDate: string;
  /** In the view now, not in that snapshot. */
  readonly created: ChangeCount;
  /** In a won stage now, not in that snapshot (new deals included). */
  readonly won: ChangeCount;
  /** In a lost stage now, not in that snapshot (new deals included). */
  readonly lost: ChangeCount;
  /** Open now, in a later stage of the funnel than in that snapshot. */
  readonly movedForward: ChangeCount;
  /** Open now, in an earlier stage than in that snapshot (a reopened won or lost deal included). */
  readonly movedBackward: ChangeCount;
  /** New deals' amounts and the increases of amounts: deals that added value, and how much. */
  readonly valueAdded: ChangeCount;
  /** Decreases of amounts and the amounts of deals gone from the view: deals that removed value, and how much. */
  readonly valueRemoved: ChangeCount;
}

interface Seen {
  readonly stage: string;
  readonly amount: number | null;
}

/**
 * Compares `current` (this run's deals; a repeated id counts once, the first) with the deals of the latest stored
 * run on or before `compareWith` (`YYYY-MM-DD`: the date of the previous successful run). `history` is the store's
 * history read *before* this run's snapshot is saved, so a same-day earlier run is still there to compare with.
 * Won and lost are read from the stage (`metrics.wonStages` / `lostStages`), the only outcome a snapshot keeps.
 * Returns null when no stored run is that old: this is the first run.
 */
export function compareWithPreviousRun(
  history: SnapshotHistory,
  current: readonly Deal[],
  config: MetricsConfig,
  compareWith: string,
): SinceLastRun | null {
  const previousRunDate = history.runDates
    .filter((d) => d <= compareWith)
    .reduce<string | undefined>((latest, d) => (latest === undefined || d > latest ? d : latest), undefined);
  if (previousRunDate === undefined) return null;
  const before = new Map<string, Seen>();
  for (const s of history.states) {
    if (s.firstDate <= previousRunDate && previousRunDate <= s.lastDate && !before.has(s.dealId)) {
      before.set(s.dealId, { stage: s.stage, amount: s.amount });
    }
  }
  const now = new Map<string, Seen>();
  for (const d of current) if (!now.has(d.id)) now.set(d.id, { stage: d.stage, amount: d.amount });

  const won = new Set(config.wonStages);
  const lost = new Set(config.lostStages);
  const position = new Map(config.stages.map((s, i) => [s, i]));
  const tally = (): { deals: number; value: number } => ({ deals: 0, value: 0 });
  const result = {
    created: tally(),
    won: tally(),
    lost: tally(),
    movedForward: tally(),
    movedBackward: tally(),
    valueAdded: tally(),
    valueRemoved: tally(),
  };
  const count = (into: { deals: number; value: number }, amount: number | null): void => {
    into.deals += 1;
    if (amount !== null && Number.isFinite(amount)) into.value += amount;
  };
  const change = (delta: number): void => {
    if (!Number.isFinite(delta) || delta === 0) return;
    count(delta > 0 ? result.valueAdded : result.valueRemoved, Math.abs(delta));
  };

  for (const [id, deal] of now) {
    const was = before.get(id);
    if (was === undefined) count(result.created, deal.amount);
    if (won.has(deal.stage) && (was === undefined || !won.has(was.stage))) count(result.won, deal.amount);
    if (lost.has(deal.stage) && (was === undefined || !lost.has(was.stage))) count(result.lost, deal.amount);
    if (was !== undefined && !won.has(deal.stage) && !lost.has(deal.stage)) {
      const from = position.get(was.stage);
      const to = position.get(deal.stage);
      if (from !== undefined && to !== undefined && to > from) count(result.movedForward, deal.amount);
      if (from !== undefined && to !== undefined && to < from) count(result.movedBackward, deal.amount);
    }
    change((deal.amount ?? 0) - (was?.amount ?? 0));
  }
  for (const [id, was] of before) if (!now.has(id)) change(-(was.amount ?? 0));
  return { previousRunDate, ...result };
}
