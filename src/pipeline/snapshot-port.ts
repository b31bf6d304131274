import type { SnapshotHistory } from '../transforms/metrics/history.js';

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
