import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../contracts/run-report.js';
import { openStateDatabase, type StateDatabase } from './database.js';
import { createSqliteRunStore } from './sqlite-run-store.js';

const dirs: string[] = [];
const dbs: StateDatabase[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'run-store-'));
  dirs.push(d);
  return d;
}

function memoryStore() {
  const db = new Database(':memory:');
  dbs.push(db);
  return createSqliteRunStore(db, { clock: { now: () => new Date('2026-05-01T10:00:00Z') } });
}

function report(overrides: Partial<RunReport> & Pick<RunReport, 'runId'>): RunReport {
  return {
    exportId: 'sales',
    trigger: { kind: 'schedule', scheduledFor: '2026-04-30T06:00:00.000Z' },
    status: 'succeeded',
    startedAt: '2026-04-30T06:00:01.000Z',
    finishedAt: '2026-04-30T06:00:31.000Z',
    durationMs: 30_000,
    sheets: [
      { sheet: 'Opportunities', rows: 1200, source: "view 'Sales Pipeline/Opportunities'" },
      { sheet: 'By Stage', rows: 7, source: "view 'Sales Pipeline/Pipeline by Stage'" },
    ],
    rows: 1207,
    bytes: 48_213,
    destination: {
      location: 'onedrive:ops@contoso.com/Reports/Sales.xlsx',
      webUrl: 'https://contoso-my.sharepoint.com/x/Sales.xlsx',
      itemId: '01ABC',
      eTag: '"{1},2"',
    },
    warnings: ['column Amount: 2 values were not numbers'],
    error: undefined,
    timings: { fetch: 12_000, parse: 3_000, write: 5_000, upload: 9_000, metrics: 40 },
    dataHash: 'sha256:abc',
    ...overrides,
  };
}

describe('openStateDatabase', () => {
  it('creates the folder and state.db in WAL mode with a busy timeout', () => {
    const dir = join(tempDir(), 'nested', 'state');
    const db = openStateDatabase(dir);
    dbs.push(db);
    expect(existsSync(join(dir, 'state.db'))).toBe(true);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('keeps the history across reopening', async () => {
    const dir = tempDir();
    const first = openStateDatabase(dir);
    await createSqliteRunStore(first).finishRun(report({ runId: 'r1' }));
    first.close();
    const second = openStateDatabase(dir);
    dbs.push(second);
    expect((await createSqliteRunStore(second).getRun('r1'))?.rows).toBe(1207);
  });

  it('names the path when the folder cannot be created', () => {
    const file = join(tempDir(), 'a-file');
    new Database(file).close();
    expect(() => openStateDatabase(join(file, 'sub'))).toThrow(
      /cannot open the state database .*a-file.*sub.*state\.db/,
    );
  });
});

describe('createSqliteRunStore', () => {
  it('round-trips a full report', async () => {
    const store = memoryStore();
    const full = report({ runId: 'r1', trigger: { kind: 'manual', by: 'alice' }, note: 'a note', worker: 'host-a:1' });
    await store.insertRun({ runId: 'r1', exportId: 'sales', trigger: full.trigger, startedAt: full.startedAt });
    const running = await store.getRun('r1');
    expect(running).toMatchObject({
      runId: 'r1',
      status: 'running',
      rows: 0,
      finishedAt: undefined,
      trigger: { kind: 'manual', by: 'alice' },
    });
    await store.finishRun(full);
    expect(await store.getRun('r1')).toEqual(full);
    expect(await store.getRun('nope')).toBeUndefined();
  });

  it('round-trips a failed report with its error and no destination', async () => {
    const store = memoryStore();
    const failed = report({
      runId: 'r2',
      status: 'failed',
      trigger: { kind: 'cli' },
      rows: 0,
      bytes: 0,
      sheets: [],
      destination: undefined,
      error: { code: 'TABLEAU_VIEW_NOT_FOUND', message: "view 'Opps' not found in workbook 'Sales Pipeline'" },
      dataHash: undefined,
    });
    await store.finishRun(failed);
    expect(await store.getRun('r2')).toEqual(failed);
  });

  it('lists newest first, filtered by export and status, limited', async () => {
    const store = memoryStore();
    await store.finishRun(report({ runId: 'a1', startedAt: '2026-04-28T06:00:00.000Z' }));
    await store.finishRun(
      report({
        runId: 'a2',
        startedAt: '2026-04-29T06:00:00.000Z',
        status: 'failed',
        error: { code: 'X', message: 'x' },
      }),
    );
    await store.finishRun(report({ runId: 'a3', startedAt: '2026-04-30T06:00:00.000Z' }));
    await store.finishRun(report({ runId: 'b1', exportId: 'other', startedAt: '2026-04-30T07:00:00.000Z' }));
    expect((await store.listRuns({})).map((r) => r.runId)).toEqual(['b1', 'a3', 'a2', 'a1']);
    expect((await store.listRuns({ exportId: 'sales' })).map((r) => r.runId)).toEqual(['a3', 'a2', 'a1']);
    expect((await store.listRuns({ exportId: 'sales', limit: 2 })).map((r) => r.runId)).toEqual(['a3', 'a2']);
    expect((await store.listRuns({ exportId: 'sales', status: 'failed' })).map((r) => r.runId)).toEqual(['a2']);
  });

  it('orders by instant even when offsets differ', async () => {
    const store = memoryStore();
    await store.finishRun(report({ runId: 'paris', startedAt: '2026-04-30T08:30:00+02:00' })); // 06:30Z
    await store.finishRun(report({ runId: 'utc', startedAt: '2026-04-30T06:45:00Z' }));
    expect((await store.listRuns({})).map((r) => r.runId)).toEqual(['utc', 'paris']);
  });

  it('lastSuccess is the newest succeeded or unchanged run of that export', async () => {
    const store = memoryStore();
    expect(await store.lastSuccess('sales')).toBeUndefined();
    await store.finishRun(report({ runId: 's1', startedAt: '2026-04-28T06:00:00.000Z' }));
    await store.finishRun(report({ runId: 'u1', startedAt: '2026-04-29T06:00:00.000Z', status: 'unchanged' }));
    await store.finishRun(
      report({
        runId: 'f1',
        startedAt: '2026-04-30T06:00:00.000Z',
        status: 'failed',
        error: { code: 'X', message: 'x' },
      }),
    );
    await store.finishRun(report({ runId: 'k1', startedAt: '2026-04-30T07:00:00.000Z', status: 'skipped' }));
    await store.finishRun(report({ runId: 'o1', exportId: 'other', startedAt: '2026-05-01T06:00:00.000Z' }));
    expect((await store.lastSuccess('sales'))?.runId).toBe('u1');
  });

  it('markInterrupted fails every running run with INTERRUPTED, or only the given ones', async () => {
    const store = memoryStore();
    await store.insertRun({
      runId: 'x1',
      exportId: 'sales',
      trigger: { kind: 'cli' },
      startedAt: '2026-05-01T09:00:00.000Z',
    });
    await store.insertRun({
      runId: 'x2',
      exportId: 'other',
      trigger: { kind: 'cli' },
      startedAt: '2026-05-01T09:01:00.000Z',
    });
    await store.insertRun({
      runId: 'x3',
      exportId: 'other',
      trigger: { kind: 'cli' },
      startedAt: '2026-05-01T09:02:00.000Z',
    });
    await store.finishRun(report({ runId: 'done' }));

    expect(await store.markInterrupted('stopped before the end', { runIds: ['x2'] })).toBe(1);
    expect(await store.getRun('x2')).toMatchObject({
      status: 'failed',
      error: { code: 'INTERRUPTED', message: 'stopped before the end' },
      finishedAt: undefined,
    });
    expect((await store.getRun('x1'))?.status).toBe('running');

    expect(await store.markInterrupted('crashed')).toBe(2);
    expect(await store.getRun('x1')).toMatchObject({
      status: 'failed',
      error: { code: 'INTERRUPTED', message: 'crashed' },
    });
    expect((await store.getRun('x1'))?.warnings).toEqual(['marked interrupted at 2026-05-01T10:00:00.000Z']);
    expect((await store.getRun('done'))?.status).toBe('succeeded');
    expect(await store.markInterrupted('again')).toBe(0);
  });

  it('refuses a report whose start is not a date, and reports a damaged row clearly', async () => {
    const db = new Database(':memory:');
    dbs.push(db);
    const store = createSqliteRunStore(db);
    await expect(store.finishRun(report({ runId: 'bad', startedAt: 'yesterday' }))).rejects.toThrow(
      /startedAt 'yesterday' is not an ISO 8601 date/,
    );
    db.prepare("INSERT INTO run_history VALUES ('odd', 'sales', 'succeeded', 'cli', 0, '{\"runId\":\"odd\"}')").run();
    await expect(store.getRun('odd')).rejects.toThrow(/does not match the expected shape: exportId/);
    // The history as a whole stays readable: the damaged record is listed with what its columns say and why.
    await store.finishRun(report({ runId: 'fine', startedAt: '2026-05-01T09:00:00.000Z' }));
    const listed = await store.listRuns({ exportId: 'sales' });
    expect(listed.map((r) => [r.runId, r.status])).toEqual([
      ['fine', 'succeeded'],
      ['odd', 'succeeded'],
    ]);
    expect(listed[1]?.warnings[0]).toMatch(/this run's record could not be read: .*exportId/);
  });
});

describe('createSqliteRunStore: runs with attempts, filters', () => {
  it('keeps one record per run across attempts, and filters by trigger', async () => {
    const store = memoryStore();
    const trigger = { kind: 'manual', by: 'alice' } as const;
    const t = (s: number): string => new Date(Date.UTC(2026, 3, 30, 6, 0, s)).toISOString();
    await store.insertRun({ runId: 'j', exportId: 'sales', trigger, startedAt: t(0), attempt: 1, worker: 'w-a' });
    await store.insertRun({ runId: 'j#2', exportId: 'sales', trigger, startedAt: t(5), attempt: 2, worker: 'w-b' });
    await store.finishRun(report({ runId: 'j#2', trigger, attempt: 2, startedAt: t(5) }));
    await store.finishRun(report({ runId: 's1', startedAt: t(9) }));
    expect(await store.getRun('j')).toMatchObject({ runId: 'j', status: 'succeeded', attempt: 2, worker: 'w-b' });
    expect((await store.getRun('j#2'))?.attempts?.map((e) => [e.attempt, e.status, e.worker])).toEqual([
      [1, 'failed', 'w-a'],
      [2, 'succeeded', 'w-b'],
    ]);
    expect((await store.listRuns({})).map((r) => r.runId)).toEqual(['s1', 'j']);
    expect((await store.listRuns({ trigger: 'manual' })).map((r) => r.runId)).toEqual(['j']);
    expect(await store.markInterrupted('late', { runIds: ['j'] })).toBe(0);
  });
});
