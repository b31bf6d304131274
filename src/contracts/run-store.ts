/**
 * Run history as the rest of the tool sees it. Two implementations: SQLite under `stateDir` (single machine, the
 * default) and Redis (queue mode, shared by every replica).
 *
 * One record per run. A run retried in queue mode keeps its run id: the writes of each attempt (whose ids are
 * `<runId>` and `<runId>#<n>`, see `run-id.ts`) are folded into the run's record, which shows the latest attempt and
 * lists them all in `attempts` (see `state/run-attempts.ts` for the rules).
 */
import type { RunReport, RunStatus, RunTrigger } from './run-report.js';

export interface RunQuery {
  readonly exportId?: string | undefined;
  readonly limit?: number | undefined;
  readonly status?: RunStatus | undefined;
  /** Only runs started this way (schedule, manual, cli, catch-up). */
  readonly trigger?: RunTrigger['kind'] | undefined;
}

export interface RunStore {
  /**
   * Records a new run as `running` (or another status, e.g. `skipped`), or a new attempt of a run: `runId` may be an
   * attempt id, and a higher attempt than the recorded one folds the recorded attempt into the run's `attempts`.
   */
  insertRun(run: {
    runId: string;
    exportId: string;
    trigger: RunTrigger;
    startedAt: string;
    status?: RunStatus;
    attempt?: number;
    /** The worker process running this attempt (host:pid), in queue mode. */
    worker?: string;
  }): Promise<void>;
  /**
   * Replaces the stored report of a run with its final (or updated) state. A report of an attempt older than the
   * recorded one only updates that attempt's entry in `attempts`.
   */
  finishRun(report: RunReport): Promise<void>;
  /** The run's record; an attempt id (`<runId>#<n>`) finds the run it belongs to. */
  getRun(runId: string): Promise<RunReport | undefined>;
  listRuns(query: RunQuery): Promise<RunReport[]>;
  /** Last run with status succeeded or unchanged. */
  lastSuccess(exportId: string): Promise<RunReport | undefined>;
  /**
   * Marks every `running` run as failed with code INTERRUPTED (called at start, after a crash); with `runIds`, only
   * those runs or attempts (an attempt that is no longer the run's latest only has its entry marked). Returns how many.
   */
  markInterrupted(message: string, filter?: { runIds?: readonly string[] }): Promise<number>;
  close(): Promise<void>;
}
