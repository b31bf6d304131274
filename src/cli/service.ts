/**
 * Maps the validated config to what the scheduling service needs, and builds the ExportRunner over the app context.
 * Shared by `serve` (in-process scheduler) and the queue mode (`serve` + `worker` on BullMQ).
 */
import type { Config } from '../config/schema.js';
import type { ScheduledExport } from '../scheduler/types.js';
import type { ExportRunner } from '../contracts/export-runner.js';
import { describeDestination, localFileOf, notifySettingsFor, type AppContext } from './app-context.js';
import { stageTimeouts, withStageTimeouts } from './stage-timeouts.js';

/** The exports as the scheduler sees them (webhook URLs resolved from the environment). */
export function scheduledExports(config: Config, env: NodeJS.ProcessEnv): ScheduledExport[] {
  return config.exports.map((e) => ({
    id: e.id,
    schedule: e.schedule,
    timezone: e.timezone ?? config.timezone,
    catchUp: e.catchUp,
    destinationLabel: describeDestination(e),
    localFile: localFileOf(e),
    updateMode: e.destination.mode === 'update',
    notify: notifySettingsFor(e, env),
  }));
}

/** A runner over whatever app context is current (it changes on config reload). Never throws for run failures. */
export function createContextRunner(current: () => AppContext): ExportRunner {
  return (exportId, trigger, options) => {
    const ctx = current();
    const timeouts = stageTimeouts(ctx.config, ctx.findExport(exportId));
    return ctx.runOne(exportId, {
      trigger,
      runId: options.runId,
      signal: options.signal,
      onStart: options.onStart,
      attempt: options.attempt,
      logger: options.logger,
      onProgress: withStageTimeouts(timeouts, options.onProgress),
    });
  };
}
