/**
 * The tables of the snapshot store and every statement it runs on them, prepared once per database handle. The table
 * layout and its invariant are described in snapshots.ts.
 */
import type Database from 'better-sqlite3';
import type { DealStateRow, SnapshotRow } from '../contracts/snapshot-store.js';

/** A deal as stored: amount finite or null, close date `YYYY-MM-DD` or null. */
export interface StoredDeal {
  readonly id: string;
  readonly stage: string;
  readonly amount: number | null;
  readonly closeDate: string | null;
}

/** An open state as read back: [deal_id, first_date, stage, amount, close_date]. */
export type OpenState = [string, string, string, number | null, string | null];

/** Creates the snapshot tables and index if missing (`IF NOT EXISTS`: safe on every start, beside other tables). */
export function createSnapshotTables(db: Database.Database): void {
  // WITHOUT ROWID + these keys: one export's runs sit together (run list, range reads, prune), and one deal's states
  // sit together (history reads come out in deal order without a sort). The last_date index serves the re-run undo
  // (last_date = the previous run) and the prune (last_date < date). Reading the open states scans the export's
  // primary key: measured faster than the index at 100k deals × 400 runs, the cost being building rows in JS.
  db.exec(`
    CREATE TABLE IF NOT EXISTS snapshot_runs (
      export_id  TEXT NOT NULL,
      run_date   TEXT NOT NULL,
      deal_count INTEGER NOT NULL,
      PRIMARY KEY (export_id, run_date)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS deal_states (
      export_id  TEXT NOT NULL,
      deal_id    TEXT NOT NULL,
      first_date TEXT NOT NULL,
      last_date  TEXT,
      stage      TEXT NOT NULL,
      amount     REAL,
      close_date TEXT,
      PRIMARY KEY (export_id, deal_id, first_date)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS deal_states_last_date ON deal_states (export_id, last_date);
  `);
}

/** The prepared statements of the snapshot store. */
export type SnapshotStatements = ReturnType<typeof prepareSnapshotStatements>;

/** Prepares every statement of the snapshot store on `db` (its tables must exist: {@link createSnapshotTables}). */
export function prepareSnapshotStatements(db: Database.Database) {
  const latestRun = db
    .prepare<[string], string | null>('SELECT MAX(run_date) FROM snapshot_runs WHERE export_id = ?')
    .pluck();
  const runBefore = db
    .prepare<[string, string], string | null>(
      'SELECT MAX(run_date) FROM snapshot_runs WHERE export_id = ? AND run_date < ?',
    )
    .pluck();
  const deleteRun = db.prepare<[string, string]>('DELETE FROM snapshot_runs WHERE export_id = ? AND run_date = ?');
  const insertRun = db.prepare<[string, string, number]>(
    'INSERT INTO snapshot_runs (export_id, run_date, deal_count) VALUES (?, ?, ?)',
  );
  const deleteOpenedOn = db.prepare<[string, string]>(
    'DELETE FROM deal_states WHERE export_id = ? AND last_date IS NULL AND first_date = ?',
  );
  const reopenClosedAt = db.prepare<[string, string]>(
    'UPDATE deal_states SET last_date = NULL WHERE export_id = ? AND last_date = ?',
  );
  const selectOpen = db
    .prepare<[string], OpenState>(
      'SELECT deal_id, first_date, stage, amount, close_date FROM deal_states WHERE export_id = ? AND last_date IS NULL',
    )
    .raw();
  const closeState = db.prepare<[string, string, string, string]>(
    'UPDATE deal_states SET last_date = ? WHERE export_id = ? AND deal_id = ? AND first_date = ?',
  );
  const insertState = db.prepare<[string, string, string, string, number | null, string | null]>(
    'INSERT INTO deal_states (export_id, deal_id, first_date, last_date, stage, amount, close_date) VALUES (?, ?, ?, NULL, ?, ?, ?)',
  );
  const selectRunDates = db
    .prepare<[string, string], string>(
      'SELECT run_date FROM snapshot_runs WHERE export_id = ? AND run_date >= ? AND deal_count > 0 ORDER BY run_date',
    )
    .pluck();
  // Open states end at the latest run; a state begun before the window starts, as far as the window can tell, at its
  // first run (it was seen in every run between its first and last date).
  const selectStates = db.prepare<
    { exportId: string; since: string; firstRun: string; lastRun: string },
    DealStateRow
  >(`
    SELECT deal_id AS dealId, stage, amount,
           MAX(first_date, :firstRun) AS firstDate, COALESCE(last_date, :lastRun) AS lastDate
    FROM deal_states
    WHERE export_id = :exportId AND (last_date IS NULL OR last_date >= :since)
    ORDER BY deal_id, first_date
  `);
  const selectExpanded = db.prepare<[string, string], SnapshotRow>(`
    SELECT r.run_date AS runDate, s.deal_id AS dealId, s.stage, s.amount, s.close_date AS closeDate
    FROM deal_states s
    JOIN snapshot_runs r ON r.export_id = s.export_id AND r.run_date >= s.first_date AND r.run_date <= COALESCE(s.last_date, '9999-12-31')
    WHERE s.export_id = ? AND r.run_date >= ?
    ORDER BY s.deal_id, r.run_date
  `);
  const countObservationsBefore = db
    .prepare<[string, string], number>(
      'SELECT TOTAL(deal_count) FROM snapshot_runs WHERE export_id = ? AND run_date < ?',
    )
    .pluck();
  const deleteStatesBefore = db.prepare<[string, string]>(
    'DELETE FROM deal_states WHERE export_id = ? AND last_date < ?',
  );
  const deleteRunsBefore = db.prepare<[string, string]>(
    'DELETE FROM snapshot_runs WHERE export_id = ? AND run_date < ?',
  );

  return {
    latestRun,
    runBefore,
    deleteRun,
    insertRun,
    deleteOpenedOn,
    reopenClosedAt,
    selectOpen,
    closeState,
    insertState,
    selectRunDates,
    selectStates,
    selectExpanded,
    countObservationsBefore,
    deleteStatesBefore,
    deleteRunsBefore,
  };
}
