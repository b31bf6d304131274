/**
 * The state database: one SQLite file (`state.db`) under `stateDir`, shared by the run history and the metric
 * snapshots (each creates its own tables). WAL lets the dashboard read while a run writes; busy_timeout lets a CLI
 * `run` and `serve` share the file without "database is locked" errors on short overlaps.
 */
import { chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '../shared/errors.js';
import { ensurePrivateDirSync, PRIVATE_FILE_MODE } from '../shared/private-files.js';

export type StateDatabase = Database.Database;

/** File name of the state database inside `stateDir`. */
export const STATE_DB_FILE = 'state.db';

/** How long a writer waits for another process's lock before failing, in milliseconds. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens (creating the folder and the file if missing, both readable by this user only) `<stateDir>/state.db` with
 * WAL, `synchronous = NORMAL` and a busy timeout. The caller owns the handle and closes it (`db.close()`) at exit.
 * Throws AppError `STATE_DB_OPEN_FAILED` naming the path when the folder or file cannot be created or opened.
 */
export function openStateDatabase(stateDir: string): StateDatabase {
  const dir = resolve(stateDir);
  const file = join(dir, STATE_DB_FILE);
  try {
    ensurePrivateDirSync(dir);
    const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    // Run history and per-deal snapshots are pipeline data; SQLite gives the -wal and -shm files the same rights.
    chmodSync(file, PRIVATE_FILE_MODE);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    return db;
  } catch (err) {
    throw new AppError(
      'STATE_DB_OPEN_FAILED',
      `cannot open the state database ${file}: ${err instanceof Error ? err.message : String(err)}`,
      {
        hint: 'check that `stateDir` in the config points to a writable folder with free space',
        cause: err,
      },
    );
  }
}
