/**
 * The in-process scheduling service (`serve` on one machine): fires every export at the instants of its cron pattern
 * in its time zone, never runs two runs of one export at once, catches up a missed run on start, reloads its config,
 * and shuts down within a deadline.
 *
 * Timing design: no cron library ticks for us. Each export's next fire instant comes from the
 * pure {@link nextRun} (DST rules documented there), and a single timer per export waits for it through the
 * injectable {@link TimerApi}. Timers never wait longer than `maxTimerMs` (60 s by default): on waking, the wall clock
 * is read again, so a clock jump, a suspended VM or a timer firing early only shifts the tick, never loses or repeats
 * it. Tests drive the same code with a fake clock and fake timers.
 */
import { isInterrupted, skippedRunReport, type RunReport, type RunTrigger } from '../contracts/run-report.js';
import type { Clock } from '../shared/clock.js';
import { AbortedError, AppError, UsageError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Redactor } from '../shared/redact.js';
import type { RunStore } from '../contracts/run-store.js';
import { nextRun, previousRun } from '../shared/cron-schedule.js';
import { realTimers, type TimerApi } from './timers.js';
import type { ScheduledExport } from './types.js';
import { createAfterRun } from '../pipeline/after-run.js';
import type { Notifier, RunObserver } from '../contracts/after-run.js';
import type { ExportRunner } from '../contracts/export-runner.js';

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

interface Entry {
  exp: ScheduledExport;
  timer: unknown;
  nextAt: number | undefined;
}

interface ActiveRun {
  readonly runId: string;
  readonly controller: AbortController;
  done: Promise<void>;
  /** Aborted by `stop`: its failure is the operator's shutdown, not news for the webhook. */
  abortedByStop: boolean;
}

const DEFAULT_MAX_TIMER_MS = 60_000;

/** Creates the scheduler; nothing happens until `start()`. */
export function createScheduler(deps: SchedulerDeps): Scheduler {
  const timers = deps.timerApi ?? realTimers;
  const maxTimerMs = deps.maxTimerMs ?? DEFAULT_MAX_TIMER_MS;
  const abortGraceMs = deps.abortGraceMs ?? 10_000;
  const startTimeoutMs = deps.startTimeoutMs ?? 5_000;
  const log = deps.logger.child({ component: 'scheduler' });

  let current: readonly ScheduledExport[] = deps.exports;
  const entries = new Map<string, Entry>();
  const active = new Map<string, ActiveRun>();
  /** Bookkeeping started outside a run (skipped records, catch-up checks), awaited by `stop`. */
  const pending = new Set<Promise<unknown>>();
  let phase: 'idle' | 'active' | 'stopping' | 'stopped' = 'idle';

  // The latest config decides where notifications go (a reload may have changed them during the run); an export
  // removed meanwhile keeps the settings it started with.
  const startedWith = new Map<string, ScheduledExport>();
  const afterRun = createAfterRun({
    logger: deps.logger,
    observer: deps.observer,
    notifier: deps.notifier,
    notifySettings: (exportId) => (entries.get(exportId)?.exp ?? startedWith.get(exportId))?.notify,
  });

  const track = (p: Promise<unknown>): void => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  const computeNext = (exp: ScheduledExport, from: Date): number | undefined => {
    if (exp.schedule === undefined) return undefined;
    try {
      return nextRun(from, exp.schedule, exp.timezone)?.getTime();
    } catch (err) {
      // Config validation rejects bad patterns before they get here; if one slips through, the export stays manual.
      log.error(
        { err, exportId: exp.id },
        `export '${exp.id}' is not scheduled: ${err instanceof Error ? err.message : String(err)}`,
      );
      return undefined;
    }
  };

  const wait = (entry: Entry): void => {
    if (entry.nextAt === undefined) return;
    const delay = Math.min(maxTimerMs, Math.max(0, entry.nextAt - deps.clock.now().getTime()));
    entry.timer = timers.setTimeout(() => onWake(entry), delay);
  };

  const arm = (entry: Entry): void => {
    disarm(entry);
    entry.nextAt = computeNext(entry.exp, deps.clock.now());
    wait(entry);
  };

  const disarm = (entry: Entry): void => {
    if (entry.timer !== undefined) timers.clearTimeout(entry.timer);
    entry.timer = undefined;
  };

  const onWake = (entry: Entry): void => {
    entry.timer = undefined;
    if (phase !== 'active' || entries.get(entry.exp.id) !== entry || entry.nextAt === undefined) return;
    const now = deps.clock.now();
    if (now.getTime() < entry.nextAt) {
      wait(entry);
      return;
    }
    const scheduledFor = new Date(entry.nextAt);
    const lateMs = now.getTime() - entry.nextAt;
    if (lateMs > 2 * maxTimerMs) {
      log.warn(
        { exportId: entry.exp.id, scheduledFor, lateMs },
        `tick of export '${entry.exp.id}' fired ${Math.round(lateMs / 1000)} s late (clock jump or suspended machine); later ticks missed meanwhile are not replayed`,
      );
    }
    tick(entry.exp, { kind: 'schedule', scheduledFor: scheduledFor.toISOString() });
    // From "now", not from the fired instant: after a long suspend we resume with the next future tick.
    entry.nextAt = computeNext(entry.exp, now);
    wait(entry);
  };

  const tick = (exp: ScheduledExport, trigger: RunTrigger): void => {
    const running = active.get(exp.id);
    if (running === undefined) {
      startRun(exp, trigger);
    } else {
      track(recordSkipped(exp, trigger, running.runId));
    }
  };

  const recordSkipped = async (exp: ScheduledExport, trigger: RunTrigger, runningRunId: string): Promise<void> => {
    const runId = deps.newRunId();
    const at = deps.clock.now().toISOString();
    const when = trigger.kind === 'schedule' && trigger.scheduledFor !== undefined ? trigger.scheduledFor : at;
    const report = skippedRunReport(
      runId,
      exp.id,
      trigger,
      at,
      `skipped: run ${runningRunId} of this export was still running at the scheduled time ${when}`,
    );
    const runLog = log.child({ runId, exportId: exp.id });
    try {
      await deps.store.insertRun({ runId, exportId: exp.id, trigger, startedAt: at, status: 'skipped' });
      await deps.store.finishRun(report);
      runLog.warn(
        { runningRunId },
        `scheduled run of export '${exp.id}' skipped: run ${runningRunId} is still running`,
      );
    } catch (err) {
      runLog.error({ err }, `could not record the skipped run of export '${exp.id}'`);
    }
    afterRun.recorded(report);
  };

  const startRun = (exp: ScheduledExport, trigger: RunTrigger): { runId: string; started: Promise<void> } => {
    const runId = deps.newRunId();
    const startedAt = deps.clock.now();
    const runLog = log.child({ runId, exportId: exp.id });
    const controller = new AbortController();
    let markStarted = (): void => undefined;
    const started = new Promise<void>((resolve) => {
      markStarted = resolve;
    });
    const startTimer = timers.setTimeout(() => markStarted(), startTimeoutMs);
    const run: ActiveRun = { runId, controller, done: Promise.resolve(), abortedByStop: false };
    active.set(exp.id, run);
    startedWith.set(exp.id, exp);
    afterRun.started(exp.id, runId);
    runLog.info({ trigger }, `run of export '${exp.id}' starting (${describeTrigger(trigger)})`);

    const execute = async (): Promise<void> => {
      let report: RunReport;
      try {
        report = await deps.runner(exp.id, trigger, {
          signal: controller.signal,
          runId,
          onStart: () => markStarted(),
          logger: deps.logger.child({ runId, exportId: exp.id }),
        });
      } catch (err) {
        runLog.error(
          { err },
          `the runner of export '${exp.id}' threw instead of returning a failed report; recording the run as failed`,
        );
        report = internalFailure(exp.id, runId, trigger, startedAt, deps.clock.now(), err, deps.redactor);
        try {
          await deps.store.finishRun(report);
        } catch (storeErr) {
          runLog.error({ err: storeErr }, 'could not record the failed run');
        }
      } finally {
        timers.clearTimeout(startTimer);
        markStarted();
        if (active.get(exp.id) === run) active.delete(exp.id);
      }
      runLog.info(
        {
          status: report.status,
          rows: report.rows,
          bytes: report.bytes,
          durationMs: report.durationMs,
          errorCode: report.error?.code,
        },
        `run of export '${exp.id}' ${report.status}${report.error === undefined ? '' : `: ${report.error.code}: ${report.error.message}`}`,
      );
      await afterRun.finished(report, { abortedByStop: run.abortedByStop });
    };
    run.done = execute();
    return { runId, started };
  };

  const catchUpIfMissed = async (exp: ScheduledExport): Promise<void> => {
    if (!exp.catchUp || exp.schedule === undefined) return;
    const now = deps.clock.now();
    let missed: Date | undefined;
    try {
      missed = previousRun(now, exp.schedule, exp.timezone);
    } catch {
      return; // computeNext logs the invalid schedule once
    }
    if (missed === undefined) return;
    const recent = await deps.store.listRuns({ exportId: exp.id, limit: 20 });
    // A run cut short by a crash did not deliver anything: it does not count as "ran at that time".
    const last = recent.find((r) => !isInterrupted(r));
    if (last === undefined) {
      // No history at all: a new export or a fresh state directory. Nothing tells us a run was missed.
      return;
    }
    if (Date.parse(last.startedAt) >= missed.getTime()) return;
    if (phase !== 'active' || active.has(exp.id)) return;
    log.info(
      { exportId: exp.id, missed, lastRunStartedAt: last.startedAt },
      `export '${exp.id}' missed its run at ${missed.toISOString()} (last run started ${last.startedAt}); catching up now`,
    );
    startRun(exp, { kind: 'catch-up', scheduledFor: missed.toISOString() });
  };

  const waitFor = (promise: Promise<unknown>, ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const timer = timers.setTimeout(() => resolve(false), ms);
      void promise.then(() => {
        timers.clearTimeout(timer);
        resolve(true);
      });
    });

  const entryOf = (exportId: string): Entry | undefined => entries.get(exportId);

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
      for (const exp of current) entries.set(exp.id, { exp, timer: undefined, nextAt: undefined });
      for (const entry of entries.values()) arm(entry);
      for (const exp of current) {
        try {
          const last = await deps.store.lastSuccess(exp.id);
          if (last !== undefined) afterRun.lastSuccessLoaded(last);
          await catchUpIfMissed(exp);
        } catch (err) {
          log.error(
            { err, exportId: exp.id },
            `could not read the run history of export '${exp.id}' at start; no catch-up for it`,
          );
        }
      }
      const scheduled = current.filter((e) => e.schedule !== undefined).length;
      log.info(
        { exports: current.length, scheduled },
        `scheduler started: ${scheduled} of ${current.length} export(s) scheduled`,
      );
    },

    reload(exports) {
      const previous = entries;
      const next = new Map<string, Entry>();
      for (const exp of exports) {
        const old = previous.get(exp.id);
        if (old !== undefined && old.exp.schedule === exp.schedule && old.exp.timezone === exp.timezone) {
          old.exp = exp;
          next.set(exp.id, old);
        } else {
          if (old !== undefined) disarm(old);
          const entry: Entry = { exp, timer: undefined, nextAt: undefined };
          next.set(exp.id, entry);
          if (phase === 'active') arm(entry);
        }
      }
      for (const [id, old] of previous) if (!next.has(id)) disarm(old);
      entries.clear();
      for (const [id, e] of next) entries.set(id, e);
      current = exports;
      log.info({ exports: exports.length }, `configuration reloaded: ${exports.length} export(s)`);
    },

    triggerNow(exportId, trigger) {
      if (phase === 'stopping' || phase === 'stopped') {
        throw new AppError('SHUTTING_DOWN', `cannot start export '${exportId}': the service is shutting down`, {
          retryable: true,
          hint: 'try again once the service is back',
        });
      }
      const exp = current.find((e) => e.id === exportId);
      if (exp === undefined) {
        throw new UsageError(`unknown export '${exportId}'`, {
          hint: `known exports: ${current.map((e) => e.id).join(', ') || '(none)'}`,
        });
      }
      const running = active.get(exportId);
      if (running !== undefined) return { conflict: true, runningRunId: running.runId };
      return startRun(exp, trigger);
    },

    isRunning: (exportId) => active.has(exportId),
    runningRunId: (exportId) => active.get(exportId)?.runId,

    nextRun(exportId) {
      const entry = entryOf(exportId);
      if (entry !== undefined && phase === 'active')
        return entry.nextAt === undefined ? undefined : new Date(entry.nextAt);
      const exp = current.find((e) => e.id === exportId);
      if (exp === undefined) return undefined;
      const at = computeNext(exp, deps.clock.now());
      return at === undefined ? undefined : new Date(at);
    },

    exports: () => current,
    isActive: () => phase === 'active',

    async stop({ deadlineMs }) {
      if (phase === 'stopping' || phase === 'stopped') return;
      phase = 'stopping';
      for (const entry of entries.values()) disarm(entry);
      const runs = [...active.values()];
      if (runs.length > 0) {
        log.info(
          { running: runs.map((r) => r.runId), deadlineMs },
          `shutting down: waiting up to ${deadlineMs} ms for ${runs.length} run(s) to finish`,
        );
        const allDone = Promise.all(runs.map((r) => r.done));
        if (!(await waitFor(allDone, deadlineMs))) {
          const left = [...active.values()];
          log.warn({ running: left.map((r) => r.runId) }, `shutdown deadline passed: aborting ${left.length} run(s)`);
          for (const r of left) {
            r.abortedByStop = true;
            r.controller.abort(
              new AbortedError('the service is shutting down: the run was aborted after the shutdown deadline'),
            );
          }
          if (!(await waitFor(allDone, abortGraceMs))) {
            const stuck = [...active.values()].map((r) => r.runId);
            log.error(
              { running: stuck },
              `${stuck.length} run(s) did not stop within ${abortGraceMs} ms of the abort; recording them as INTERRUPTED`,
            );
            try {
              await deps.store.markInterrupted('the service stopped before the run ended', { runIds: stuck });
            } catch (err) {
              log.error({ err }, 'could not mark the unfinished runs as interrupted; the next start will');
            }
          }
        }
      }
      await Promise.allSettled([...pending]);
      phase = 'stopped';
      log.info('scheduler stopped');
    },
  };
}

function describeTrigger(trigger: RunTrigger): string {
  switch (trigger.kind) {
    case 'schedule':
      return `scheduled for ${trigger.scheduledFor ?? 'now'}`;
    case 'catch-up':
      return `catch-up of ${trigger.scheduledFor ?? 'a missed run'}`;
    case 'manual':
      return `manual, by ${trigger.by}`;
    case 'cli':
      return 'from the command line';
  }
}

function internalFailure(
  exportId: string,
  runId: string,
  trigger: RunTrigger,
  startedAt: Date,
  finishedAt: Date,
  err: unknown,
  redactor: Redactor | undefined,
): RunReport {
  const raw = err instanceof Error ? err.message : String(err);
  const message = redactor === undefined ? raw : redactor.redact(raw);
  return {
    runId,
    exportId,
    trigger,
    status: 'failed',
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    sheets: [],
    rows: 0,
    bytes: 0,
    destination: undefined,
    warnings: [],
    error: { code: err instanceof AppError ? err.code : 'INTERNAL', message },
    timings: {},
    dataHash: undefined,
  };
}
