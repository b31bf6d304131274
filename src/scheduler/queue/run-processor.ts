/**
 * Run job processing on a queue worker: runs the export of a run job as attempt N of the run (the job id is the run
 * id every attempt shares), records which worker took the attempt (the run history then lists the attempts that died
 * before it as interrupted), publishes the run's live progress, gives the job back to the queue when shutdown aborted
 * it, and reacts to the BullMQ events of a run worker (stalled job, lost lock, failed job).
 */
import { WaitingError, type Job, type Queue, type Worker } from 'bullmq';
import type { ExportRunner } from '../../contracts/export-runner.js';
import type { ProgressSink } from '../../contracts/run-progress.js';
import type { RunStore } from '../../contracts/run-store.js';
import type { RunReport, RunTrigger } from '../../contracts/run-report.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import { toAppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { createProgressReporter } from '../live-progress.js';
import { attemptRunId, attemptRunIds, runDataSchema, toRunTrigger } from './queue-contract.js';

export interface RunProcessorDeps {
  readonly runner: ExportRunner;
  readonly store: RunStore;
  readonly logger: Logger;
  /** True once the worker's `close()` began: an aborted run then goes back to the queue. */
  readonly isClosing: () => boolean;
  /** This worker's name (host:pid), recorded on the attempts it runs. */
  readonly workerName?: string | undefined;
  /** Where the runs publish their live progress (Redis, relayed by every `serve` replica). */
  readonly progress?: ProgressSink | undefined;
  readonly clock?: Clock | undefined;
  /** Redacts the message of a runner that threw, before it is recorded. */
  readonly redact?: ((text: string) => string) | undefined;
  /** Waits between attempts to record a run's end while Redis is unreachable (default: a timer). */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
}

/**
 * Waits before each new attempt to record the end of a run the pipeline could not record (Redis restarting or failing
 * over: seconds, rarely more): about 50 s in all, within the time BullMQ keeps the job's lock once Redis is back.
 */
const RECORD_RETRY_DELAYS_MS = [250, 500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000, 5_000, 5_000, 5_000, 5_000, 5_000];

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
  const clock = deps.clock ?? systemClock;
  const worker = deps.workerName;
  return async function processRun(job, token, signal) {
    const data = runDataSchema.parse(job.data);
    const jobId = job.id ?? '';
    const attempt = Math.max(1, job.attemptsStarted);
    const runId = attemptRunId(jobId, attempt);
    const trigger = toRunTrigger(data.trigger);
    // Recorded before the export starts, with this worker's name: an earlier attempt still `running` in the
    // history died with its worker, and the run's record now says so and where the run went on.
    await store.insertRun({
      runId,
      exportId: data.exportId,
      trigger,
      startedAt: clock.now().toISOString(),
      attempt,
      ...(worker === undefined ? {} : { worker }),
    });
    const runSignal = signal ?? new AbortController().signal;
    const progress =
      deps.progress === undefined
        ? undefined
        : createProgressReporter(
            { runId: jobId, exportId: data.exportId, attempt, worker },
            { sink: deps.progress, clock },
          );
    logger.info({ exportId: data.exportId, runId, attempt }, 'queue worker: run started');
    const report = await runner(data.exportId, trigger, {
      signal: runSignal,
      runId,
      attempt,
      onProgress: progress?.report,
      ...(data.retryOf === undefined ? {} : { retryOf: data.retryOf }),
    }).catch(async (err: unknown) => {
      await recordRunnerFailure(deps, { runId, exportId: data.exportId, trigger, attempt }, err);
      progress?.ended('failed');
      throw err;
    });
    if (runSignal.aborted && deps.isClosing() && token !== undefined) {
      // Shutdown past its grace: give the job back so another worker runs it (next attempt), instead of losing it.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    progress?.ended(report.status);
    await ensureEndRecorded(deps, report, attempt);
    logger.info({ exportId: data.exportId, runId, attempt, status: report.status }, 'queue worker: run finished');
    // A failed run is not retried by the queue: the pipeline already retried what is retryable, and its report says why.
    return { runId: jobId, status: report.status };
  };
}

/**
 * Makes sure the run's record shows how this attempt ended. The pipeline records the end itself, but a write that
 * fails (Redis down for a moment) would leave the record `running` for good once the job completes: nothing else
 * revisits a completed job. So, while the record still shows this attempt running (or cannot be read), the report is
 * written again, retried while Redis comes back. Rewriting is safe: the store folds an attempt's report into the
 * run's record the same way every time, and a later attempt's record is never overwritten.
 */
async function ensureEndRecorded(deps: RunProcessorDeps, report: RunReport, attempt: number): Promise<void> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let i = 0; ; i++) {
    try {
      const stored = await deps.store.getRun(report.runId);
      if (stored !== undefined && (stored.status !== 'running' || (stored.attempt ?? 1) !== attempt)) return;
      await deps.store.finishRun(report);
      deps.logger.warn(
        { runId: report.runId, status: report.status, tries: i + 1 },
        'queue worker: the end of the run was not in the history; recorded it now',
      );
      return;
    } catch (err) {
      const delay = RECORD_RETRY_DELAYS_MS[i];
      if (delay === undefined) {
        deps.logger.error(
          { runId: report.runId, err: err instanceof Error ? err.message : String(err) },
          'queue worker: could not record the end of the run; its history entry still says running',
        );
        return;
      }
      await sleep(delay);
    }
  }
}

/** A runner that threw (it could not even start, e.g. a secret missing here): the attempt is recorded as failed. */
async function recordRunnerFailure(
  deps: RunProcessorDeps,
  run: { runId: string; exportId: string; trigger: RunTrigger; attempt: number },
  err: unknown,
): Promise<void> {
  const e = toAppError(err);
  const at = (deps.clock ?? systemClock).now().toISOString();
  const message = deps.redact === undefined ? e.userMessage : deps.redact(e.userMessage);
  const recorded = await deps.store.getRun(run.runId).catch(() => undefined);
  await deps.store
    .finishRun({
      ...(recorded ?? {
        sheets: [],
        rows: 0,
        bytes: 0,
        destination: undefined,
        warnings: [],
        timings: {},
        dataHash: undefined,
        startedAt: at,
      }),
      runId: run.runId,
      exportId: run.exportId,
      trigger: run.trigger,
      attempt: run.attempt,
      status: 'failed',
      finishedAt: at,
      durationMs: undefined,
      error: { code: e.code, message },
    })
    .catch((storeErr: unknown) =>
      deps.logger.warn({ err: storeErr, runId: run.runId }, 'queue worker: could not record the failed run'),
    );
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
