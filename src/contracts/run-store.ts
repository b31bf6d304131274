/**
 * Run history as the rest of the tool sees it. Two implementations: SQLite under `stateDir` (single machine, the
 * default) and Redis (queue mode, shared by every replica).
 */
import type { RunReport, RunStatus, RunTrigger } from './run-report.js';

export interface RunQuery {
  readonly exportId?: string | undefined;
  readonly limit?: number | undefined;
  readonly status?: RunStatus | undefined;
}

export interface RunStore {
  /** Records a new run as `running` (or another status, e.g. `skipped`). */
  insertRun(run: {
    runId: string;
    exportId: string;
    trigger: RunTrigger;
    startedAt: string;
    status?: RunStatus;
    attempt?: number;
  }): Promise<void>;
  /** Replaces the stored report of a run with its final (or updated) state. */
  finishRun(report: RunReport): Promise<void>;
  getRun(runId: string): Promise<RunReport | undefined>;
  listRuns(query: RunQuery): Promise<RunReport[]>;
  /** Last run with status succeeded or unchanged. */
  lastSuccess(exportId: string): Promise<RunReport | undefined>;
  /** Marks every `running` run as failed with code INTERRUPTED (called at start, after a crash). Returns how many. */
  markInterrupted(message: string, filter?: { runIds?: readonly string[] }): Promise<number>;
  close(): Promise<void>;
}
