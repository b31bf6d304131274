/**
 * Per-opportunity snapshots in SQLite: each metrics run stores, per deal, its stage, amount and close date under the
 * run date, so metrics can derive stage-entry dates, stage moves and the weekly trend. The database is opened
 * elsewhere (WAL mode, shared with the run history); this module only creates its own table and index.
 */
import type Database from 'better-sqlite3';
import type { SnapshotRow } from '../transforms/metrics/history.js';

export type { SnapshotRow } from '../transforms/metrics/history.js';

/** What a run stores per deal (a metrics `Deal` fits as is). */
export interface SnapshotDealInput {
  readonly id: string;
  readonly stage: string;
  readonly amount: number | null;
  /** A wall-clock date in UTC fields, stored as `YYYY-MM-DD`. */
  readonly closeDate: Date | null;
}

export interface SnapshotStore {
  /**
   * Stores the snapshot of `runDate` (`YYYY-MM-DD`) for an export, replacing any snapshot of the same day, in one
   * transaction (all or nothing). A deal id repeated in `deals` keeps its first row.
   * @throws RangeError when `runDate` is not `YYYY-MM-DD`.
   */
  saveSnapshot(exportId: string, runDate: string, deals: readonly SnapshotDealInput[]): void;
  /** Every stored row of the export with runDate ≥ `sinceDate`, ordered by deal id, then run date. */
  loadSnapshots(exportId: string, sinceDate: string): SnapshotRow[];
  /**
   * The rows of `loadSnapshots` that deal-history derivation needs, and only those: each deal's first and last row,
   * the rows either side of every stage change, and every row of the latest run of each ISO week (for the trend).
   * `deriveDealHistory` gives the same stage entries, transitions and trend from these as from every row, while a
   * 100k-deal export with daily runs loads a fraction of the rows.
   */
  loadHistory(exportId: string, sinceDate: string): SnapshotRow[];
  /** Deletes the export's snapshots with runDate < `beforeDate`; returns the number of rows removed. */
  prune(exportId: string, beforeDate: string): number;
}

/** A row as SQLite returns it: REAL/TEXT columns may come back null. */
interface StoredRow {
  readonly runDate: string;
  readonly dealId: string;
  readonly stage: string;
  readonly amount: number | null;
  readonly closeDate: string | null;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function checkDate(name: string, value: string): void {
  if (!ISO_DATE.test(value)) throw new RangeError(`snapshot ${name} must be YYYY-MM-DD, got "${value}"`);
}

function isoDate(date: Date | null): string | null {
  return date === null || Number.isNaN(date.getTime()) ? null : date.toISOString().slice(0, 10);
}

/**
 * Creates the snapshot store on an open better-sqlite3 database, creating its table if needed
 * (`CREATE TABLE IF NOT EXISTS`, so it is safe on every start and alongside other tables).
 */
export function createSnapshotStore(db: Database.Database): SnapshotStore {
  // WITHOUT ROWID + this primary key: rows of one export and day sit together, which makes the per-day replace,
  // the range read and the prune cheap; the PK also stops duplicate deal rows within one run.
  db.exec(`
    CREATE TABLE IF NOT EXISTS deal_snapshots (
      export_id  TEXT NOT NULL,
      run_date   TEXT NOT NULL,
      deal_id    TEXT NOT NULL,
      stage      TEXT NOT NULL,
      amount     REAL,
      close_date TEXT,
      PRIMARY KEY (export_id, run_date, deal_id)
    ) WITHOUT ROWID;
  `);
  const deleteDay = db.prepare<[string, string]>('DELETE FROM deal_snapshots WHERE export_id = ? AND run_date = ?');
  const insert = db.prepare<[string, string, string, string, number | null, string | null]>(
    // DO NOTHING covers only the key (a repeated deal id); a NULL stage still fails and rolls the day back.
    'INSERT INTO deal_snapshots (export_id, run_date, deal_id, stage, amount, close_date) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const select = db.prepare<[string, string], StoredRow>(
    'SELECT run_date AS runDate, deal_id AS dealId, stage, amount, close_date AS closeDate FROM deal_snapshots WHERE export_id = ? AND run_date >= ? ORDER BY deal_id, run_date',
  );
  // LAG/LEAD over each deal's runs find stage changes; the weekly CTE keeps the latest run of each Monday-based week
  // (strftime %w: Sunday = 0, so (w + 6) % 7 days back is that week's Monday).
  const selectHistory = db.prepare<[string, string, string, string], StoredRow>(`
    WITH weekly AS (
      SELECT MAX(run_date) AS run_date
      FROM (SELECT DISTINCT run_date FROM deal_snapshots WHERE export_id = ? AND run_date >= ?)
      GROUP BY date(run_date, '-' || ((CAST(strftime('%w', run_date) AS INTEGER) + 6) % 7) || ' days')
    ),
    seq AS (
      SELECT run_date, deal_id, stage, amount, close_date,
             LAG(stage) OVER w AS prev_stage, LEAD(stage) OVER w AS next_stage
      FROM deal_snapshots
      WHERE export_id = ? AND run_date >= ?
      WINDOW w AS (PARTITION BY deal_id ORDER BY run_date)
    )
    SELECT run_date AS runDate, deal_id AS dealId, stage, amount, close_date AS closeDate
    FROM seq
    WHERE prev_stage IS NULL OR next_stage IS NULL OR prev_stage <> stage OR next_stage <> stage
       OR run_date IN (SELECT run_date FROM weekly)
    ORDER BY deal_id, run_date
  `);
  const deleteBefore = db.prepare<[string, string]>('DELETE FROM deal_snapshots WHERE export_id = ? AND run_date < ?');

  const replaceDay = db.transaction((exportId: string, runDate: string, deals: readonly SnapshotDealInput[]) => {
    deleteDay.run(exportId, runDate);
    for (const d of deals) {
      const amount = d.amount !== null && Number.isFinite(d.amount) ? d.amount : null;
      insert.run(exportId, runDate, d.id, d.stage, amount, isoDate(d.closeDate));
    }
  });

  return {
    saveSnapshot(exportId, runDate, deals) {
      checkDate('runDate', runDate);
      replaceDay(exportId, runDate, deals);
    },
    loadSnapshots(exportId, sinceDate) {
      checkDate('sinceDate', sinceDate);
      const rows: SnapshotRow[] = [];
      for (const r of select.iterate(exportId, sinceDate)) {
        rows.push({ runDate: r.runDate, dealId: r.dealId, stage: r.stage, amount: r.amount, closeDate: r.closeDate });
      }
      return rows;
    },
    loadHistory(exportId, sinceDate) {
      checkDate('sinceDate', sinceDate);
      const rows: SnapshotRow[] = [];
      for (const r of selectHistory.iterate(exportId, sinceDate, exportId, sinceDate)) {
        rows.push({ runDate: r.runDate, dealId: r.dealId, stage: r.stage, amount: r.amount, closeDate: r.closeDate });
      }
      return rows;
    },
    prune(exportId, beforeDate) {
      checkDate('beforeDate', beforeDate);
      return deleteBefore.run(exportId, beforeDate).changes;
    },
  };
}
