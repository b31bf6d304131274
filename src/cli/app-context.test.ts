/**
 * The temp-folder sweep before a run: a dead process's folder is removed in every mode, and its run is marked
 * interrupted only outside queue mode. In queue mode the queue retries that run: marking it failed seconds before
 * the retry made the run read `failed`, then `succeeded` (found by the soak, `npm run soak`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import { createSqliteRunStore } from '../state/sqlite-run-store.js';
import { createAppContext } from './app-context.js';

const dirs: string[] = [];
const dbs: Database.Database[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A pid that belonged to a process which has exited (so `kill(pid, 0)` fails). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

async function setUp(queue: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'app-context-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'deals.csv'), 'Opportunity ID,Amount\nOPP-1,100\n');
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    [
      'stateDir: ./state',
      ...(queue ? ['queue: { redis: "redis://127.0.0.1:6379" }'] : []),
      'exports:',
      '  - id: deals',
      '    views: [{ file: deals.csv, sheet: Deals }]',
      '    destination: { type: local, dir: ./out }',
      '',
    ].join('\n'),
  );
  const db = new Database(':memory:');
  dbs.push(db);
  const store = createSqliteRunStore(db);
  // A run of a worker killed with SIGKILL: recorded as running, its temp folder (and owner file) left behind.
  await store.insertRun({
    runId: 'deals@manual-1',
    exportId: 'deals',
    trigger: { kind: 'cli' },
    startedAt: new Date().toISOString(),
  });
  const orphan = join(dir, 'state', 'tmp', 'deals-deals@manual-1');
  mkdirSync(orphan, { recursive: true });
  writeFileSync(
    join(orphan, 'owner.json'),
    JSON.stringify({ host: hostname(), pid: deadPid(), runId: 'deals@manual-1' }),
  );
  const ctx = createAppContext(await loadConfig(file), { logger: pino({ level: 'silent' }), store, env: {} });
  return { ctx, store, orphan };
}

describe('createAppContext: the sweep of dead runs before a run', () => {
  it('outside queue mode, removes the folder and marks the dead run interrupted', async () => {
    const { ctx, store, orphan } = await setUp(false);
    const report = await ctx.runOne('deals', { trigger: { kind: 'cli' } });
    await ctx.close();
    expect(report.status).toBe('succeeded');
    expect(existsSync(orphan)).toBe(false);
    expect(await store.getRun('deals@manual-1')).toMatchObject({ status: 'failed', error: { code: 'INTERRUPTED' } });
  });

  it('in queue mode, removes the folder and leaves the run to the queue, which retries it', async () => {
    const { ctx, store, orphan } = await setUp(true);
    const report = await ctx.runOne('deals', { trigger: { kind: 'cli' } });
    await ctx.close();
    expect(report.status).toBe('succeeded');
    expect(existsSync(orphan)).toBe(false);
    expect(await store.getRun('deals@manual-1')).toMatchObject({ status: 'running' });
  });
});
