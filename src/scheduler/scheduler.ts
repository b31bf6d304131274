/**
 * The in-process scheduling service (`serve` on one machine): fires every export at the instants of its cron pattern
 * in its time zone, never runs two runs of one export at once, catches up a missed run on start, reloads its config,
 * and shuts down within a deadline.
 *
 * It composes two parts: the tick loop (`tick-loop.ts`: timers armed from the pure `nextRun`, re-reading the wall
 * clock on waking; its timing design is described there) and the run bookkeeping (`run-tracker.ts`: starting runs,
 * one per export, skipped ticks, failed runners, the stop sequence). Catch-up on start is `catch-up.ts`.
 */
import type { RunTrigger } from '../contracts/run-report.js';
import type { Clock } from '../shared/clock.js';
import { AppError, UsageError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Redactor } from '../shared/redact.js';
import type { RunStore } from '../contracts/run-store.js';
import { realTimers, type TimerApi } from './timers.js';
import type { ScheduledExport } from './types.js';
import type { Notifier, RunObserver } from '../contracts/after-run.js';
import type { ExportRunner } from '../contracts/export-runner.js';
import type { ProgressSink } from '../contracts/run-progress.js';
import { findMissedRun } from './catch-up.js';
import { createRunTracker } from './run-tracker.js';
import { createTickLoop } from './tick-loop.js';

export interface SchedulerDeps {
  readonly exports: readonly ScheduledExport[];
  readonly runner: ExportRunner;
  readonly store: RunStore;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly newRunId: () => string;
  readonly notifier?: Notifier | undefined;
  /** Metrics and anything else that wants to hear about run starts and ends. */
  readonly observer?: RunObserver | undefined;
  /** Redacts the error of a runner that threw (the runner redacts its own reports). */
  readonly redactor?: Redactor | undefined;
  readonly timerApi?: TimerApi | undefined;
  /** Longest single timer wait; the wall clock is re-read at least this often. Default 60 000 ms. */
  readonly maxTimerMs?: number | undefined;
  /** After `stop`'s deadline aborted the runs, how long they get to record themselves. Default 10 000 ms. */
  readonly abortGraceMs?: number | undefined;
  /** Longest wait for the runner's `onStart` before `triggerNow(...).started` resolves anyway. Default 5 000 ms. */
  readonly startTimeoutMs?: number | undefined;
  /** Where runs publish their live progress (the admin server's live view). */
  readonly progress?: ProgressSink | undefined;
}

/** Result of a manual trigger: the run id (the run is recorded once `started` resolves), or a conflict. */
export type TriggerOutcome =
  | { readonly runId: string; readonly started: Promise<void> }
  | { readonly conflict: true; readonly runningRunId: string };

export interface Scheduler {
  /** Marks runs left `running` by a crash as INTERRUPTED, arms every schedule, starts due catch-up runs. */
  start(): Promise<void>;
  /** Replaces the exports (config reload). Running runs go on; unchanged schedules keep their timers. */
  reload(exports: readonly ScheduledExport[]): void;
  /**
   * Starts a run now unless one of this export is running (`{ conflict }`). Throws UsageError for an unknown export
   * and AppError `SHUTTING_DOWN` once `stop` was called.
   */
  triggerNow(exportId: string, trigger: RunTrigger): TriggerOutcome;
  isRunning(exportId: string): boolean;
  /** Id of the run in progress for this export, if any. */
  runningRunId(exportId: string): string | undefined;
  /** Next scheduled fire instant, or undefined (no schedule, or never again). */
  nextRun(exportId: string): Date | undefined;
  /** The current exports (after the last reload). */
  exports(): readonly ScheduledExport[];
  /** True between `start` and `stop`: schedules are armed and runs are accepted. */
  isActive(): boolean;
  /**
   * Stops scheduling, lets running runs finish up to `deadlineMs`, then aborts them and waits `abortGraceMs` for
   * them to record themselves (runs still unsettled are marked INTERRUPTED). Resolves when done; never rejects.
   */
  stop(options: { deadlineMs: number }): Promise<void>;
}

const DEFAULT_MAX_TIMER_MS = 60_000;

/** Creates the scheduler; nothing happens until `start()`. */
export function createScheduler(deps: SchedulerDeps): Scheduler {
  const timers = deps.timerApi ?? realTimers;
  const log = deps.logger.child({ component: 'scheduler' });
  let phase: 'idle' | 'active' | 'stopping' | 'stopped' = 'idle';

  const runs = createRunTracker({
    runner: deps.runner,
    store: deps.store,
    logger: deps.logger,
    log,
    clock: deps.clock,
    timers,
    newRunId: deps.newRunId,
    startTimeoutMs: deps.startTimeoutMs ?? 5_000,
    abortGraceMs: deps.abortGraceMs ?? 10_000,
    notifier: deps.notifier,
    observer: deps.observer,
    redactor: deps.redactor,
    latestExport: (exportId) => loop.exportOf(exportId),
    progress: deps.progress,
  });
  const loop = createTickLoop({
    exports: deps.exports,
    clock: deps.clock,
    timers,
    maxTimerMs: deps.maxTimerMs ?? DEFAULT_MAX_TIMER_MS,
    log,
    isActive: () => phase === 'active',
    onTick: (exp, trigger) => runs.tick(exp, trigger),
  });

  const catchUpIfMissed = async (exp: ScheduledExport): Promise<void> => {
    const found = await findMissedRun(exp, deps.clock.now(), deps.store);
    if (found === undefined) return;
    if (phase !== 'active' || runs.isRunning(exp.id)) return;
    log.info(
      { exportId: exp.id, missed: found.missed, lastRunStartedAt: found.lastRunStartedAt },
      `export '${exp.id}' missed its run at ${found.missed.toISOString()} (last run started ${found.lastRunStartedAt}); catching up now`,
    );
    runs.start(exp, { kind: 'catch-up', scheduledFor: found.missed.toISOString() });
  };

  return {
    async start() {
      if (phase !== 'idle') throw new AppError('SCHEDULER_STATE', `the scheduler cannot start: it is ${phase}`);
      const interrupted = await deps.store.markInterrupted(
        'the service stopped (crash or kill) while this run was in progress',
      );
      if (interrupted > 0)
        log.warn(
          { interrupted },
          `${interrupted} run(s) left running by a previous process were marked failed (INTERRUPTED)`,
        );
      phase = 'active';
      loop.armAll();
      for (const exp of loop.exports()) {
        try {
          const last = await deps.store.lastSuccess(exp.id);
          if (last !== undefined) runs.lastSuccessLoaded(last);
          await catchUpIfMissed(exp);
        } catch (err) {
          log.error(
            { err, exportId: exp.id },
            `could not read the run history of export '${exp.id}' at start; no catch-up for it`,
          );
        }
      }
      const current = loop.exports();
      const scheduled = current.filter((e) => e.schedule !== undefined).length;
      log.info(
        { exports: current.length, scheduled },
        `scheduler started: ${scheduled} of ${current.length} export(s) scheduled`,
      );
    },

    reload(exports) {
      loop.reload(exports);
      log.info({ exports: exports.length }, `configuration reloaded: ${exports.length} export(s)`);
    },

    triggerNow(exportId, trigger) {
      if (phase === 'stopping' || phase === 'stopped') {
        throw new AppError('SHUTTING_DOWN', `cannot start export '${exportId}': the service is shutting down`, {
          retryable: true,
          hint: 'try again once the service is back',
        });
      }
      const current = loop.exports();
      const exp = current.find((e) => e.id === exportId);
      if (exp === undefined) {
        throw new UsageError(`unknown export '${exportId}'`, {
          hint: `known exports: ${current.map((e) => e.id).join(', ') || '(none)'}`,
        });
      }
      const runningRunId = runs.runningRunId(exportId);
      if (runningRunId !== undefined) return { conflict: true, runningRunId };
      return runs.start(exp, trigger);
    },

    isRunning: (exportId) => runs.isRunning(exportId),
    runningRunId: (exportId) => runs.runningRunId(exportId),
    nextRun: (exportId) => loop.nextRun(exportId),
    exports: () => loop.exports(),
    isActive: () => phase === 'active',

    async stop({ deadlineMs }) {
      if (phase === 'stopping' || phase === 'stopped') return;
      phase = 'stopping';
      loop.disarmAll();
      await runs.stop(deadlineMs);
      phase = 'stopped';
      log.info('scheduler stopped');
    },
  };
}
