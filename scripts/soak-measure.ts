/**
 * What the soak measures outside the product's own answers: a process's resident memory and open file descriptors
 * (/proc), the size of the run history in Redis and of the SQLite state, and the files left in temp folders.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Redis } from 'ioredis';

export interface ProcSample {
  readonly pid: number;
  readonly at: string;
  readonly rssBytes: number;
  readonly openFds: number;
}

/** VmRSS and the number of entries in /proc/<pid>/fd; undefined once the process is gone. */
export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
    return { pid, at: new Date().toISOString(), rssBytes: kb * 1024, openFds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}

export interface RedisFootprint {
  readonly keys: number;
  /** Sum of MEMORY USAGE over the prefix's keys. */
  readonly bytes: number;
  readonly runRecords: number;
  /** Entries of `<prefix>:runs` (the capped index of all runs). */
  readonly runIndex: number;
  /** Ids in `<prefix>:runs:running` (runs recorded as running). */
  readonly recordedRunning: number;
  readonly usedMemory: number;
}

/** Counts and sizes every key under `prefix:` (SCAN, then MEMORY USAGE per key). */
export async function measureRedis(redis: Redis, prefix: string): Promise<RedisFootprint> {
  let cursor = '0';
  let keys = 0;
  let bytes = 0;
  let runRecords = 0;
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', '500');
    cursor = next;
    keys += batch.length;
    for (const k of batch) {
      if (k.startsWith(`${prefix}:run:`)) runRecords++;
      const usage = await redis.memory('USAGE', k);
      bytes += typeof usage === 'number' ? usage : 0;
    }
  } while (cursor !== '0');
  const info = await redis.info('memory');
  return {
    keys,
    bytes,
    runRecords,
    runIndex: await redis.zcard(`${prefix}:runs`),
    recordedRunning: await redis.scard(`${prefix}:runs:running`),
    usedMemory: Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0),
  };
}

export interface SqliteFootprint {
  readonly files: Record<string, number>;
  readonly rows: Record<string, number>;
}

/** Sizes of state.db (and its -wal/-shm) and the row count of every table; empty when there is no state.db. */
export function measureSqlite(stateDir: string): SqliteFootprint {
  const db = join(stateDir, 'state.db');
  const files: Record<string, number> = {};
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(db + suffix)) files[`state.db${suffix}`] = statSync(db + suffix).size;
  }
  const rows: Record<string, number> = {};
  if (!existsSync(db)) return { files, rows };
  const handle = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const tables = handle.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[];
    for (const { name } of tables) {
      const row = handle.prepare(`SELECT COUNT(*) AS n FROM "${name.replace(/"/g, '""')}"`).get() as { n: number };
      rows[name] = row.n;
    }
  } finally {
    handle.close();
  }
  return { files, rows };
}

/** Every file and folder under `dir` (recursively), as relative paths; none when it does not exist. */
export function leftoverEntries(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}
