/**
 * The BullMQ job schedulers of the `ticks` queue, one per scheduled export: bringing them in line with the config
 * without losing a tick that is due right now, and upserting one while other processes race on the same scheduler.
 */
import type { JobSchedulerJson, Queue } from 'bullmq';
import type { TickData } from './queue-contract.js';

/** What the sync needs to know about an export. */
export interface TickSchedulerExport {
  readonly id: string;
  readonly schedule?: string | undefined;
  readonly timezone?: string | undefined;
  readonly site?: string | undefined;
}

/** What a sync did, for its log line. */
export interface TickSchedulerSync {
  /** Scheduled exports, i.e. job schedulers wanted. */
  readonly schedulers: number;
  readonly upserted: number;
  readonly removed: number;
}

/**
 * Upserts a job scheduler for every scheduled export whose scheduler is missing or differs (pattern, zone, export,
 * site) and removes the schedulers of exports that are gone or lost their schedule. Rejects on Redis errors.
 */
export async function syncTickSchedulers(
  tickQueue: Queue<TickData>,
  exports: readonly TickSchedulerExport[],
  defaultTimezone: string,
): Promise<TickSchedulerSync> {
  const wanted = exports.flatMap((e) => (e.schedule === undefined ? [] : [{ ...e, schedule: e.schedule }]));
  const existing = new Map((await tickQueue.getJobSchedulers(0, -1)).map((s) => [s.id ?? s.key, s]));
  let upserted = 0;
  for (const e of wanted) {
    const tz = e.timezone ?? defaultTimezone;
    const site = e.site ?? '';
    // Upserting replaces the scheduler's pending tick job with one computed from "now": done at the moment a tick
    // is due but not yet taken, it would lose that tick. So an unchanged scheduler is left alone (config reloads,
    // several serve processes starting); only new or changed schedules are upserted.
    if (schedulerMatches(existing.get(e.id), e.schedule, tz, e.id, site)) continue;
    upserted += 1;
    await upsertTickScheduler(tickQueue, e.id, e.schedule, tz, site);
  }
  const wantedIds = new Set(wanted.map((e) => e.id));
  let removed = 0;
  for (const id of existing.keys()) {
    if (!wantedIds.has(id)) {
      await tickQueue.removeJobScheduler(id);
      removed += 1;
    }
  }
  return { schedulers: wanted.length, upserted, removed };
}

function schedulerMatches(
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

async function upsertTickScheduler(
  tickQueue: Queue<TickData>,
  exportId: string,
  pattern: string,
  tz: string,
  site: string,
): Promise<void> {
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
      if (schedulerMatches(await tickQueue.getJobScheduler(exportId), pattern, tz, exportId, site)) return;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}
