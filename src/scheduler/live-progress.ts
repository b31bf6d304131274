/**
 * From what a run reports (stage, rows, bytes) to the live view of it the dashboard shows: one reporter per run
 * attempt keeps when the run and its stage began and the rows of the sheets already written, and publishes at most a
 * few updates a second (a change of stage or sheet always goes out at once; an update held back goes out when the
 * interval is over, so the view never stays behind a run that then goes quiet), then the run's end.
 */
import type { LiveRun, ProgressSink, RunProgress, RunStage } from '../contracts/run-progress.js';
import type { Clock } from '../shared/clock.js';

export interface ProgressReporterDeps {
  readonly sink: ProgressSink;
  readonly clock: Clock;
  /** Shortest time between two updates of the same stage and sheet (ms). Default 250. */
  readonly minIntervalMs?: number | undefined;
}

export interface RunIdentity {
  /** The run's id (the one "Sync now" gave out, the same for every attempt). */
  readonly runId: string;
  readonly exportId: string;
  readonly attempt?: number | undefined;
  readonly worker?: string | undefined;
}

export interface ProgressReporter {
  /** Feeds one report of the pipeline. Never throws. */
  readonly report: (p: RunProgress) => void;
  /** The run ended with this status: published at once. Never throws. */
  readonly ended: (status: string) => void;
}

/** Creates the reporter of one run attempt; the run counts as started now. */
export function createProgressReporter(run: RunIdentity, deps: ProgressReporterDeps): ProgressReporter {
  const minInterval = deps.minIntervalMs ?? 250;
  const startedAt = deps.clock.now().toISOString();
  let stage: RunStage | undefined;
  let sheet: string | undefined;
  let stageStartedAt = startedAt;
  let rowsDone = 0;
  let lastSheetRows = 0;
  let lastPublishMs = 0;
  let done = false;
  let held: LiveRun | undefined;
  let timer: NodeJS.Timeout | undefined;

  const publish = (live: LiveRun): void => {
    held = undefined;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    lastPublishMs = Date.parse(live.updatedAt);
    try {
      deps.sink.publish({ kind: 'progress', run: live });
    } catch {
      // A live view that cannot keep up must never fail the run.
    }
  };
  const hold = (live: LiveRun, waitMs: number): void => {
    held = live;
    timer ??= setTimeout(() => {
      timer = undefined;
      if (held !== undefined && !done) publish(held);
    }, waitMs);
    timer.unref();
  };

  return {
    report(p) {
      if (done) return;
      const now = deps.clock.now();
      const nextStage: RunStage = p.stage === 'parse' ? 'type' : p.stage;
      const changed = nextStage !== stage || p.sheet !== sheet;
      if (changed) {
        // A new sheet starts: the rows written of the previous one are done.
        if (p.sheet !== sheet && stage === 'write') rowsDone += lastSheetRows;
        stage = nextStage;
        sheet = p.sheet;
        stageStartedAt = now.toISOString();
      }
      if (nextStage === 'write') lastSheetRows = p.rows;
      const finalOfStage = p.rowsTotal !== undefined && p.rows >= p.rowsTotal;
      const complete = p.bytesTotal !== undefined && p.bytesSent === p.bytesTotal;
      const live: LiveRun = {
        runId: run.runId,
        exportId: run.exportId,
        ...(run.attempt === undefined ? {} : { attempt: run.attempt }),
        ...(run.worker === undefined ? {} : { worker: run.worker }),
        stage: nextStage,
        sheet: p.sheet,
        ...(p.sheetIndex === undefined ? {} : { sheetIndex: p.sheetIndex }),
        ...(p.sheetCount === undefined ? {} : { sheetCount: p.sheetCount }),
        rows: p.rows,
        ...(p.rowsTotal === undefined ? {} : { rowsTotal: p.rowsTotal }),
        rowsDone,
        ...(p.bytesSent === undefined ? {} : { bytesSent: p.bytesSent }),
        ...(p.bytesTotal === undefined ? {} : { bytesTotal: p.bytesTotal }),
        startedAt,
        stageStartedAt,
        updatedAt: now.toISOString(),
        ...(p.stageTimeoutMs === undefined ? {} : { stageTimeoutMs: p.stageTimeoutMs }),
      };
      const sinceLast = now.getTime() - lastPublishMs;
      if (changed || finalOfStage || complete || sinceLast >= minInterval) publish(live);
      else hold(live, minInterval - sinceLast);
    },

    ended(status) {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      try {
        deps.sink.publish({
          kind: 'ended',
          ended: { runId: run.runId, exportId: run.exportId, status, at: deps.clock.now().toISOString() },
        });
      } catch {
        // as above
      }
    },
  };
}
