/**
 * The admin server's {@link ExportControl} in queue mode, so the admin API and dashboard work unchanged on any
 * replica: the export list comes from the config plus Redis (next tick, run queued or running anywhere in the fleet),
 * and "Sync now" queues a deduplicated run.
 */
import type { ExportControl, ExportInfo, TriggerResult } from '../../contracts/export-control.js';
import { AppError, UsageError } from '../../shared/errors.js';
import type { QueueScheduler } from './queue-scheduler.js';

/** An export as the admin list shows it (the same fields the in-process scheduler has). */
export interface QueueExportListing {
  readonly id: string;
  readonly schedule?: string | undefined;
  readonly timezone: string;
  readonly destinationLabel: string;
  /** Absolute path of the workbook when the destination is a local folder. */
  readonly localFile?: string | undefined;
  readonly updateMode?: boolean | undefined;
}

/**
 * Creates the queue-mode ExportControl. `exports()` is read at every call, so a config reload shows at once (call
 * `scheduler.sync` with the same exports on reload).
 */
export function createQueueExportControl(
  scheduler: QueueScheduler,
  exports: () => readonly QueueExportListing[],
  options: { timeoutMs?: number } = {},
): ExportControl {
  const timeoutMs = options.timeoutMs ?? 5000;
  return {
    async list(): Promise<readonly ExportInfo[]> {
      const status = await scheduler.overview();
      return exports().map((e) => {
        const s = status.get(e.id);
        return {
          id: e.id,
          schedule: e.schedule,
          timezone: e.timezone,
          nextRun: s?.nextRun,
          running: s?.activeRunId !== undefined,
          runningRunId: s?.activeRunId,
          destinationLabel: e.destinationLabel,
          ...(e.localFile === undefined ? {} : { localFile: e.localFile }),
          updateMode: e.updateMode === true,
        };
      });
    },

    async trigger(exportId, by): Promise<TriggerResult> {
      if (!exports().some((e) => e.id === exportId)) return { outcome: 'not-found' };
      try {
        // While Redis is unreachable BullMQ waits for it; an admin request must get an answer instead.
        const result = await withTimeout(
          scheduler.enqueueManual(exportId, by),
          timeoutMs,
          `no answer from Redis within ${timeoutMs} ms`,
        );
        if ('conflict' in result) return { outcome: 'conflict', runningRunId: result.activeRunId };
        return { outcome: 'started', runId: result.runId };
      } catch (err) {
        if (err instanceof UsageError) return { outcome: 'not-found' };
        if (err instanceof AppError) throw err;
        // Redis down or unreachable: the API answers 503 with this, never a stack trace.
        const reason = err instanceof Error ? err.message : String(err);
        return {
          outcome: 'unavailable',
          message: `the run queue (Redis) is not reachable: ${reason}; check queue.redis and that Redis is up`,
        };
      }
    },

    isReady: () => withTimeout(scheduler.isReady(), timeoutMs, 'timeout').catch(() => false),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
