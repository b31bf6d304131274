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
import { randomUUID } from 'node:crypto';
import { Queue, type JobSchedulerJson } from 'bullmq';
import type { Redis } from 'ioredis';
import { UsageError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { RunStore } from '../../contracts/run-store.js';
import {
  TICK_QUEUE,
  defaultRunJobSettings,
  enqueueRun,
  manualRunJobId,
  runQueueName,
  type RunJobSettings,
  type TickData,
} from './queue-contract.js';
import { createRedisConnection } from './redis-connection.js';

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

export interface QueueDepth {
  /** Runs waiting for a worker or for a free slot under the site limit. */
  readonly waiting: number;
  /** Runs waiting for their retry delay. */
  readonly delayed: number;
  /** Runs being processed now (= active runs across the fleet). */
  readonly active: number;
}

export type ManualEnqueueResult =
  { readonly runId: string } | { readonly conflict: true; readonly activeRunId: string };

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

/** What the queue knows about one export right now. */
export interface QueueExportStatus {
  /** Next scheduled tick (undefined for manual-only exports). */
  readonly nextRun: Date | undefined;
  /** Job id (= run id of attempt 1) of the run queued or running anywhere, if any. */
  readonly activeRunId: string | undefined;
}

export interface QueueScheduler {
  /** Upserts a job scheduler per scheduled export and removes those of exports that are gone or lost their schedule. Call at start and on config reload. */
  sync(exports: readonly ScheduledExportLike[]): Promise<void>;
  /** Queues a manual run; `{ conflict: true }` when a run of this export is already queued or running anywhere. Throws UsageError for an unknown export id. */
  enqueueManual(exportId: string, by: string): Promise<ManualEnqueueResult>;
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

  function matches(
    current: JobSchedulerJson<TickData> | undefined,
    pattern: string,
    tz: string,
    exportId: string,
    site: string,
  ): boolean {
    return (
      current !== undefined &&
      current.pattern === pattern &&
      current.tz === tz &&
      current.template?.data?.exportId === exportId &&
      current.template.data.site === site
    );
  }

  async function upsertScheduler(exportId: string, pattern: string, tz: string, site: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await tickQueue.upsertJobScheduler(
          exportId,
          { pattern, tz },
          {
            name: 'tick',
            data: { exportId, site },
            opts: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } },
          },
        );
        return;
      } catch (err) {
        // Another process (a second serve starting, or a worker creating the next tick) added this scheduler's next
        // tick job at the same moment. If the scheduler now has our settings, it is done; otherwise try again once
        // that tick job is a plain delayed job that an upsert can replace.
        if (!(err instanceof Error) || !err.message.includes('job ID already exists') || attempt >= 5) throw err;
        if (matches(await tickQueue.getJobScheduler(exportId), pattern, tz, exportId, site)) return;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  return {
    async sync(exports) {
      exportsById = new Map(exports.map((e) => [e.id, e]));
      const sites = new Set(exports.map((e) => e.site ?? ''));
      for (const site of sites) await runQueue(site).setGlobalConcurrency(siteCap);

      const wanted = exports.flatMap((e) => (e.schedule === undefined ? [] : [{ ...e, schedule: e.schedule }]));
      const existing = new Map((await tickQueue.getJobSchedulers(0, -1)).map((s) => [s.id ?? s.key, s]));
      let upserted = 0;
      for (const e of wanted) {
        const tz = e.timezone ?? deps.timezone;
        const site = e.site ?? '';
        // Upserting replaces the scheduler's pending tick job with one computed from "now": done at the moment a tick
        // is due but not yet taken, it would lose that tick. So an unchanged scheduler is left alone (config reloads,
        // several serve processes starting); only new or changed schedules are upserted.
        if (matches(existing.get(e.id), e.schedule, tz, e.id, site)) continue;
        upserted += 1;
        await upsertScheduler(e.id, e.schedule, tz, site);
      }
      const wantedIds = new Set(wanted.map((e) => e.id));
      let removed = 0;
      for (const id of existing.keys()) {
        if (!wantedIds.has(id)) {
          await tickQueue.removeJobScheduler(id);
          removed += 1;
        }
      }
      logger.info(
        { schedulers: wanted.length, upserted, removed, siteConcurrency: siteCap },
        'queue scheduler: job schedulers synced',
      );
    },

    async enqueueManual(exportId, by) {
      const e = exportsById.get(exportId);
      if (e === undefined) {
        throw new UsageError(
          `export '${exportId}' is not configured; run \`tableau-export list\` to see the export ids`,
        );
      }
      const jobId = manualRunJobId(exportId, randomUUID().slice(0, 8));
      const result = await enqueueRun(
        runQueue(e.site ?? ''),
        jobId,
        { exportId, trigger: { kind: 'manual', by } },
        runJobs,
      );
      if (result.added) {
        logger.info({ exportId, runId: jobId, by }, 'queue scheduler: manual run queued');
        await deps.store?.insertRun({
          runId: jobId,
          exportId,
          trigger: { kind: 'manual', by },
          startedAt: (deps.now?.() ?? new Date()).toISOString(),
          attempt: 1,
        });
        return { runId: jobId };
      }
      return { conflict: true, activeRunId: result.existingJobId };
    },

    async overview() {
      const next = new Map((await tickQueue.getJobSchedulers(0, -1)).map((j) => [j.id ?? j.key, j.next]));
      const out = new Map<string, QueueExportStatus>();
      for (const e of exportsById.values()) {
        const activeRunId = await runQueue(e.site ?? '').getDeduplicationJobId(e.id);
        const nextMs = e.schedule === undefined ? undefined : next.get(e.id);
        out.set(e.id, {
          nextRun: nextMs === undefined ? undefined : new Date(nextMs),
          activeRunId: activeRunId ?? undefined,
        });
      }
      return out;
    },

    async depth() {
      const sites = new Set([...exportsById.values()].map((e) => e.site ?? ''));
      let waiting = 0;
      let delayed = 0;
      let active = 0;
      for (const site of sites) {
        const c = await runQueue(site).getJobCounts('waiting', 'prioritized', 'delayed', 'active');
        waiting += (c['waiting'] ?? 0) + (c['prioritized'] ?? 0);
        delayed += c['delayed'] ?? 0;
        active += c['active'] ?? 0;
      }
      return { waiting, delayed, active };
    },

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
