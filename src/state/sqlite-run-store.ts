/**
 * Run history in the SQLite state database. The full report is kept as JSON (read back through a zod schema, so a
 * row written by an older or newer version is either understood or reported clearly); the columns beside it exist
 * for filtering and ordering.
 */
import { blankRunReport, parseStoredRunReport, type RunReport } from '../contracts/run-report.js';
import { attemptRunId, parseAttemptRunId } from '../contracts/run-id.js';
import type { Clock } from '../shared/clock.js';
import { systemClock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import type { StateDatabase } from './database.js';
import type { RunQuery, RunStore } from '../contracts/run-store.js';
import { foldAttemptWrite, interruptAttempt } from './run-attempts.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS run_history (
  run_id      TEXT PRIMARY KEY,
  export_id   TEXT NOT NULL,
  status      TEXT NOT NULL,
  trigger     TEXT NOT NULL,
  started_ms  INTEGER NOT NULL,
  report_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS run_history_export_started ON run_history (export_id, started_ms DESC);
CREATE INDEX IF NOT EXISTS run_history_status ON run_history (status);
`;

export interface SqliteRunStoreOptions {
  /** Used by `markInterrupted` (not for report timestamps, which come from the runner). */
  readonly clock?: Clock;
}

/**
 * A {@link RunStore} on the state database (see `openStateDatabase`). Creates its table if missing. Its `close()`
 * does not close the shared database handle: whoever opened it closes it.
 */
export function createSqliteRunStore(db: StateDatabase, options: SqliteRunStoreOptions = {}): RunStore {
  const clock = options.clock ?? systemClock;
  db.exec(SCHEMA);

  const { upsert, byId, running, lastSuccessOf } = prepareStatements(db);

  const put = (report: RunReport): void => {
    const startedMs = Date.parse(report.startedAt);
    if (Number.isNaN(startedMs)) {
      throw new AppError(
        'RUN_STORE_INVALID',
        `run ${report.runId}: startedAt '${report.startedAt}' is not an ISO 8601 date`,
      );
    }
    upsert.run(report.runId, report.exportId, report.status, report.trigger.kind, startedMs, JSON.stringify(report));
  };
  const read = (runId: string): RunReport | undefined => {
    const row = byId.get(runId);
    return row === undefined ? undefined : parseStored(row.report_json);
  };
  // Read, fold the attempt in, write: one transaction, so two writers of one run never lose each other's attempt.
  const write = db.transaction((report: RunReport): void => {
    const folded = foldAttemptWrite(read(parseAttemptRunId(report.runId).runId), report);
    if (folded !== undefined) put(folded);
  });

  const interrupted =
    (message: string) =>
    (report: RunReport): RunReport => ({
      ...report,
      status: 'failed',
      // The real end is unknown (the process died): leave it empty rather than invent a duration.
      finishedAt: undefined,
      durationMs: undefined,
      error: { code: 'INTERRUPTED', message },
      warnings: [...report.warnings, `marked interrupted at ${clock.now().toISOString()}`],
    });

  const markInterrupted = db.transaction((message: string, runIds: readonly string[] | undefined): number => {
    let count = 0;
    const targets = runIds ?? running.all().map((row) => parseStored(row.report_json).runId);
    for (const id of targets) {
      const record = read(parseAttemptRunId(id).runId);
      if (record === undefined) continue;
      // Without ids, every run still running: its latest attempt is the one that died.
      const attemptId = runIds === undefined ? attemptRunId(record.runId, record.attempt ?? 1) : id;
      const marked = interruptAttempt(record, attemptId, interrupted(message), clock.now());
      if (marked === undefined) continue;
      put(marked);
      count++;
    }
    return count;
  });

  return {
    async insertRun(run) {
      write(
        blankRunReport({
          runId: run.runId,
          exportId: run.exportId,
          trigger: run.trigger,
          status: run.status ?? 'running',
          startedAt: run.startedAt,
          attempt: run.attempt,
          worker: run.worker,
        }),
      );
    },

    async finishRun(report) {
      write(report);
    },

    async getRun(runId) {
      return read(parseAttemptRunId(runId).runId);
    },

    async listRuns(query: RunQuery) {
      return selectRuns(db, query);
    },

    async lastSuccess(exportId) {
      const row = lastSuccessOf.get(exportId);
      return row === undefined ? undefined : parseStored(row.report_json);
    },

    async markInterrupted(message, filter) {
      return markInterrupted(message, filter?.runIds);
    },

    async close() {
      // The database handle is shared with the snapshots; its opener closes it.
    },
  };
}

/** The fixed statements of the run history, prepared once per store. */
function prepareStatements(db: StateDatabase) {
  const upsert = db.prepare<[string, string, string, string, number, string]>(`
    INSERT INTO run_history (run_id, export_id, status, trigger, started_ms, report_json) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (run_id) DO UPDATE SET export_id = excluded.export_id, status = excluded.status, trigger = excluded.trigger,
      started_ms = excluded.started_ms, report_json = excluded.report_json`);
  const byId = db.prepare<[string], { report_json: string }>('SELECT report_json FROM run_history WHERE run_id = ?');
  const running = db.prepare<[], { report_json: string }>(
    "SELECT report_json FROM run_history WHERE status = 'running'",
  );
  const lastSuccessOf = db.prepare<[string], { report_json: string }>(`
    SELECT report_json FROM run_history WHERE export_id = ? AND status IN ('succeeded', 'unchanged')
    ORDER BY started_ms DESC, run_id DESC LIMIT 1`);
  return { upsert, byId, running, lastSuccessOf };
}

/** A row as `selectRuns` reads it: the report and the columns that still say something when the report does not parse. */
interface ListedRow {
  run_id: string;
  export_id: string;
  status: string;
  started_ms: number;
  report_json: string;
}

/** The runs matching `query`, newest first, at most `query.limit` (default 50, capped at 1 000). */
function selectRuns(db: StateDatabase, query: RunQuery): RunReport[] {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (query.exportId !== undefined) {
    where.push('export_id = ?');
    params.push(query.exportId);
  }
  if (query.status !== undefined) {
    where.push('status = ?');
    params.push(query.status);
  }
  if (query.trigger !== undefined) {
    where.push('trigger = ?');
    params.push(query.trigger);
  }
  const limit = Math.max(1, Math.min(MAX_LIMIT, Math.trunc(query.limit ?? DEFAULT_LIMIT)));
  params.push(limit);
  const sql = `SELECT run_id, export_id, status, started_ms, report_json FROM run_history ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY started_ms DESC, run_id DESC LIMIT ?`;
  const rows = db.prepare<(string | number)[], ListedRow>(sql).all(...params);
  return rows.map(reportOfListedRow);
}

// One damaged record must not hide the whole history (dashboard, catch-up): it is listed with what its
// columns still say, and why its report could not be read.
function reportOfListedRow(r: ListedRow): RunReport {
  try {
    return parseStored(r.report_json);
  } catch (err) {
    const status =
      (['running', 'succeeded', 'failed', 'skipped', 'unchanged'] as const).find((x) => x === r.status) ?? 'failed';
    return blankRunReport({
      runId: r.run_id,
      exportId: r.export_id,
      trigger: { kind: 'cli' },
      status,
      startedAt: new Date(r.started_ms).toISOString(),
      warnings: [`this run's record could not be read: ${err instanceof Error ? err.message : String(err)}`],
    });
  }
}

function parseStored(json: string): RunReport {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (err) {
    throw new AppError('RUN_STORE_CORRUPT', 'a run record in the state database is not valid JSON', {
      hint: 'the state database may be damaged; move state.db aside to start a fresh history',
      cause: err,
    });
  }
  const parsed = parseStoredRunReport(data);
  if (!parsed.ok) {
    throw new AppError(
      'RUN_STORE_CORRUPT',
      `a run record in the state database does not match the expected shape: ${parsed.problem}`,
      {
        hint: 'it may have been written by another version of tableau-export',
      },
    );
  }
  return parsed.report;
}
