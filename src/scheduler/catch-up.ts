/**
 * Catch-up detection of the in-process scheduler: on start, whether an export with `catchUp` missed its last
 * scheduled instant while the service was down, judged from the run history.
 */
import { isInterrupted } from '../contracts/run-report.js';
import type { RunStore } from '../contracts/run-store.js';
import { previousRun } from '../shared/cron-schedule.js';
import type { ScheduledExport } from './types.js';

/** A scheduled instant no run covered, and the start of the last run that did run. */
export interface MissedRun {
  readonly missed: Date;
  readonly lastRunStartedAt: string;
}

/**
 * The export's latest scheduled instant at or before `now` when its last delivering run started before it; undefined
 * when catch-up is off, the export has no (valid) schedule, it never ticked, or it has no history at all. Rejects
 * when the run history cannot be read.
 */
export async function findMissedRun(
  exp: ScheduledExport,
  now: Date,
  history: Pick<RunStore, 'listRuns'>,
): Promise<MissedRun | undefined> {
  if (!exp.catchUp || exp.schedule === undefined) return undefined;
  let missed: Date | undefined;
  try {
    missed = previousRun(now, exp.schedule, exp.timezone);
  } catch {
    return undefined; // the tick loop logs the invalid schedule once
  }
  if (missed === undefined) return undefined;
  const recent = await history.listRuns({ exportId: exp.id, limit: 20 });
  // A run cut short by a crash did not deliver anything: it does not count as "ran at that time".
  const last = recent.find((r) => !isInterrupted(r));
  if (last === undefined) {
    // No history at all: a new export or a fresh state directory. Nothing tells us a run was missed.
    return undefined;
  }
  if (Date.parse(last.startedAt) >= missed.getTime()) return undefined;
  return { missed, lastRunStartedAt: last.startedAt };
}
