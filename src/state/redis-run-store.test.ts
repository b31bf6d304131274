/**
 * The Redis run store against a real Redis (REDIS_URL; the test fails without it, see scripts/ensure-redis.sh).
 * Each test uses its own key prefix.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../contracts/run-report.js';
import { createRedisRunStore } from './redis-run-store.js';

const redisUrl = process.env['REDIS_URL'];
if (redisUrl === undefined || redisUrl === '') {
  throw new Error(
    'REDIS_URL is not set: the Redis run store tests need a real Redis. Run `bash scripts/ensure-redis.sh .tmp/redis.env && set -a && . .tmp/redis.env && set +a` first.',
  );
}
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
const prefixes: string[] = [];
afterAll(async () => {
  await redis.quit();
});

function newPrefix(): string {
  const p = `test-runstore-${randomUUID().slice(0, 8)}`;
  prefixes.push(p);
  return p;
}

function report(runId: string, exportId: string, startedAt: string, patch: Partial<RunReport> = {}): RunReport {
  return {
    runId,
    exportId,
    trigger: { kind: 'schedule', scheduledFor: startedAt },
    status: 'succeeded',
    startedAt,
    finishedAt: startedAt,
    durationMs: 1200,
    sheets: [{ sheet: 'Opportunities', rows: 12, source: 'view Opportunities' }],
    rows: 12,
    bytes: 5000,
    destination: { location: 'Reports/Sales.xlsx', webUrl: 'https://example.test/x' },
    warnings: ['w'],
    error: undefined,
    timings: { fetch: 10 },
    dataHash: 'abc',
    ...patch,
  };
}

const at = (minute: number): string => new Date(Date.UTC(2025, 0, 1, 6, minute)).toISOString();

describe('createRedisRunStore', () => {
  afterEach(async () => {
    for (const p of prefixes.splice(0)) {
      const keys = await redis.keys(`${p}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
  });

  it('stores a run as running, then its final report, and reads it back unchanged', async () => {
    const store = createRedisRunStore(redis, newPrefix());
    await store.insertRun({ runId: 'r1', exportId: 'sales', trigger: { kind: 'manual', by: 'ops' }, startedAt: at(0) });
    expect(await store.getRun('r1')).toMatchObject({
      status: 'running',
      trigger: { kind: 'manual', by: 'ops' },
      finishedAt: undefined,
      sheets: [],
    });
    const final = report('r1', 'sales', at(0), { trigger: { kind: 'manual', by: 'ops' }, note: 'a note' });
    await store.finishRun(final);
    expect(await store.getRun('r1')).toEqual(final);
    expect(await store.getRun('missing')).toBeUndefined();
  });

  it('lists newest first, by export and by status, with a limit', async () => {
    const store = createRedisRunStore(redis, newPrefix());
    await store.finishRun(report('a1', 'a', at(1)));
    await store.finishRun(report('b1', 'b', at(2), { status: 'failed', error: { code: 'X', message: 'boom' } }));
    await store.finishRun(report('a2', 'a', at(3), { status: 'skipped' }));
    await store.finishRun(report('a3', 'a', at(4), { status: 'unchanged' }));
    expect((await store.listRuns({})).map((r) => r.runId)).toEqual(['a3', 'a2', 'b1', 'a1']);
    expect((await store.listRuns({ exportId: 'a', limit: 2 })).map((r) => r.runId)).toEqual(['a3', 'a2']);
    expect((await store.listRuns({ status: 'failed' })).map((r) => r.runId)).toEqual(['b1']);
    expect((await store.lastSuccess('a'))?.runId).toBe('a3');
    expect(await store.lastSuccess('b')).toBeUndefined();
  });

  it('finds the last success past more than one page of other runs', async () => {
    const store = createRedisRunStore(redis, newPrefix());
    await store.finishRun(report('ok', 'a', at(0)));
    for (let i = 1; i <= 120; i += 1)
      await store.finishRun(
        report(`f${i}`, 'a', new Date(Date.UTC(2025, 0, 1, 7, 0, i)).toISOString(), { status: 'failed' }),
      );
    expect((await store.lastSuccess('a'))?.runId).toBe('ok');
  });

  it('caps the history per export and overall, dropping the oldest runs', async () => {
    const store = createRedisRunStore(redis, newPrefix(), { maxRunsPerExport: 3, maxRuns: 5 });
    for (let i = 0; i < 5; i += 1) await store.finishRun(report(`a${i}`, 'a', at(i)));
    expect((await store.listRuns({ exportId: 'a' })).map((r) => r.runId)).toEqual(['a4', 'a3', 'a2']);
    expect(await store.getRun('a0')).toBeUndefined();
    for (let i = 0; i < 3; i += 1) await store.finishRun(report(`b${i}`, 'b', at(10 + i)));
    expect((await store.listRuns({})).map((r) => r.runId)).toEqual(['b2', 'b1', 'b0', 'a4', 'a3']);
    expect((await store.listRuns({ exportId: 'a' })).map((r) => r.runId)).toEqual(['a4', 'a3']);
  });

  it('marks only running runs as interrupted, by id or all, and never overwrites a finished run', async () => {
    const store = createRedisRunStore(redis, newPrefix(), { now: () => new Date(Date.parse(at(5))) });
    await store.insertRun({ runId: 'r1', exportId: 'a', trigger: { kind: 'cli' }, startedAt: at(0), attempt: 1 });
    await store.insertRun({ runId: 'r2', exportId: 'a', trigger: { kind: 'cli' }, startedAt: at(1) });
    await store.finishRun(report('r3', 'a', at(2)));
    expect(await store.markInterrupted('worker died', { runIds: ['r1', 'r3', 'nope'] })).toBe(1);
    expect(await store.getRun('r1')).toMatchObject({
      status: 'failed',
      attempt: 1,
      durationMs: 5 * 60_000,
      finishedAt: at(5),
      error: { code: 'INTERRUPTED', message: 'worker died' },
    });
    expect((await store.getRun('r3'))?.status).toBe('succeeded');
    expect(await store.markInterrupted('restart')).toBe(1);
    expect(await store.getRun('r2')).toMatchObject({
      status: 'failed',
      error: { code: 'INTERRUPTED', message: 'restart' },
    });
    expect(await store.markInterrupted('again')).toBe(0);
  });

  it('rejects a start time that is not a date, and reports a corrupt entry with its key', async () => {
    const prefix = newPrefix();
    const store = createRedisRunStore(redis, prefix);
    await expect(
      store.insertRun({ runId: 'x', exportId: 'a', trigger: { kind: 'cli' }, startedAt: 'yesterday' }),
    ).rejects.toThrow(/startedAt 'yesterday'/);
    await store.finishRun(report('bad', 'a', at(0)));
    await redis.hset(`${prefix}:run:bad`, 'json', '{"runId":"bad"}');
    await expect(store.getRun('bad')).rejects.toThrow(`${prefix}:run:bad`);
  });
});

describe('createRedisRunStore: runs retried in queue mode, filters', () => {
  afterEach(async () => {
    for (const p of prefixes.splice(0)) {
      const keys = await redis.keys(`${p}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
  });

  it('keeps one record per run across attempts: the run id reads the final outcome, attempts listed', async () => {
    const store = createRedisRunStore(redis, newPrefix());
    const trigger = { kind: 'manual', by: 'ops' } as const;
    await store.insertRun({ runId: 'j', exportId: 'a', trigger, startedAt: at(0), attempt: 1 });
    await store.insertRun({ runId: 'j', exportId: 'a', trigger, startedAt: at(0), attempt: 1, worker: 'w-a' });
    await store.insertRun({ runId: 'j#2', exportId: 'a', trigger, startedAt: at(2), attempt: 2, worker: 'w-b' });
    await store.finishRun(report('j#2', 'a', at(2), { trigger, attempt: 2 }));
    for (const id of ['j', 'j#2']) {
      expect(await store.getRun(id)).toMatchObject({ runId: 'j', status: 'succeeded', attempt: 2, worker: 'w-b' });
    }
    expect((await store.getRun('j'))?.attempts?.map((e) => [e.attempt, e.status, e.worker, e.error?.code])).toEqual([
      [1, 'failed', 'w-a', 'INTERRUPTED'],
      [2, 'succeeded', 'w-b', undefined],
    ]);
    expect((await store.listRuns({ exportId: 'a' })).map((r) => r.runId)).toEqual(['j']);
    expect((await store.lastSuccess('a'))?.runId).toBe('j');
    expect(await store.markInterrupted('late', { runIds: ['j', 'j#2'] })).toBe(0);
  });

  it('loses no attempt when workers write the same run at the same time (compare-and-set)', async () => {
    const store = createRedisRunStore(redis, newPrefix());
    const trigger = { kind: 'cli' } as const;
    await store.insertRun({ runId: 'j', exportId: 'a', trigger, startedAt: at(0), attempt: 1, worker: 'w1' });
    // Attempts 2..6 start at once, on five workers: every one of them must be listed.
    await Promise.all(
      [2, 3, 4, 5, 6].map((n) =>
        store.insertRun({ runId: `j#${n}`, exportId: 'a', trigger, startedAt: at(n), attempt: n, worker: `w${n}` }),
      ),
    );
    const record = await store.getRun('j');
    expect(record?.attempt).toBe(6);
    expect(record?.attempts?.map((e) => e.worker).sort()).toEqual(['w1', 'w2', 'w3', 'w4', 'w5', 'w6']);
  });

  it('filters by trigger', async () => {
    const store = createRedisRunStore(redis, newPrefix());
    await store.finishRun(report('s1', 'a', at(1)));
    await store.finishRun(report('m1', 'a', at(2), { trigger: { kind: 'manual', by: 'ops' } }));
    expect((await store.listRuns({ exportId: 'a', trigger: 'manual' })).map((r) => r.runId)).toEqual(['m1']);
    expect((await store.listRuns({ trigger: 'schedule' })).map((r) => r.runId)).toEqual(['s1']);
  });
});
