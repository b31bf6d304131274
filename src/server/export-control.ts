/**
 * What the admin server needs to list and start exports. Owned here, by the consumer: the in-process scheduler
 * provides it through {@link createSchedulerControl}, and the BullMQ queue mode provides the same interface.
 */
import type { Scheduler } from '../scheduler/scheduler.js';
import { AppError, UsageError } from '../shared/errors.js';

/** One export as the API and dashboard show it. */
export interface ExportInfo {
  readonly id: string;
  /** Cron pattern, or undefined for manual-only exports. */
  readonly schedule: string | undefined;
  readonly timezone: string;
  readonly nextRun: Date | undefined;
  /** A run of this export is running or queued. */
  readonly running: boolean;
  /** Id of that run, when known. */
  readonly runningRunId: string | undefined;
  readonly destinationLabel: string;
}

export type TriggerResult =
  /** The run was accepted; it is in the run history (at least as `running`) by the time this resolves. */
  | { readonly outcome: 'started'; readonly runId: string }
  /** A run of this export is already running or queued. */
  | { readonly outcome: 'conflict'; readonly runningRunId: string | undefined }
  | { readonly outcome: 'not-found' }
  /** Not accepting runs now (shutting down, queue unreachable); `message` says why. */
  | { readonly outcome: 'unavailable'; readonly message: string };

export interface ExportControl {
  list(): Promise<readonly ExportInfo[]>;
  /** Starts a manual run of `exportId`, recorded as triggered by `by` (an admin token's name). */
  trigger(exportId: string, by: string): Promise<TriggerResult>;
  /** True when runs can be started (scheduler running / queue reachable). */
  isReady(): Promise<boolean>;
}

/** The narrow part of the scheduler the in-process control uses. */
export type SchedulerForControl = Pick<
  Scheduler,
  'exports' | 'nextRun' | 'isRunning' | 'runningRunId' | 'triggerNow' | 'isActive'
>;

/** {@link ExportControl} over the in-process scheduler (`serve` on one machine). */
export function createSchedulerControl(scheduler: SchedulerForControl): ExportControl {
  return {
    async list() {
      return scheduler.exports().map((e) => ({
        id: e.id,
        schedule: e.schedule,
        timezone: e.timezone,
        nextRun: scheduler.nextRun(e.id),
        running: scheduler.isRunning(e.id),
        runningRunId: scheduler.runningRunId(e.id),
        destinationLabel: e.destinationLabel,
      }));
    },

    async trigger(exportId, by) {
      if (!scheduler.exports().some((e) => e.id === exportId)) return { outcome: 'not-found' };
      try {
        const result = scheduler.triggerNow(exportId, { kind: 'manual', by });
        if ('conflict' in result) return { outcome: 'conflict', runningRunId: result.runningRunId };
        await result.started;
        return { outcome: 'started', runId: result.runId };
      } catch (err) {
        // A reload may remove the export between the check above and the trigger.
        if (err instanceof UsageError) return { outcome: 'not-found' };
        if (err instanceof AppError && err.code === 'SHUTTING_DOWN')
          return { outcome: 'unavailable', message: err.message };
        throw err;
      }
    },

    async isReady() {
      return scheduler.isActive();
    },
  };
}
