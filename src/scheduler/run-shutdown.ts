/**
 * The stop sequence of the in-process scheduler's runs: wait for them up to the shutdown deadline, then abort them,
 * then give them `abortGraceMs` to record themselves, and mark any still unsettled as INTERRUPTED.
 */
import type { RunStore } from '../contracts/run-store.js';
import { AbortedError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { TimerApi } from './timers.js';

/** What the stop sequence needs of a run in progress. */
export interface StoppableRun {
  readonly runId: string;
  readonly controller: AbortController;
  readonly done: Promise<void>;
  /** Set when the deadline aborts the run: its failure is the operator's shutdown, not news for the webhook. */
  abortedByStop: boolean;
}

export interface StopRunsOptions {
  /** How long the runs may go on before they are aborted (ms). */
  readonly deadlineMs: number;
  /** After the abort, how long they get to record themselves (ms). */
  readonly abortGraceMs: number;
  readonly timers: TimerApi;
  readonly store: Pick<RunStore, 'markInterrupted'>;
  readonly log: Logger;
}

/**
 * Stops the runs of `active` (the live map: runs that end meanwhile leave it) as described above. Resolves when every
 * run settled or was marked INTERRUPTED; never rejects (a failing store is logged: the next start marks them).
 */
export async function stopActiveRuns(
  active: ReadonlyMap<string, StoppableRun>,
  options: StopRunsOptions,
): Promise<void> {
  const { deadlineMs, abortGraceMs, timers, log } = options;
  const runs = [...active.values()];
  if (runs.length === 0) return;
  log.info(
    { running: runs.map((r) => r.runId), deadlineMs },
    `shutting down: waiting up to ${deadlineMs} ms for ${runs.length} run(s) to finish`,
  );
  const allDone = Promise.all(runs.map((r) => r.done));
  if (await waitFor(allDone, deadlineMs, timers)) return;
  const left = [...active.values()];
  log.warn({ running: left.map((r) => r.runId) }, `shutdown deadline passed: aborting ${left.length} run(s)`);
  for (const r of left) {
    r.abortedByStop = true;
    r.controller.abort(
      new AbortedError('the service is shutting down: the run was aborted after the shutdown deadline'),
    );
  }
  if (await waitFor(allDone, abortGraceMs, timers)) return;
  const stuck = [...active.values()].map((r) => r.runId);
  log.error(
    { running: stuck },
    `${stuck.length} run(s) did not stop within ${abortGraceMs} ms of the abort; recording them as INTERRUPTED`,
  );
  try {
    await options.store.markInterrupted('the service stopped before the run ended', { runIds: stuck });
  } catch (err) {
    log.error({ err }, 'could not mark the unfinished runs as interrupted; the next start will');
  }
}

/** True when `promise` resolves within `ms`, false when the time runs out first. */
function waitFor(promise: Promise<unknown>, ms: number, timers: TimerApi): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = timers.setTimeout(() => resolve(false), ms);
    void promise.then(() => {
      timers.clearTimeout(timer);
      resolve(true);
    });
  });
}
