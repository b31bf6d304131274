/**
 * What teammates have now: the workbook the last successful run left at the destination, as the API shows it next
 * to the current state of an export, and in the detail of a run that did not deliver.
 */
import type { RunReport } from '../contracts/run-report.js';
import type { RunStore } from '../contracts/run-store.js';

/** The delivered workbook as the dashboard shows it. */
export interface DeliveredWorkbook {
  /** The run that delivered it (an unchanged run keeps the file of an earlier delivery). */
  readonly runId: string;
  readonly status: 'succeeded' | 'unchanged';
  /** When the file teammates have was written (ISO 8601). */
  readonly deliveredAt: string;
  /** Data rows in it, over all data sheets. */
  readonly rows: number;
  readonly bytes: number;
  readonly location: string | null;
  readonly webUrl: string | null;
}

/** The delivered workbook of a successful run, or null for any other run. */
export function deliveredWorkbook(run: RunReport | undefined): DeliveredWorkbook | null {
  if (run === undefined || (run.status !== 'succeeded' && run.status !== 'unchanged')) return null;
  return {
    runId: run.runId,
    status: run.status,
    deliveredAt: run.destination?.deliveredAt ?? run.finishedAt ?? run.startedAt,
    rows: run.rows,
    bytes: run.bytes,
    location: run.destination?.location ?? null,
    webUrl: run.destination?.webUrl ?? null,
  };
}

/** The last success of the run's export that started before the run (what the destination held while it ran). */
export async function lastSuccessBefore(
  history: Pick<RunStore, 'listRuns' | 'lastSuccess'>,
  run: RunReport,
): Promise<RunReport | undefined> {
  const started = Date.parse(run.startedAt);
  const before = (r: RunReport): boolean => r.runId !== run.runId && Date.parse(r.startedAt) <= started;
  const last = await history.lastSuccess(run.exportId);
  if (last === undefined || before(last)) return last;
  // The run is older than the last success: look further back (successes by status, so failures do not hide them).
  const [succeeded, unchanged] = await Promise.all([
    history.listRuns({ exportId: run.exportId, status: 'succeeded', limit: 200 }),
    history.listRuns({ exportId: run.exportId, status: 'unchanged', limit: 200 }),
  ]);
  return [...succeeded, ...unchanged]
    .filter(before)
    .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))[0];
}
