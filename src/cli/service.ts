/**
 * Maps the validated config to what the scheduling service needs, and builds the ExportRunner over the app context.
 * Shared by `serve` (in-process scheduler) and the queue mode (`serve` + `worker` on BullMQ).
 */
import type { Config } from '../config/schema.js';
import type { ScheduledExport } from '../scheduler/types.js';
import type { ExportRunner } from '../contracts/export-runner.js';
import { describeDestination, notifySettingsFor, type AppContext } from './app-context.js';

/** The exports as the scheduler sees them (webhook URLs resolved from the environment). */
export function scheduledExports(config: Config, env: NodeJS.ProcessEnv): ScheduledExport[] {
  return config.exports.map((e) => ({
    id: e.id,
    schedule: e.schedule,
    timezone: e.timezone ?? config.timezone,
    catchUp: e.catchUp,
    destinationLabel: describeDestination(e),
    notify: notifySettingsFor(e, env),
  }));
}

/** A runner over whatever app context is current (it changes on config reload). Never throws for run failures. */
export function createContextRunner(current: () => AppContext): ExportRunner {
  return (exportId, trigger, options) =>
    current().runOne(exportId, {
      trigger,
      runId: options.runId,
      signal: options.signal,
      onStart: options.onStart,
      attempt: options.attempt,
      logger: options.logger,
    });
}
