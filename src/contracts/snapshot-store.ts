/**
 * Per-opportunity snapshots: what the pipeline saves after each run and what metrics history is derived from. The
 * store keeps changes, not copies (see `transforms/metrics/history.ts`).
 */

/** One opportunity in one run's snapshot. */
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
 * One stored state of a deal over consecutive runs: the deal was in every run from `firstDate` to `lastDate` (both
 * `YYYY-MM-DD`, both run dates) with this stage and amount (the store also keys states by close date, which history
 * does not need, so two consecutive states may show the same stage and amount).
 */
export interface DealStateRow {
  readonly dealId: string;
  readonly stage: string;
  readonly amount: number | null;
  readonly firstDate: string;
  readonly lastDate: string;
}

/** What the snapshot store gives history derivation: the runs of the window and the deal states seen in them. */
export interface SnapshotHistory {
  /** Dates of the window's runs that saw at least one deal, ascending. */
  readonly runDates: readonly string[];
  /** Deal states overlapping the window, clipped to it (`firstDate` is never before `runDates[0]`). */
  readonly states: readonly DealStateRow[];
}

/** What the pipeline needs from the snapshot store (per-opportunity history for metrics). */
export interface SnapshotDeal {
  readonly id: string;
  readonly stage: string;
  readonly amount: number | null;
  readonly closeDate: Date | null;
}

export interface SnapshotStore {
  saveSnapshot(exportId: string, runDate: string, deals: readonly SnapshotDeal[]): void;
  /** The runs since `sinceDate` and the deal states seen in them (O(deals + changes), not deals × runs). */
  loadHistory(exportId: string, sinceDate: string): SnapshotHistory;
  prune(exportId: string, beforeDate: string): number;
}
