/** The fleet's live progress over a real Redis (REDIS_URL): what workers publish, every serve replica sees. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { LiveRun, ProgressEvent } from '../../contracts/run-progress.js';
import { createSilentLogger } from '../../shared/logger.js';
import { createRedisProgressSink, relayRedisProgress } from './progress-channel.js';

const url = process.env['REDIS_URL'];
if (url === undefined || url === '') throw new Error('REDIS_URL is not set: these tests need a real Redis');
const redis = new Redis(url, { maxRetriesPerRequest: 3 });
afterAll(async () => {
  await redis.quit();
});

const run = (runId: string, rows: number): LiveRun => ({
  runId,
  exportId: 'sales',
  attempt: 1,
  worker: 'host-a:1',
  stage: 'write',
  sheet: 'Opportunities',
  rows,
  rowsTotal: 5019,
  rowsDone: 0,
  startedAt: '2026-05-05T06:00:00.000Z',
  stageStartedAt: '2026-05-05T06:00:01.000Z',
  updatedAt: new Date().toISOString(),
});

async function until<T>(what: string, check: () => T | undefined): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('progress over Redis', () => {
  it('a replica that starts late sees the runs already going, then every update and end', async () => {
    const prefix = `test-progress-${randomUUID().slice(0, 8)}`;
    const sink = createRedisProgressSink(redis, prefix, createSilentLogger());
    sink.publish({ kind: 'progress', run: run('early@manual-1', 4000) });
    const stored = async (): Promise<void> => {
      for (let i = 0; i < 100 && (await redis.keys(`${prefix}:progress:*`)).length === 0; i++)
        await new Promise((r) => setTimeout(r, 20));
    };
    await stored();
    const heard: ProgressEvent[] = [];
    const subscriber = new Redis(url, { maxRetriesPerRequest: null });
    const relay = await relayRedisProgress({
      subscriber,
      reader: redis,
      prefix,
      sink: { publish: (e) => heard.push(e) },
      logger: createSilentLogger(),
    });
    try {
      expect(heard).toMatchObject([{ kind: 'progress', run: { runId: 'early@manual-1', rows: 4000 } }]);
      sink.publish({ kind: 'progress', run: run('early@manual-1', 5019) });
      sink.publish({
        kind: 'ended',
        ended: { runId: 'early@manual-1', exportId: 'sales', status: 'succeeded', at: new Date().toISOString() },
      });
      await until('the end to be relayed', () => (heard.length >= 3 ? true : undefined));
      expect(heard.map((e) => (e.kind === 'progress' ? e.run.rows : e.ended.status))).toEqual([
        4000,
        5019,
        'succeeded',
      ]);
      // The end removed the stored update: a replica starting now sees nothing running.
      expect(await redis.keys(`${prefix}:progress:*`)).toEqual([]);
      // Garbage on the channel (another version, a stray publisher) is dropped.
      await redis.publish(`${prefix}:progress`, '{"kind":"progress","run":{"runId":1}}');
      await redis.publish(`${prefix}:progress`, 'not json');
      await new Promise((r) => setTimeout(r, 200));
      expect(heard).toHaveLength(3);
    } finally {
      await relay.close();
    }
  });
});
