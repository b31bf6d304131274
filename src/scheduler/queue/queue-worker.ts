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
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../../shared/logger.js';
import type { RunStore } from '../../contracts/run-store.js';
import type { ProgressSink } from '../../contracts/run-progress.js';
import { TICK_QUEUE, defaultRunJobSettings, runQueueName, type RunJobSettings } from './queue-contract.js';
import { effectiveSiteConcurrency } from './queue-scheduler.js';
import { createRedisConnection } from './redis-connection.js';
import type { ExportRunner } from '../../contracts/export-runner.js';
import { createRunProcessor, watchRunWorker } from './run-processor.js';
import { createTickProcessor } from './tick-processor.js';
import { closeWorkerResources } from './worker-shutdown.js';

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
  /** Name shown on jobs in Redis and recorded on the attempts this worker runs (e.g. host name and pid). */
  readonly name?: string | undefined;
  readonly now?: () => Date;
  /** Where runs publish their live progress (see progress-channel.ts). */
  readonly progress?: ProgressSink | undefined;
  /** Redacts the message of a runner that threw, before it is recorded. */
  readonly redact?: ((text: string) => string) | undefined;
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

  const processTick = createTickProcessor({ runQueues, runJobs, store, logger, now });
  const processRun = createRunProcessor({
    runner,
    store,
    logger,
    isClosing: () => closing,
    workerName: deps.name,
    progress: deps.progress,
    clock: { now },
    redact: deps.redact,
  });

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
    watchRunWorker(w, site, queue, { store, logger });
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
      await closeWorkerResources({ workers, runQueues, owned, logger }, options?.graceMs);
    },
  };
}
