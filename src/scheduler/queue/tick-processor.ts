/**
 * Tick → run job: how a queue worker turns a tick of a BullMQ job scheduler into the run job of that tick, or into a
 * `skipped` history entry when a run of the export is already queued or running anywhere (see queue-worker.ts for
 * why a skip, not a delay).
 */
import type { Job, Queue } from 'bullmq';
import { skippedRunReport, type RunTrigger } from '../../contracts/run-report.js';
import type { RunStore } from '../../contracts/run-store.js';
import type { Logger } from '../../shared/logger.js';
import { enqueueRun, scheduledRunJobId, skippedRunId, tickDataSchema, type RunJobSettings } from './queue-contract.js';

export interface TickProcessorDeps {
  /** The run queue of every site this worker serves. */
  readonly runQueues: ReadonlyMap<string, Queue>;
  readonly runJobs: RunJobSettings;
  readonly store: RunStore;
  readonly logger: Logger;
  readonly now: () => Date;
}

/**
 * Creates the processor of tick jobs. It resolves to the run job id of the tick (`<exportId>@<tick ms>`, so a tick
 * processed twice still adds one run) or to the skipped run's id; it throws for a tick of a site this worker does not
 * serve, and when Redis or the run store fails (BullMQ then fails the tick job).
 */
export function createTickProcessor(deps: TickProcessorDeps): (job: Job) => Promise<string> {
  const { runQueues, runJobs, store, logger, now } = deps;
  return async function processTick(job: Job): Promise<string> {
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
  };
}
