/**
 * Run job processing on a queue worker: runs the export of a run job as attempt N, marks the history entries of the
 * attempts that died before it, gives the job back to the queue when shutdown aborted it, and reacts to the BullMQ
 * events of a run worker (stalled job, lost lock, failed job).
 */
import { WaitingError, type Job, type Queue, type Worker } from 'bullmq';
import type { ExportRunner } from '../../contracts/export-runner.js';
import type { RunStore } from '../../contracts/run-store.js';
import type { Logger } from '../../shared/logger.js';
import { attemptRunId, attemptRunIds, runDataSchema, toRunTrigger } from './queue-contract.js';

export interface RunProcessorDeps {
  readonly runner: ExportRunner;
  readonly store: RunStore;
  readonly logger: Logger;
  /** True once the worker's `close()` began: an aborted run then goes back to the queue. */
  readonly isClosing: () => boolean;
}

/** The BullMQ processor of run jobs. */
export type RunProcessor = (
  job: Job,
  token: string | undefined,
  signal: AbortSignal | undefined,
) => Promise<{ runId: string; status: string }>;

/**
 * Creates the processor of run jobs. It resolves to the run id and status of the attempt (a failed run included), and
 * throws BullMQ's WaitingError after moving the job back to the queue when shutdown aborted the run.
 */
export function createRunProcessor(deps: RunProcessorDeps): RunProcessor {
  const { runner, store, logger } = deps;
  return async function processRun(job, token, signal) {
    const data = runDataSchema.parse(job.data);
    const jobId = job.id ?? '';
    const attempt = Math.max(1, job.attemptsStarted);
    const runId = attemptRunId(jobId, attempt);
    if (attempt > 1) {
      // Earlier attempts that are still `running` in the history died with their worker.
      await store.markInterrupted(`run interrupted (worker stopped or lost its lock); retried as attempt ${attempt}`, {
        runIds: attemptRunIds(jobId, attempt - 1),
      });
    }
    const runSignal = signal ?? new AbortController().signal;
    logger.info({ exportId: data.exportId, runId, attempt }, 'queue worker: run started');
    const report = await runner(data.exportId, toRunTrigger(data.trigger), { signal: runSignal, runId, attempt });
    if (runSignal.aborted && deps.isClosing() && token !== undefined) {
      // Shutdown past its grace: give the job back so another worker runs it (next attempt), instead of losing it.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    logger.info({ exportId: data.exportId, runId, attempt, status: report.status }, 'queue worker: run finished');
    // A failed run is not retried by the queue: the pipeline already retried what is retryable, and its report says why.
    return { runId, status: report.status };
  };
}

/**
 * Listens to the stall, lock and failure events of the run worker of `site`: a lost lock aborts the run here, a
 * finally failed job has its unfinished attempts marked INTERRUPTED in the history.
 */
export function watchRunWorker(
  worker: Worker,
  site: string,
  queue: Queue,
  deps: Pick<RunProcessorDeps, 'store' | 'logger'>,
): void {
  const { store, logger } = deps;
  worker.on('stalled', (jobId) => {
    // Its history entry is marked INTERRUPTED by the worker that takes the retry (it knows which attempt died);
    // marking here could race with that retry already running.
    logger.warn(
      { jobId, site },
      'queue worker: run stalled (its worker stopped or lost its lock); it goes back to the queue',
    );
  });
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const jobId of jobIds) {
      logger.error(
        { jobId },
        'queue worker: lost the lock of a running run; aborting it here (it will be retried elsewhere)',
      );
      worker.cancelJob(jobId, 'lock lost');
    }
  });
  worker.on('failed', (job, err) => {
    if (job?.id === undefined) return;
    logger.error({ jobId: job.id, err }, 'queue worker: run job failed');
    // No attempt of a failed job runs any more: any entry still `running` belongs to a dead attempt.
    markJobInterrupted(store, job.id, queue, `run failed in the queue: ${err.message}`).catch((e: unknown) =>
      logger.warn({ err: e, jobId: job.id }, 'queue worker: could not mark failed run'),
    );
  });
}

async function markJobInterrupted(store: RunStore, jobId: string, queue: Queue, reason: string): Promise<void> {
  const job = await queue.getJob(jobId);
  if (job?.id === undefined) return;
  await store.markInterrupted(reason, { runIds: attemptRunIds(job.id, Math.max(1, job.attemptsStarted)) });
}
