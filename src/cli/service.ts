/**
 * Maps the validated config to what the scheduling service needs, and builds the ExportRunner over the app context.
 * Shared by `serve` (in-process scheduler) and the queue mode (`serve` + `worker` on BullMQ).
 */
import type { Config } from '../config/schema.js';
import type { ExportRunner, ScheduledExport } from '../scheduler/types.js';
import { DEFAULT_ROW_DROP_SHARE } from '../scheduler/types.js';
import { describeDestination, type AppContext } from './app-context.js';

/** The exports as the scheduler sees them (webhook URLs resolved from the environment). */
export function scheduledExports(config: Config, env: NodeJS.ProcessEnv): ScheduledExport[] {
  return config.exports.map((e) => {
    const webhookUrl = e.notify === undefined ? undefined : env[e.notify.webhookUrlEnv];
    return {
      id: e.id,
      schedule: e.schedule,
      timezone: e.timezone ?? config.timezone,
      catchUp: e.catchUp,
      destinationLabel: describeDestination(e),
      notify:
        e.notify === undefined || webhookUrl === undefined || webhookUrl === ''
          ? undefined
          : { webhookUrl, rowDropShare: e.notify.rowDropShare ?? DEFAULT_ROW_DROP_SHARE },
    };
  });
}

/** A runner over whatever app context is current (it changes on config reload). Never throws for run failures. */
export function createContextRunner(current: () => AppContext): ExportRunner {
  return (exportId, trigger, options) =>
    current().runOne(exportId, { trigger, runId: options.runId, signal: options.signal, onStart: options.onStart });
}
