/**
 * Runs one export end to end: what the in-process scheduler, the queue worker, the admin API and the CLI all call.
 * The composition root provides it over the pipeline (`cli/service.ts`).
 */
import type { Logger } from '../shared/logger.js';
import type { RunReport, RunTrigger } from './run-report.js';
import type { RunProgress } from './run-progress.js';

export interface RunnerOptions {
  /** Aborted at shutdown once the deadline passed: the runner cancels uploads, removes temp files, records it. */
  readonly signal: AbortSignal;
  /** The id the runner must use for its record (the admin API returns it before the run ends). */
  readonly runId: string;
  /** Called by the runner right after it recorded the run as `running` (insertRun). */
  readonly onStart?: ((runId: string) => void) | undefined;
  /** Attempt number in queue mode (1 for the first; a run whose worker died is retried as 2, ...). */
  readonly attempt?: number | undefined;
  /** A burst retry: the id of the failed run whose delivered parts are kept instead of run again. */
  readonly retryOf?: string | undefined;
  /** The run's logger (the scheduler binds `runId` and `exportId`): every log line of the run goes through it. */
  readonly logger?: Logger | undefined;
  /** Told where the run is (stage, rows, bytes) as it advances; must not throw. */
  readonly onProgress?: ((p: RunProgress) => void) | undefined;
}

/**
 * Runs one export. It records the run itself (insertRun at start, then onStart, finishRun at the end), honours the
 * signal, and never throws for a run failure: a failure is a report with status `failed`.
 */
export type ExportRunner = (exportId: string, trigger: RunTrigger, options: RunnerOptions) => Promise<RunReport>;
