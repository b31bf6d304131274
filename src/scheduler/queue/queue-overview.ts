/**
 * What the queue says about the exports right now, read from Redis on every call (so every replica shows the
 * fleet-wide state): next tick and queued/running run per export, and run queue depth over all sites.
 */
import type { Queue } from 'bullmq';
import type { TickData } from './queue-contract.js';

export interface QueueDepth {
  /** Runs waiting for a worker or for a free slot under the site limit. */
  readonly waiting: number;
  /** Runs waiting for their retry delay. */
  readonly delayed: number;
  /** Runs being processed now (= active runs across the fleet). */
  readonly active: number;
}

/** What the queue knows about one export right now. */
export interface QueueExportStatus {
  /** Next scheduled tick (undefined for manual-only exports). */
  readonly nextRun: Date | undefined;
  /** Job id (= run id of attempt 1) of the run queued or running anywhere, if any. */
  readonly activeRunId: string | undefined;
}

/** An export as the overview reads it. */
export interface OverviewExport {
  readonly id: string;
  readonly schedule?: string | undefined;
  readonly site?: string | undefined;
}

/** Next tick (from the job schedulers) and queued/running run (from deduplication) of every export, by export id. */
export async function readQueueOverview(
  tickQueue: Queue<TickData>,
  exports: Iterable<OverviewExport>,
  runQueue: (site: string) => Queue,
): Promise<ReadonlyMap<string, QueueExportStatus>> {
  const next = new Map((await tickQueue.getJobSchedulers(0, -1)).map((j) => [j.id ?? j.key, j.next]));
  const out = new Map<string, QueueExportStatus>();
  for (const e of exports) {
    const activeRunId = await runQueue(e.site ?? '').getDeduplicationJobId(e.id);
    const nextMs = e.schedule === undefined ? undefined : next.get(e.id);
    out.set(e.id, {
      nextRun: nextMs === undefined ? undefined : new Date(nextMs),
      activeRunId: activeRunId ?? undefined,
    });
  }
  return out;
}

/** Run queue depth summed over the sites of `exports`. */
export async function readQueueDepth(
  exports: Iterable<OverviewExport>,
  runQueue: (site: string) => Queue,
): Promise<QueueDepth> {
  const sites = new Set([...exports].map((e) => e.site ?? ''));
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
}
