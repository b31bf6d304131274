/**
 * Queue-mode worker (`worker`, or `serve` without `--no-work`): turns scheduler ticks into run jobs and processes run
 * jobs with the export runner.
 *
 * Guarantees, all from BullMQ features (no lock or leader election of ours):
 * - one run per tick: the tick's run job id is `<exportId>@<tick ms>`, and BullMQ adds a job id only once;
 * - no overlap of one export: run jobs are deduplicated on the export id until they finish, so a tick that arrives
 *   while its export is queued or running anywhere is recorded as `skipped` (not delayed: the run already queued or
 *   running will export the current data anyway, and a backlog of delayed runs would only repeat it);
 * - per-site cap: the site's run queue has a BullMQ global concurrency (`queue.setGlobalConcurrency`);
 * - crash recovery: a worker killed mid-run stops renewing its job lock; after `lockDuration` another worker's
 *   stalled check (every `stalledInterval`) puts the job back and it runs again as attempt 2. The interrupted
 *   attempt's history entry is marked failed/INTERRUPTED;
 * - a worker that loses a job lock (event loop blocked, Redis partition) aborts its run, so the retry elsewhere does
 *   not overlap it for long;
 * - graceful shutdown: `close()` stops taking jobs and waits for running ones; past `graceMs` it aborts them and puts
 *   their jobs back in the queue (a worker elsewhere retries them), so no job is lost.
 */
import { Queue, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { skippedRunReport, type RunReport, type RunTrigger } from '../../contracts/run-report.js';
import type { Logger } from '../../shared/logger.js';
import type { RunStore } from '../../contracts/run-store.js';
import {
  TICK_QUEUE,
  attemptRunId,
  attemptRunIds,
  defaultRunJobSettings,
  enqueueRun,
  runDataSchema,
  runQueueName,
  scheduledRunJobId,
  skippedRunId,
  tickDataSchema,
  toRunTrigger,
  type RunJobSettings,
} from './queue-contract.js';
import { effectiveSiteConcurrency } from './queue-scheduler.js';
import { createRedisConnection } from './redis-connection.js';

/** The per-export runner (written by the pipeline): records insertRun/finishRun itself, never throws. */
export type ExportRunner = (
  exportId: string,
  trigger: RunTrigger,
  options: { signal: AbortSignal; runId: string; attempt?: number },
) => Promise<RunReport>;

export interface StallSettings {
  /** How long a job lock lives without renewal (ms); a killed worker's run is retried after about this long. Default 30 000. */
  readonly lockDuration: number;
  /** How often workers look for stalled jobs (ms). Default 30 000. */
  readonly stalledInterval: number;
}

export const defaultStallSettings: StallSettings = { lockDuration: 30_000, stalledInterval: 30_000 };

export interface QueueWorkerDeps {
  /** Redis URL (connections are opened and closed by the worker) or an ioredis client (borrowed; BullMQ duplicates it for blocking reads). */
  readonly connection: string | Redis;
  readonly prefix: string;
  /** Runs at once in this process, per site. */
  readonly concurrency: number;
  /** Concurrent runs per site across all workers (the same value on every process). */
  readonly siteConcurrency: number;
  /** Sign-in sessions available at once (1 for a single PAT). Default unlimited. */
  readonly sessionCapacity?: number | undefined;
  /** Tableau sites whose run queues this worker serves. Default `[""]` (the one site of the config). */
  readonly sites?: readonly string[] | undefined;
  readonly runner: ExportRunner;
  readonly store: RunStore;
  readonly logger: Logger;
  readonly runJobs?: RunJobSettings | undefined;
  readonly stall?: StallSettings | undefined;
  /** Name shown on jobs in Redis (e.g. host name and pid), to see which worker ran what. */
  readonly name?: string | undefined;
  readonly now?: () => Date;
}

export interface QueueWorker {
  /** Resolves once every BullMQ worker of this process is connected and taking jobs. */
  ready(): Promise<void>;
  /**
   * Stops taking jobs and waits for running ones to finish. After `graceMs` (default: wait without limit) running
   * runs are aborted and their jobs returned to the queue for another worker.
   */
  close(options?: { graceMs?: number | undefined }): Promise<void>;
}

/** Starts a worker: it begins taking jobs at once. */
export function createQueueWorker(deps: QueueWorkerDeps): QueueWorker {
  const { prefix, logger, store, runner } = deps;
  const now = deps.now ?? (() => new Date());
  const runJobs = deps.runJobs ?? defaultRunJobSettings;
  const stall = deps.stall ?? defaultStallSettings;
  const sites = deps.sites ?? [''];
  const onRedisError = (err: Error): void => logger.warn({ err }, 'queue worker: Redis connection error; retrying');
  const owned: Redis[] = [];
  function connection(role: 'worker' | 'client'): Redis {
    if (typeof deps.connection !== 'string') return deps.connection;
    const c = createRedisConnection(deps.connection, role, onRedisError);
    owned.push(c);
    return c;
  }
  const producer = connection('client');
  const runQueues = new Map(
    sites.map((site) => [site, new Queue(runQueueName(site), { connection: producer, prefix })]),
  );
  const siteCap = effectiveSiteConcurrency(deps.siteConcurrency, deps.sessionCapacity);
  let closing = false;

  const workerOptions = {
    prefix,
    lockDuration: stall.lockDuration,
    stalledInterval: stall.stalledInterval,
    // attempts - 1 recoveries from a stall; the last stalled attempt fails the job instead of looping on a poison run.
    maxStalledCount: Math.max(1, runJobs.attempts - 1),
    ...(deps.name === undefined ? {} : { name: deps.name }),
  };

  async function processTick(job: Job): Promise<string> {
    const tick = tickDataSchema.parse(job.data);
    const queue = runQueues.get(tick.site);
    if (queue === undefined) {
      throw new Error(
        `tick of export '${tick.exportId}' is for Tableau site '${tick.site}', which this worker does not serve; start it with that site in its config`,
      );
    }
    // prevMillis is the tick's scheduled time, set by BullMQ's job scheduler.
    const scheduledMs = job.opts.prevMillis ?? job.timestamp;
    const scheduledFor = new Date(scheduledMs).toISOString();
    const jobId = scheduledRunJobId(tick.exportId, scheduledMs);
    const trigger: RunTrigger = { kind: 'schedule', scheduledFor };
    const result = await enqueueRun(queue, jobId, { exportId: tick.exportId, trigger }, runJobs);
    if (result.added) return jobId;
    const at = now().toISOString();
    const message = `scheduled run skipped: export '${tick.exportId}' is already queued or running (run ${result.existingJobId})`;
    logger.info({ exportId: tick.exportId, scheduledFor, activeRunId: result.existingJobId }, message);
    await store.insertRun({
      runId: skippedRunId(jobId),
      exportId: tick.exportId,
      trigger,
      startedAt: at,
      status: 'skipped',
    });
    await store.finishRun(skippedRunReport(skippedRunId(jobId), tick.exportId, trigger, at, message));
    return skippedRunId(jobId);
  }

  async function processRun(
    job: Job,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ runId: string; status: string }> {
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
    if (runSignal.aborted && closing && token !== undefined) {
      // Shutdown past its grace: give the job back so another worker runs it (next attempt), instead of losing it.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    logger.info({ exportId: data.exportId, runId, attempt, status: report.status }, 'queue worker: run finished');
    // A failed run is not retried by the queue: the pipeline already retried what is retryable, and its report says why.
    return { runId, status: report.status };
  }

  async function markJobInterrupted(jobId: string, queue: Queue, reason: string): Promise<void> {
    const job = await queue.getJob(jobId);
    if (job?.id === undefined) return;
    await store.markInterrupted(reason, { runIds: attemptRunIds(job.id, Math.max(1, job.attemptsStarted)) });
  }

  const workers: Worker[] = [];
  const tickWorker = new Worker(TICK_QUEUE, processTick, {
    ...workerOptions,
    connection: connection('worker'),
    concurrency: 10,
  });
  workers.push(tickWorker);
  for (const [site, queue] of runQueues) {
    const w = new Worker(runQueueName(site), processRun, {
      ...workerOptions,
      connection: connection('worker'),
      concurrency: deps.concurrency,
    });
    w.on('stalled', (jobId) => {
      // Its history entry is marked INTERRUPTED by the worker that takes the retry (it knows which attempt died);
      // marking here could race with that retry already running.
      logger.warn(
        { jobId, site },
        'queue worker: run stalled (its worker stopped or lost its lock); it goes back to the queue',
      );
    });
    w.on('lockRenewalFailed', (jobIds) => {
      for (const jobId of jobIds) {
        logger.error(
          { jobId },
          'queue worker: lost the lock of a running run; aborting it here (it will be retried elsewhere)',
        );
        w.cancelJob(jobId, 'lock lost');
      }
    });
    w.on('failed', (job, err) => {
      if (job?.id === undefined) return;
      logger.error({ jobId: job.id, err }, 'queue worker: run job failed');
      // No attempt of a failed job runs any more: any entry still `running` belongs to a dead attempt.
      markJobInterrupted(job.id, queue, `run failed in the queue: ${err.message}`).catch((e: unknown) =>
        logger.warn({ err: e, jobId: job.id }, 'queue worker: could not mark failed run'),
      );
    });
    workers.push(w);
  }
  for (const w of workers) w.on('error', (err) => logger.warn({ err }, 'queue worker: BullMQ error'));
  for (const q of runQueues.values()) q.on('error', (err) => logger.warn({ err }, 'queue worker: BullMQ queue error'));
  for (const q of runQueues.values()) {
    q.setGlobalConcurrency(siteCap).catch((err: unknown) =>
      logger.warn({ err }, 'queue worker: could not set the site concurrency; the value set by another process stays'),
    );
  }
  logger.info({ concurrency: deps.concurrency, siteConcurrency: siteCap, sites }, 'queue worker: started');

  return {
    async ready() {
      await Promise.all(workers.map((w) => w.waitUntilReady()));
    },

    async close(options) {
      closing = true;
      const graceMs = options?.graceMs;
      const timer =
        graceMs === undefined
          ? undefined
          : setTimeout(() => {
              logger.warn(
                { graceMs },
                'queue worker: shutdown grace over; aborting running runs and returning their jobs to the queue',
              );
              for (const w of workers) w.cancelAllJobs('shutdown');
            }, graceMs);
      try {
        await Promise.all(workers.map((w) => w.close()));
      } finally {
        if (timer !== undefined) clearTimeout(timer);
      }
      for (const q of runQueues.values()) await q.close();
      for (const c of owned) await c.quit().catch(() => c.disconnect());
      logger.info('queue worker: stopped');
    },
  };
}
