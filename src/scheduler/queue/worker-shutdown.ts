/**
 * Graceful shutdown of a queue worker: stop taking jobs and wait for the running ones; past the grace, abort them so
 * their processors hand the jobs back to the queue (see run-processor.ts), then release queues and connections.
 */
import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../../shared/logger.js';

/** What a queue worker holds open. */
export interface WorkerResources {
  readonly workers: readonly Worker[];
  readonly runQueues: ReadonlyMap<string, Queue>;
  /** Connections the worker opened itself (none when it borrowed one). */
  readonly owned: readonly Redis[];
  readonly logger: Logger;
}

/**
 * Closes the workers, waiting for running jobs; after `graceMs` (undefined: no limit) every running job is cancelled.
 * Then closes the run queues and quits the owned connections (disconnecting those that cannot quit).
 */
export async function closeWorkerResources(resources: WorkerResources, graceMs: number | undefined): Promise<void> {
  const { workers, runQueues, owned, logger } = resources;
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
}
