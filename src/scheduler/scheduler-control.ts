import type { ExportControl } from '../contracts/export-control.js';
import type { Scheduler } from './scheduler.js';
import { AppError, UsageError } from '../shared/errors.js';

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
        ...(e.localFile === undefined ? {} : { localFile: e.localFile }),
        updateMode: e.updateMode === true,
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
