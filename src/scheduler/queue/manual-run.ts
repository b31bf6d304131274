/**
 * Manual runs in queue mode ("Sync now", `tableau-export run --queued`): a run job added straight to the export's
 * site run queue, deduplicated on the export id like scheduled runs.
 */
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { RunStore } from '../../contracts/run-store.js';
import type { Logger } from '../../shared/logger.js';
import { enqueueRun, manualRunJobId, type RunJobSettings } from './queue-contract.js';

export type ManualEnqueueResult =
  { readonly runId: string } | { readonly conflict: true; readonly activeRunId: string };

export interface ManualRunDeps {
  readonly runJobs: RunJobSettings;
  /** When given, the run is recorded as `running` (trigger manual) the moment it is queued. */
  readonly store?: RunStore | undefined;
  readonly logger: Logger;
  readonly now: () => Date;
}

/**
 * Queues a manual run of `exportId` on `queue`, triggered `by` a caller; `{ conflict: true }` with the id of the run
 * already queued or running anywhere. Rejects when the run could not be queued. Once it is queued, a failed write of
 * its `running` record (Redis went away in between) is logged, not thrown: the run will happen and its worker records
 * it as it starts, so the caller must hear the run id; an error would make it retry and start a second run.
 */
export async function enqueueManualRun(
  queue: Queue,
  exportId: string,
  by: string,
  deps: ManualRunDeps,
  retryOf?: string,
): Promise<ManualEnqueueResult> {
  const jobId = manualRunJobId(exportId, randomUUID().slice(0, 8));
  const data = { exportId, trigger: { kind: 'manual' as const, by }, ...(retryOf === undefined ? {} : { retryOf }) };
  const result = await enqueueRun(queue, jobId, data, deps.runJobs);
  if (result.added) {
    deps.logger.info({ exportId, runId: jobId, by }, 'queue scheduler: manual run queued');
    await deps.store
      ?.insertRun({
        runId: jobId,
        exportId,
        trigger: { kind: 'manual', by },
        startedAt: deps.now().toISOString(),
        attempt: 1,
      })
      .catch((err: unknown) =>
        deps.logger.warn(
          { exportId, runId: jobId, err: err instanceof Error ? err.message : String(err) },
          'queue scheduler: manual run queued, but not yet recorded in the history (its worker records it)',
        ),
      );
    return { runId: jobId };
  }
  return { conflict: true, activeRunId: result.existingJobId };
}
