import type { SnapshotRow } from '../transforms/metrics/index.js';

/** What the pipeline needs from the snapshot store (per-opportunity history for metrics). */
export interface SnapshotDeal {
  readonly id: string;
  readonly stage: string;
  readonly amount: number | null;
  readonly closeDate: Date | null;
}

export interface SnapshotStore {
  saveSnapshot(exportId: string, runDate: string, deals: readonly SnapshotDeal[]): void;
  /** The rows history derivation needs (first/last per deal, both sides of stage changes, last run per week). */
  loadHistory(exportId: string, sinceDate: string): readonly SnapshotRow[];
  prune(exportId: string, beforeDate: string): number;
}
