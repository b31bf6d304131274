/**
 * The admin server's view of the runs in progress: the latest progress of every run (fed in-process by the scheduler,
 * or by the Redis relay in queue mode), read by the API and pushed to the dashboard's event stream. A run that
 * reported nothing for longer than its stage's timeout is stalled: its process is stuck, or gone.
 */
import type { LiveRun, ProgressEvent, ProgressSink, RunEnded } from '../contracts/run-progress.js';
import type { Clock } from '../shared/clock.js';

/** A run in progress as the API shows it: its last report, and how it looks now. */
export interface LiveRunView extends LiveRun {
  /** Since the run started (ms). */
  readonly elapsedMs: number;
  /** Since its last report (ms). */
  readonly quietMs: number;
  /** Quiet for longer than its stage's timeout. */
  readonly stalled: boolean;
}

export type LiveEvent =
  { readonly kind: 'progress'; readonly run: LiveRunView } | { readonly kind: 'ended'; readonly ended: RunEnded };

export interface LiveRuns extends ProgressSink {
  /** Every run in progress, oldest start first. */
  list(): LiveRunView[];
  get(runId: string): LiveRunView | undefined;
  /** The run in progress of an export, if any (the latest started). */
  ofExport(exportId: string): LiveRunView | undefined;
  /** Hears every event from now on; returns the unsubscribe function. A listener that throws is dropped. */
  subscribe(listener: (event: LiveEvent) => void): () => void;
}

/** Runs silent for this long are forgotten (their process is long gone; the history has the rest). */
const FORGET_AFTER_MS = 6 * 3600_000;

export function createLiveRuns(deps: { readonly clock: Clock }): LiveRuns {
  const runs = new Map<string, LiveRun>();
  const listeners = new Set<(event: LiveEvent) => void>();

  const view = (run: LiveRun, nowMs: number): LiveRunView => {
    const quietMs = Math.max(0, nowMs - Date.parse(run.updatedAt));
    return {
      ...run,
      elapsedMs: Math.max(0, nowMs - Date.parse(run.startedAt)),
      quietMs,
      stalled: run.stageTimeoutMs !== undefined && quietMs > run.stageTimeoutMs,
    };
  };
  const emit = (event: LiveEvent): void => {
    for (const l of [...listeners]) {
      try {
        l(event);
      } catch {
        listeners.delete(l);
      }
    }
  };
  const current = (): LiveRunView[] => {
    const now = deps.clock.now().getTime();
    const out: LiveRunView[] = [];
    for (const [id, run] of runs) {
      const v = view(run, now);
      if (v.quietMs > FORGET_AFTER_MS) runs.delete(id);
      else out.push(v);
    }
    return out.sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  };

  return {
    publish(event: ProgressEvent) {
      if (event.kind === 'ended') {
        runs.delete(event.ended.runId);
        emit(event);
        return;
      }
      const known = runs.get(event.run.runId);
      // Relayed updates may arrive out of order, and a dead attempt's last words after its retry's first ones.
      if (known !== undefined && (known.attempt ?? 1) > (event.run.attempt ?? 1)) return;
      if (known !== undefined && known.attempt === event.run.attempt && known.updatedAt > event.run.updatedAt) return;
      runs.set(event.run.runId, event.run);
      emit({ kind: 'progress', run: view(event.run, deps.clock.now().getTime()) });
    },
    list: current,
    get: (runId) => current().find((r) => r.runId === runId),
    ofExport: (exportId) =>
      current()
        .filter((r) => r.exportId === exportId)
        .at(-1),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
