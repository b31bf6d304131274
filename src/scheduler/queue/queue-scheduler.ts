/**
 * Queue-mode scheduling (`serve` with `queue:` configured): one BullMQ job scheduler per scheduled export in the
 * `ticks` queue, and manual runs added straight to the export's site run queue.
 *
 * Why a tick queue plus run queues: BullMQ job schedulers cannot deduplicate the jobs they produce, and
 * deduplication on the export id is how we keep runs of one export from overlapping. So a scheduler only emits a
 * tiny "tick" job (id `repeat:<exportId>:<ms>`, unique per tick, so every serve process upserting the same scheduler
 * still gives one tick); any worker turns the tick into a run job with deduplication (see queue-worker.ts).
 * Ticks keep firing while at least one worker runs: the next tick is created when a worker picks up the current one.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { UsageError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { RunStore } from '../../contracts/run-store.js';
import {
  TICK_QUEUE,
  defaultRunJobSettings,
  runQueueName,
  type RunJobSettings,
  type TickData,
} from './queue-contract.js';
import { enqueueManualRun, type ManualEnqueueResult } from './manual-run.js';
import { readQueueDepth, readQueueOverview, type QueueDepth, type QueueExportStatus } from './queue-overview.js';
import { createRedisConnection } from './redis-connection.js';
import { syncTickSchedulers } from './tick-schedulers.js';

export type { ManualEnqueueResult } from './manual-run.js';
export type { QueueDepth, QueueExportStatus } from './queue-overview.js';

/** What the queue scheduler needs to know about an export. */
export interface ScheduledExportLike {
  readonly id: string;
  /** Cron (5 fields, or 6 with seconds); absent = manual only. */
  readonly schedule?: string | undefined;
  /** IANA zone of the schedule; default `QueueSchedulerDeps.timezone`. */
  readonly timezone?: string | undefined;
  /** Tableau site contentUrl the export reads from; default "" (one site for the whole config). */
  readonly site?: string | undefined;
}

export interface QueueSchedulerDeps {
  /** Redis URL (a connection is opened and closed by the scheduler) or an ioredis client (borrowed, not closed). */
  readonly connection: string | Redis;
  /** Key prefix of every BullMQ key (config `queue.prefix`). */
  readonly prefix: string;
  readonly exports: readonly ScheduledExportLike[];
  /** Default time zone of schedules (config `timezone`). */
  readonly timezone: string;
  /** Concurrent runs per Tableau site across all workers (config `queue.siteConcurrency`). */
  readonly siteConcurrency: number;
  /** Sign-in sessions that may be used at once (1 for a single PAT: Tableau ends a PAT's previous session at each sign-in). Default unlimited. */
  readonly sessionCapacity?: number | undefined;
  readonly runJobs?: RunJobSettings | undefined;
  /**
   * Run history: when given, a manual run is recorded (as `running`, trigger manual) the moment it is queued, so the
   * admin API can show its run id at once; the worker that takes it overwrites that entry when the run starts.
   */
  readonly store?: RunStore | undefined;
  readonly logger: Logger;
  readonly now?: () => Date;
}

export interface QueueScheduler {
  /** Upserts a job scheduler per scheduled export and removes those of exports that are gone or lost their schedule. Call at start and on config reload. */
  sync(exports: readonly ScheduledExportLike[]): Promise<void>;
  /** Queues a manual run; `{ conflict: true }` when a run of this export is already queued or running anywhere. Throws UsageError for an unknown export id. */
  /** `retryOf`: a burst retry keeps the parts that failed run delivered (`run --failed`). */
  enqueueManual(exportId: string, by: string, retryOf?: string): Promise<ManualEnqueueResult>;
  /** Next tick and queued/running run of every known export (for the admin API's export list). */
  overview(): Promise<ReadonlyMap<string, QueueExportStatus>>;
  /** Run queue depth over all sites (for `/metrics`). */
  depth(): Promise<QueueDepth>;
  /** True when Redis answers (for readiness probes). */
  isReady(): Promise<boolean>;
  close(): Promise<void>;
}

/** Effective cap of concurrent runs on one site: the configured limit, never more than the sign-in sessions available. */
export function effectiveSiteConcurrency(siteConcurrency: number, sessionCapacity: number | undefined): number {
  return Math.max(1, Math.min(siteConcurrency, sessionCapacity ?? Number.POSITIVE_INFINITY));
}

/**
 * Creates the queue scheduler. Does not sync by itself: call `sync(exports)` once started. Throws nothing at creation;
 * Redis errors surface from the returned functions (and are logged while reconnecting).
 */
export function createQueueScheduler(deps: QueueSchedulerDeps): QueueScheduler {
  const { prefix, logger } = deps;
  const runJobs = deps.runJobs ?? defaultRunJobSettings;
  const now = (): Date => deps.now?.() ?? new Date();
  const ownsConnection = typeof deps.connection === 'string';
  const redis =
    typeof deps.connection === 'string'
      ? createRedisConnection(deps.connection, 'client', (err) =>
          logger.warn({ err }, 'queue scheduler: Redis connection error; retrying'),
        )
      : deps.connection;
  const onQueueError = (err: Error): void => logger.warn({ err }, 'queue scheduler: BullMQ queue error');
  const tickQueue = new Queue<TickData>(TICK_QUEUE, { connection: redis, prefix });
  tickQueue.on('error', onQueueError);
  const runQueues = new Map<string, Queue>();
  let exportsById = new Map(deps.exports.map((e) => [e.id, e]));
  const siteCap = effectiveSiteConcurrency(deps.siteConcurrency, deps.sessionCapacity);

  function runQueue(site: string): Queue {
    let q = runQueues.get(site);
    if (q === undefined) {
      q = new Queue(runQueueName(site), { connection: redis, prefix });
      q.on('error', onQueueError);
      runQueues.set(site, q);
    }
    return q;
  }

  return {
    async sync(exports) {
      exportsById = new Map(exports.map((e) => [e.id, e]));
      const sites = new Set(exports.map((e) => e.site ?? ''));
      for (const site of sites) await runQueue(site).setGlobalConcurrency(siteCap);
      const synced = await syncTickSchedulers(tickQueue, exports, deps.timezone);
      logger.info({ ...synced, siteConcurrency: siteCap }, 'queue scheduler: job schedulers synced');
    },

    async enqueueManual(exportId, by, retryOf) {
      const e = exportsById.get(exportId);
      if (e === undefined) {
        throw new UsageError(
          `export '${exportId}' is not configured; run \`tableau-export list\` to see the export ids`,
        );
      }
      return enqueueManualRun(
        runQueue(e.site ?? ''),
        exportId,
        by,
        { runJobs, store: deps.store, logger, now },
        retryOf,
      );
    },

    overview: () => readQueueOverview(tickQueue, exportsById.values(), runQueue),
    depth: () => readQueueDepth(exportsById.values(), runQueue),

    async isReady() {
      try {
        return (await redis.ping()) === 'PONG';
      } catch {
        return false;
      }
    },

    async close() {
      await tickQueue.close();
      for (const q of runQueues.values()) await q.close();
      if (ownsConnection) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
