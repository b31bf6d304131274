/**
 * Per-opportunity history in SQLite, stored as changes rather than copies: a deal's state (stage, amount, close date)
 * is one row with the first and last run that saw it. A run whose deal is unchanged writes nothing for that deal;
 * a changed or new deal adds a state row; a deal that changed or left the view gets its last run written into its
 * previous state. So an export of 100k deals with ~2% daily changes stores ~100k + 2k × days rows, not 100k × days.
 *
 * Tables (created here; the database is opened elsewhere, WAL mode, shared with the run history):
 * - `snapshot_runs (export_id, run_date, deal_count)`: every run, so states can be read as "present in every run from
 *   first_date to last_date" and a same-day re-run can be undone;
 * - `deal_states (export_id, deal_id, first_date, last_date, stage, amount, close_date)`: `last_date` NULL means the
 *   state is still current, i.e. the deal was seen in it by the export's latest run. Keeping the current state open
 *   instead of writing the run date into it is what lets an unchanged deal cost no write at all.
 * Invariant: a state is closed only by the run right after its last run, so `last_date` of a state closed by run R
 * is the run before R; undoing R reopens exactly the states whose last_date is that run.
 */
import type Database from 'better-sqlite3';
import type { SnapshotHistory, SnapshotRow } from '../contracts/snapshot-store.js';
import {
  createSnapshotTables,
  prepareSnapshotStatements,
  type OpenState,
  type SnapshotStatements,
  type StoredDeal,
} from './snapshot-tables.js';

export type { DealStateRow, SnapshotHistory, SnapshotRow } from '../contracts/snapshot-store.js';

/** What a run stores per deal (a metrics `Deal` fits as is). */
export interface SnapshotDealInput {
  readonly id: string;
  readonly stage: string;
  readonly amount: number | null;
  /** A wall-clock date in UTC fields, stored as `YYYY-MM-DD`. */
  readonly closeDate: Date | null;
}

/** What `saveSnapshot` did. */
export interface SaveSnapshotResult {
  /**
   * False when `runDate` is before the export's latest stored run: history is append-only, so a back-dated run
   * writes nothing (its own metrics are unaffected: derivation uses the run's deals as the snapshot of its date).
   */
  readonly stored: boolean;
  /** Distinct deals in the run. */
  readonly deals: number;
  /** State rows added: new deals, and deals whose stage, amount or close date changed since the previous run. */
  readonly newStates: number;
}

export interface SnapshotStore {
  /**
   * Records the run of `runDate` (`YYYY-MM-DD`) for an export, replacing a run of the same day (the latest one)
   * first, in one transaction (all or nothing). A deal id repeated in `deals` keeps its first occurrence. Writes
   * only changes: nothing for a deal whose stage, amount and close date are those of the previous run.
   * @throws RangeError when `runDate` is not `YYYY-MM-DD`.
   */
  saveSnapshot(exportId: string, runDate: string, deals: readonly SnapshotDealInput[]): SaveSnapshotResult;
  /**
   * What deal-history derivation needs from runs on or after `sinceDate`: those runs' dates and the deal states
   * overlapping them, clipped to them (ordered by deal id, then first date). O(deals + changes), whatever the number
   * of runs; `deriveDealHistory` gives from it what it gives from every per-run row.
   */
  loadHistory(exportId: string, sinceDate: string): SnapshotHistory;
  /**
   * Every per-run observation with runDate ≥ `sinceDate`, one row per deal per run, ordered by deal id, then run date.
   * Expands the stored states: O(deals × runs) — for inspection and exports of the raw history, not for the nightly
   * run (use `loadHistory`).
   */
  loadSnapshots(exportId: string, sinceDate: string): SnapshotRow[];
  /**
   * Forgets the export's runs before `beforeDate`: deletes the runs and the states last seen before it (a state that
   * is still seen later stays). Returns the number of per-deal observations forgotten (deals × runs removed).
   */
  prune(exportId: string, beforeDate: string): number;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The table of the first snapshot format (one row per deal per run), converted on first start; see `migrate`. */
const OLD_TABLE = 'deal_snapshots';

function checkDate(name: string, value: string): void {
  if (!ISO_DATE.test(value)) throw new RangeError(`snapshot ${name} must be YYYY-MM-DD, got "${value}"`);
}

function isoDate(date: Date | null): string | null {
  return date === null || Number.isNaN(date.getTime()) ? null : date.toISOString().slice(0, 10);
}

/** Maps run inputs to stored values; close dates repeat a lot, so their text is computed once per date. */
function createInputMapper(): (d: SnapshotDealInput) => StoredDeal {
  const dates = new Map<number, string | null>();
  return (d) => {
    let closeDate: string | null = null;
    if (d.closeDate !== null) {
      const time = d.closeDate.getTime();
      closeDate = dates.get(time) ?? isoDate(d.closeDate);
      dates.set(time, closeDate);
    }
    return {
      id: d.id,
      stage: d.stage,
      amount: d.amount !== null && Number.isFinite(d.amount) ? d.amount : null,
      closeDate,
    };
  };
}

/**
 * Creates the snapshot store on an open better-sqlite3 database, creating its tables if needed (`IF NOT EXISTS`,
 * so it is safe on every start and alongside other tables). A table of the first format (`deal_snapshots`, one row
 * per deal per run) is converted once, by replaying its runs in date order, then dropped.
 */
export function createSnapshotStore(db: Database.Database): SnapshotStore {
  createSnapshotTables(db);
  const sql = prepareSnapshotStatements(db);

  const save = db.transaction((exportId: string, runDate: string, deals: readonly SnapshotDealInput[]) =>
    recordRun(sql, exportId, runDate, deals, createInputMapper()),
  );
  const prune = db.transaction((exportId: string, beforeDate: string): number => {
    const observations = sql.countObservationsBefore.get(exportId, beforeDate) ?? 0;
    sql.deleteStatesBefore.run(exportId, beforeDate);
    sql.deleteRunsBefore.run(exportId, beforeDate);
    return observations;
  });

  migrate(db, (exportId, runDate, deals) => recordRun(sql, exportId, runDate, deals, (d) => d));

  return {
    saveSnapshot(exportId, runDate, deals) {
      checkDate('runDate', runDate);
      // IMMEDIATE: the run reads the open states and then writes; taking the write lock first means another process
      // (CLI run beside `serve`) waits on busy_timeout instead of failing the upgrade from reader to writer.
      return save.immediate(exportId, runDate, deals);
    },
    loadHistory(exportId, sinceDate) {
      checkDate('sinceDate', sinceDate);
      const runDates = sql.selectRunDates.all(exportId, sinceDate);
      const firstRun = runDates[0];
      const lastRun = runDates[runDates.length - 1];
      if (firstRun === undefined || lastRun === undefined) return { runDates: [], states: [] };
      return { runDates, states: sql.selectStates.all({ exportId, since: sinceDate, firstRun, lastRun }) };
    },
    loadSnapshots(exportId, sinceDate) {
      checkDate('sinceDate', sinceDate);
      return sql.selectExpanded.all(exportId, sinceDate);
    },
    prune(exportId, beforeDate) {
      checkDate('beforeDate', beforeDate);
      return prune.immediate(exportId, beforeDate);
    },
  };
}

/** Records one run of an export (inside the caller's transaction). */
function recordRun<T>(
  sql: SnapshotStatements,
  exportId: string,
  runDate: string,
  deals: readonly T[],
  toStored: (deal: T) => StoredDeal,
): SaveSnapshotResult {
  let previous = sql.latestRun.get(exportId) ?? null;
  if (previous !== null && runDate < previous) return { stored: false, deals: 0, newStates: 0 };
  if (previous === runDate) {
    // Undo today's earlier run: drop the states it began, reopen the ones it closed (see the invariant above).
    previous = sql.runBefore.get(exportId, runDate) ?? null;
    sql.deleteOpenedOn.run(exportId, runDate);
    if (previous !== null) sql.reopenClosedAt.run(exportId, previous);
    sql.deleteRun.run(exportId, runDate);
  }

  const open = new Map<string, OpenState>();
  for (const row of sql.selectOpen.iterate(exportId)) open.set(row[0], row);
  const seen = new Set<string>();
  let newStates = 0;
  for (const input of deals) {
    const d = toStored(input);
    if (seen.has(d.id)) continue;
    seen.add(d.id);
    const state = open.get(d.id);
    if (state !== undefined) {
      open.delete(d.id);
      if (state[2] === d.stage && state[3] === d.amount && state[4] === d.closeDate) continue;
      // `previous` is set: an open state exists only after a run.
      sql.closeState.run(previous ?? runDate, exportId, d.id, state[1]);
    }
    sql.insertState.run(exportId, d.id, runDate, d.stage, d.amount, d.closeDate);
    newStates += 1;
  }
  // Deals of the previous run missing from this one: their state ends at the previous run.
  for (const [dealId, state] of open) sql.closeState.run(previous ?? runDate, exportId, dealId, state[1]);
  sql.insertRun.run(exportId, runDate, seen.size);
  return { stored: true, deals: seen.size, newStates };
}

/**
 * Converts the first format (`deal_snapshots`: one row per deal per run) by replaying each export's runs in date
 * order through `record`, then drops it, in one transaction; a no-op when the table is absent. Replaying rather than
 * dropping keeps the history of installations that already ran (test and demo data at the time of the change).
 */
function migrate(
  db: Database.Database,
  record: (exportId: string, runDate: string, deals: readonly StoredDeal[]) => unknown,
): void {
  const exists = db
    .prepare<[string], number>("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
    .pluck();
  if (exists.get(OLD_TABLE) === 0) return;
  db.transaction(() => {
    // Checked again under the write lock: another process may have converted it meanwhile.
    if (exists.get(OLD_TABLE) === 0) return;
    const days = db
      .prepare<[], { exportId: string; runDate: string }>(
        `SELECT DISTINCT export_id AS exportId, run_date AS runDate FROM ${OLD_TABLE} ORDER BY export_id, run_date`,
      )
      .all();
    const dayRows = db.prepare<[string, string], StoredDeal>(
      `SELECT deal_id AS id, stage, amount, close_date AS closeDate FROM ${OLD_TABLE} WHERE export_id = ? AND run_date = ? ORDER BY deal_id`,
    );
    for (const { exportId, runDate } of days) record(exportId, runDate, dayRows.all(exportId, runDate));
    db.exec(`DROP TABLE ${OLD_TABLE}`);
  }).immediate();
}
