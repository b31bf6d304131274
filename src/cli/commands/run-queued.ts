/**
 * `run` in queue mode: the run is enqueued for the fleet like a "Sync now" (so it never overlaps a run of the same
 * export elsewhere), then followed in the shared run history until it ends.
 */
import { userInfo } from 'node:os';
import { AppError, UsageError } from '../../shared/errors.js';
import { isInterrupted, type RunReport } from '../../contracts/run-report.js';
import { createQueueScheduler } from '../../scheduler/queue/queue-scheduler.js';
import type { AppContext } from '../app-context.js';
import { exportListing, queueSettings } from './queue-mode.js';

const POLL_MS = 1_000;

function isFinal(run: RunReport | undefined, attempts: number): boolean {
  if (run === undefined || run.status === 'running') return false;
  // An attempt interrupted by a dying worker is retried by another one.
  return !(isInterrupted(run) && (run.attempt ?? 1) < attempts);
}

/** Enqueues one export and resolves with its final report (or throws UsageError when one is already queued/running). */
export async function runQueued(
  ctx: AppContext,
  exportId: string,
  signal: AbortSignal,
  retryOf?: string,
): Promise<RunReport> {
  const settings = queueSettings(ctx.config, process.env);
  const scheduler = createQueueScheduler({
    connection: settings.url,
    prefix: settings.prefix,
    exports: exportListing(ctx.config),
    timezone: ctx.config.timezone,
    siteConcurrency: settings.siteConcurrency,
    sessionCapacity: settings.sessionCapacity,
    runJobs: settings.runJobs,
    store: ctx.store(),
    logger: ctx.logger,
  });
  try {
    const queued = await scheduler.enqueueManual(exportId, `cli (${userInfo().username})`, retryOf);
    if ('conflict' in queued) {
      throw new AppError(
        'EXPORT_ALREADY_RUNNING',
        `a run of export "${exportId}" is already queued or running (run ${queued.activeRunId})`,
        { hint: `wait for it, or follow it with \`tableau-export history ${exportId}\`` },
      );
    }
    process.stderr.write(`queued ${exportId} as run ${queued.runId}; waiting for a worker…\n`);
    for (;;) {
      // The run keeps its id across attempts: its record reads the outcome of the latest one.
      const run = await ctx.store().getRun(queued.runId);
      if (isFinal(run, settings.runJobs.attempts) && run !== undefined) return run;
      if (signal.aborted)
        throw new UsageError(
          `stopped waiting; run ${queued.runId} goes on in the fleet (see \`tableau-export history ${exportId}\`)`,
        );
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    await scheduler.close();
  }
}
