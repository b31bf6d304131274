/**
 * What the queue scheduler and the workers agree on: queue names, job and run ids, job data and job options. The ids
 * are pure functions of their inputs: the same inputs give the same ids on every process,
 * which is what makes a scheduled tick map to exactly one run across the fleet.
 */
import { z } from 'zod';
import type { JobsOptions } from 'bullmq';
import { runTriggerSchema, type RunTrigger } from '../../contracts/run-report.js';
import { attemptRunId } from '../../contracts/run-id.js';

/** Queue holding the job schedulers (one per export); its jobs are "ticks", turned into runs by any worker. */
export const TICK_QUEUE = 'ticks';

/** Name of the run queue of one Tableau site (`""` is the Default site). BullMQ forbids ':' in queue names. */
export function runQueueName(site: string): string {
  return site === '' ? 'runs-default' : `runs-site-${site.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

/**
 * Job id (and first attempt's run id) of the run of a scheduled tick: `<exportId>@<epoch ms>`. Deterministic, so a
 * tick processed twice (its worker died after enqueueing) still adds only one run. Export ids never contain '@'.
 */
export function scheduledRunJobId(exportId: string, scheduledForMs: number): string {
  return `${exportId}@${scheduledForMs}`;
}

/** Job id of a manual run: `<exportId>@manual-<suffix>`. */
export function manualRunJobId(exportId: string, suffix: string): string {
  return `${exportId}@manual-${suffix}`;
}

/**
 * Id of one attempt of a run job: the job id (= the run id) for attempt 1, then `<jobId>#<attempt>`. Each attempt
 * writes under its own id (its temp folder and log lines are its own); the run history folds them into the run.
 */
export { attemptRunId } from '../../contracts/run-id.js';

/** Run ids of attempts 1..`upTo` of a job. */
export function attemptRunIds(jobId: string, upTo: number): string[] {
  return Array.from({ length: Math.max(0, upTo) }, (_, i) => attemptRunId(jobId, i + 1));
}

/** Run id under which a tick that could not run (its export already queued or running) is recorded as skipped. */
export function skippedRunId(jobId: string): string {
  return `${jobId}~skipped`;
}

/** Data of a tick job (set in the job scheduler's template). */
export const tickDataSchema = z.object({ exportId: z.string().min(1), site: z.string() });
export type TickData = z.infer<typeof tickDataSchema>;

/** Data of a run job. */
export const runDataSchema = z.object({
  exportId: z.string().min(1),
  trigger: runTriggerSchema,
  /** A burst retry (`run --failed`): the failed run whose delivered parts the run keeps. */
  retryOf: z.string().min(1).optional(),
});
export type RunData = z.infer<typeof runDataSchema>;

/** The trigger of a run job as the domain type (zod's optional keys mapped back to the RunTrigger union). */
export function toRunTrigger(t: RunData['trigger']): RunTrigger {
  switch (t.kind) {
    case 'manual':
      return { kind: 'manual', by: t.by };
    case 'cli':
      return { kind: 'cli' };
    default:
      return { kind: t.kind, scheduledFor: t.scheduledFor };
  }
}

/** Queue settings every process must agree on (from the `queue` config). */
export interface RunJobSettings {
  /** Attempts per run (≥ 2 so a run interrupted by a dead worker is retried). */
  readonly attempts: number;
  /** Delay before retrying a run whose processing threw (ms). */
  readonly retryDelayMs: number;
}

export const defaultRunJobSettings: RunJobSettings = { attempts: 2, retryDelayMs: 5_000 };

/** Minimal view of a BullMQ queue used to add runs (so tests and callers can pass a Queue). */
export interface RunQueueLike {
  add(name: string, data: RunData, opts: JobsOptions): Promise<{ id?: string | undefined }>;
}

/**
 * Adds a run job with deduplication on the export id: while a run of the export is queued, retrying or running
 * anywhere in the fleet, BullMQ does not add another one and returns the existing job's id. That is what keeps two
 * runs of one export from ever overlapping, with no lock of our own. The deduplication key lives until the job
 * completes or finally fails.
 */
export async function enqueueRun(
  queue: RunQueueLike,
  jobId: string,
  data: RunData,
  settings: RunJobSettings,
): Promise<{ added: true } | { added: false; existingJobId: string }> {
  const job = await queue.add('run', data, {
    jobId,
    deduplication: { id: data.exportId },
    attempts: settings.attempts,
    backoff: { type: 'fixed', delay: settings.retryDelayMs },
    // Keep finished jobs for a day: a tick re-processed after a crash then finds its run's job id and adds nothing.
    removeOnComplete: { age: 24 * 3600, count: 5000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
  });
  if (job.id === undefined || job.id === jobId) return { added: true };
  return { added: false, existingJobId: job.id };
}
