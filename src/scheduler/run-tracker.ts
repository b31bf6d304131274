/**
 * Run bookkeeping of the in-process scheduler: starts runs through the export runner, keeps the one run in progress
 * per export, records a tick that finds its export still running as skipped, records a runner that threw as a failed
 * run, hands every run to the after-run policy (metrics, notifications) and stops the runs at shutdown. The tick loop
 * decides *when* an export runs; this module decides what starting it means.
 */
import type { Notifier, RunObserver } from '../contracts/after-run.js';
import type { ExportRunner } from '../contracts/export-runner.js';
import { skippedRunReport, type RunReport, type RunTrigger } from '../contracts/run-report.js';
import type { RunStore } from '../contracts/run-store.js';
import type { ProgressSink } from '../contracts/run-progress.js';
import { createAfterRun } from '../pipeline/after-run.js';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Redactor } from '../shared/redact.js';
import { createProgressReporter } from './live-progress.js';
import { stopActiveRuns } from './run-shutdown.js';
import type { TimerApi } from './timers.js';
import type { ScheduledExport } from './types.js';

export interface RunTrackerDeps {
  readonly runner: ExportRunner;
  readonly store: RunStore;
  /** The service's logger: each run logs through a child of it carrying its run and export ids. */
  readonly logger: Logger;
  /** The scheduler's own (component) logger. */
  readonly log: Logger;
  readonly clock: Clock;
  readonly timers: TimerApi;
  readonly newRunId: () => string;
  /** Longest wait for the runner's `onStart` before `started` resolves anyway (ms). */
  readonly startTimeoutMs: number;
  /** After `stop`'s deadline aborted the runs, how long they get to record themselves (ms). */
  readonly abortGraceMs: number;
  readonly notifier?: Notifier | undefined;
  readonly observer?: RunObserver | undefined;
  /** Redacts the error of a runner that threw (the runner redacts its own reports). */
  readonly redactor?: Redactor | undefined;
  /** The export as the latest config has it; undefined once a reload removed it. */
  readonly latestExport: (exportId: string) => ScheduledExport | undefined;
  /** Where runs publish their live progress (the admin server's live view). */
  readonly progress?: ProgressSink | undefined;
}

export interface RunTracker {
  /** Starts a run of `exp` now; `started` resolves once the runner's `onStart` fires (or after `startTimeoutMs`). */
  start(exp: ScheduledExport, trigger: RunTrigger): { runId: string; started: Promise<void> };
  /** A scheduled tick: starts a run, or records a skipped run when one of this export is still running. */
  tick(exp: ScheduledExport, trigger: RunTrigger): void;
  isRunning(exportId: string): boolean;
  /** Id of the run in progress for this export, if any. */
  runningRunId(exportId: string): string | undefined;
  /** The last success found in the history at start (so "last success time" survives a restart). */
  lastSuccessLoaded(report: RunReport): void;
  /**
   * Lets running runs finish up to `deadlineMs`, then aborts them (see {@link stopActiveRuns}), then waits for the
   * skipped records still being written. Never rejects.
   */
  stop(deadlineMs: number): Promise<void>;
}

interface ActiveRun {
  readonly runId: string;
  readonly controller: AbortController;
  done: Promise<void>;
  /** Aborted by `stop`: its failure is the operator's shutdown, not news for the webhook. */
  abortedByStop: boolean;
}

/** Creates the run bookkeeping; it holds no run until `start` or `tick`. */
export function createRunTracker(deps: RunTrackerDeps): RunTracker {
  const { log, timers } = deps;
  const active = new Map<string, ActiveRun>();
  /** Bookkeeping started outside a run (skipped records, catch-up checks), awaited by `stop`. */
  const pending = new Set<Promise<unknown>>();

  // The latest config decides where notifications go (a reload may have changed them during the run); an export
  // removed meanwhile keeps the settings it started with.
  const startedWith = new Map<string, ScheduledExport>();
  const afterRun = createAfterRun({
    logger: deps.logger,
    observer: deps.observer,
    notifier: deps.notifier,
    notifySettings: (exportId) => (deps.latestExport(exportId) ?? startedWith.get(exportId))?.notify,
  });

  const track = (p: Promise<unknown>): void => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  const recordSkipped = async (exp: ScheduledExport, trigger: RunTrigger, runningRunId: string): Promise<void> => {
    afterRun.recorded(await recordStillRunning(deps, exp, trigger, runningRunId));
  };

  const start = (exp: ScheduledExport, trigger: RunTrigger): { runId: string; started: Promise<void> } => {
    const runId = deps.newRunId();
    const startedAt = deps.clock.now();
    const runLog = log.child({ runId, exportId: exp.id });
    const controller = new AbortController();
    let markStarted = (): void => undefined;
    const started = new Promise<void>((resolve) => {
      markStarted = resolve;
    });
    const startTimer = timers.setTimeout(() => markStarted(), deps.startTimeoutMs);
    const run: ActiveRun = { runId, controller, done: Promise.resolve(), abortedByStop: false };
    active.set(exp.id, run);
    startedWith.set(exp.id, exp);
    afterRun.started(exp.id, runId);
    runLog.info({ trigger }, `run of export '${exp.id}' starting (${describeTrigger(trigger)})`);
    const progress =
      deps.progress === undefined
        ? undefined
        : createProgressReporter({ runId, exportId: exp.id }, { sink: deps.progress, clock: deps.clock });

    const execute = async (): Promise<void> => {
      let report: RunReport;
      try {
        report = await deps.runner(exp.id, trigger, {
          signal: controller.signal,
          runId,
          onStart: () => markStarted(),
          logger: deps.logger.child({ runId, exportId: exp.id }),
          onProgress: progress?.report,
        });
      } catch (err) {
        if (err instanceof AppError && err.code === 'EXPORT_ALREADY_RUNNING') {
          // Another process (a `run` in a terminal) holds the export's lock: the same as a tick finding a run of
          // this process still going.
          report = await writeSkippedRun(deps, exp, trigger, `skipped: ${err.message}`, runId);
        } else {
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
        }
      } finally {
        timers.clearTimeout(startTimer);
        markStarted();
        if (active.get(exp.id) === run) active.delete(exp.id);
      }
      progress?.ended(report.status);
      logRunEnd(runLog, exp.id, report);
      await afterRun.finished(report, { abortedByStop: run.abortedByStop });
    };
    run.done = execute();
    return { runId, started };
  };

  return {
    start,
    tick(exp, trigger) {
      const running = active.get(exp.id);
      if (running === undefined) {
        start(exp, trigger);
      } else {
        track(recordSkipped(exp, trigger, running.runId));
      }
    },
    isRunning: (exportId) => active.has(exportId),
    runningRunId: (exportId) => active.get(exportId)?.runId,
    lastSuccessLoaded: (report) => afterRun.lastSuccessLoaded(report),
    async stop(deadlineMs) {
      await stopActiveRuns(active, { deadlineMs, abortGraceMs: deps.abortGraceMs, timers, store: deps.store, log });
      await Promise.allSettled([...pending]);
    },
  };
}

/** Records a tick that found run `runningRunId` of its export still going as a skipped run; returns its report. */
async function recordStillRunning(
  deps: Pick<RunTrackerDeps, 'newRunId' | 'clock' | 'store' | 'log'>,
  exp: ScheduledExport,
  trigger: RunTrigger,
  runningRunId: string,
): Promise<RunReport> {
  const at = deps.clock.now().toISOString();
  const when = trigger.kind === 'schedule' && trigger.scheduledFor !== undefined ? trigger.scheduledFor : at;
  return writeSkippedRun(
    deps,
    exp,
    trigger,
    `skipped: run ${runningRunId} of this export was still running at the scheduled time ${when}`,
  );
}

/** Records a run that was not started, with why, as a skipped run (under `runId`, or a new id); returns its report. */
async function writeSkippedRun(
  deps: Pick<RunTrackerDeps, 'newRunId' | 'clock' | 'store' | 'log'>,
  exp: ScheduledExport,
  trigger: RunTrigger,
  reason: string,
  runId: string = deps.newRunId(),
): Promise<RunReport> {
  const at = deps.clock.now().toISOString();
  const report = skippedRunReport(runId, exp.id, trigger, at, reason);
  const runLog = deps.log.child({ runId, exportId: exp.id });
  try {
    await deps.store.insertRun({ runId, exportId: exp.id, trigger, startedAt: at, status: 'skipped' });
    await deps.store.finishRun(report);
    runLog.warn(`run of export '${exp.id}' ${reason}`);
  } catch (err) {
    runLog.error({ err }, `could not record the skipped run of export '${exp.id}'`);
  }
  return report;
}

function logRunEnd(runLog: Logger, exportId: string, report: RunReport): void {
  runLog.info(
    {
      status: report.status,
      rows: report.rows,
      bytes: report.bytes,
      durationMs: report.durationMs,
      errorCode: report.error?.code,
    },
    `run of export '${exportId}' ${report.status}${report.error === undefined ? '' : `: ${report.error.code}: ${report.error.message}`}`,
  );
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
