/**
 * Queue mode crash recovery and graceful shutdown against a real Redis, with worker child processes:
 * - a worker killed with SIGKILL in the middle of a long run: the run is detected as stalled and completed by another
 *   worker as attempt 2; the run keeps its id, reads succeeded, and lists attempt 1 failed/INTERRUPTED on the dead
 *   worker and attempt 2 succeeded on the other one;
 * - a worker stopped with SIGTERM finishes its running run before it exits (nothing lost, nothing interrupted);
 * - a worker whose shutdown grace runs out gives its run back to the queue, and another worker runs it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../src/shared/logger.js';
import { createRedisRunStore } from '../../src/state/redis-run-store.js';
import { createQueueScheduler, type QueueScheduler } from '../../src/scheduler/queue/queue-scheduler.js';
import {
  deletePrefix,
  readRunLog,
  readStartLog,
  requireRedisUrl,
  spawnQueueProcess,
  uniquePrefix,
  type QueueChild,
} from './fixtures/queue-harness.js';
import { pollFor } from './helpers/service-process.js';
import type { QueueProcessOptions } from './fixtures/queue-process.js';

const redisUrl = requireRedisUrl();
const exports = [{ id: 'long-export' }];

describe('queue mode: crashes and shutdown', () => {
  const dir = mkdtempSync(join(tmpdir(), 'queue-crash-'));
  let children: QueueChild[] = [];
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  let scheduler: QueueScheduler | undefined;
  let prefixInUse: string | undefined;

  afterEach(async () => {
    for (const c of children) await c.stop();
    children = [];
    await scheduler?.close();
    scheduler = undefined;
    if (prefixInUse !== undefined) await deletePrefix(redis, prefixInUse);
  });
  afterAll(async () => {
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(
    name: string,
    workers: number,
    extra: Partial<QueueProcessOptions>,
  ): Promise<{ prefix: string; log: string; runId: string }> {
    const prefix = uniquePrefix(name);
    prefixInUse = prefix;
    const log = join(dir, `${name}.log`);
    const options: QueueProcessOptions = {
      role: 'worker',
      redisUrl,
      prefix,
      exports,
      siteConcurrency: 2,
      log,
      runMs: [3000, 3000],
      concurrency: 1,
      lockDuration: 1500,
      stalledInterval: 1000,
      ...extra,
    };
    children = await Promise.all(Array.from({ length: workers }, () => spawnQueueProcess(options)));
    scheduler = createQueueScheduler({
      connection: redis,
      prefix,
      exports,
      timezone: 'UTC',
      siteConcurrency: 2,
      logger: createSilentLogger(),
    });
    await scheduler.sync(exports);
    const queued = await scheduler.enqueueManual('long-export', 'admin');
    if (!('runId' in queued)) throw new Error('expected the manual run to be queued');
    return { prefix, log, runId: queued.runId };
  }

  it('retries a run whose worker was killed (SIGKILL) on another worker, and records both attempts', async () => {
    const { prefix, log, runId } = await start('kill', 2, {});
    const first = await pollFor('the run to start', 10_000, () => readStartLog(log)[0]);
    const victim = children.find((c) => c.pid === first.pid);
    if (victim === undefined) throw new Error(`run started on unknown pid ${first.pid}`);
    await new Promise((r) => setTimeout(r, 500));
    victim.child.kill('SIGKILL');

    const done = await pollFor('the retry to complete', 20_000, () => readRunLog(log)[0]);
    expect(done.pid).not.toBe(victim.pid);
    expect(done.attempt).toBe(2);
    expect(done.runId).toBe(`${runId}#2`);
    expect(readStartLog(log).map((s) => s.attempt)).toEqual([1, 2]);

    const store = createRedisRunStore(redis, prefix);
    // The id the manual trigger gave out reads the outcome of the run across its attempts.
    const run = await pollFor('the run to read succeeded', 5000, async () => {
      const r = await store.getRun(runId);
      return r?.status === 'succeeded' ? r : undefined;
    });
    expect(run).toMatchObject({
      runId,
      status: 'succeeded',
      attempt: 2,
      worker: `test-worker-${done.pid}`,
      trigger: { kind: 'manual', by: 'admin' },
    });
    expect(run.attempts?.map((a) => [a.attempt, a.attemptId, a.status, a.worker, a.error?.code])).toEqual([
      [1, runId, 'failed', `test-worker-${victim.pid}`, 'INTERRUPTED'],
      [2, `${runId}#2`, 'succeeded', `test-worker-${done.pid}`, undefined],
    ]);
    expect(run.attempts?.[0]?.error?.message).toMatch(
      new RegExp(`interrupted.*test-worker-${victim.pid}.*retried as attempt 2 on test-worker-${done.pid}`),
    );
    expect(await store.getRun(`${runId}#2`)).toEqual(run);
    // One run, one row in the history.
    const history = await store.listRuns({ exportId: 'long-export' });
    expect(history.map((r) => [r.runId, r.attempt, r.status])).toEqual([[runId, 2, 'succeeded']]);
    // The dedup window covered the whole retry: a click now is a new run, not a conflict.
    expect(await scheduler?.enqueueManual('long-export', 'admin')).toHaveProperty('runId');
  }, 45_000);

  it('finishes the running run on SIGTERM before the worker exits', async () => {
    const { prefix, log, runId } = await start('sigterm', 1, { runMs: [1500, 1500] });
    await pollFor('the run to start', 10_000, () => readStartLog(log)[0]);
    const [worker] = children;
    expect(await worker?.stop()).toBe(0);
    expect(readRunLog(log)).toHaveLength(1);
    const store = createRedisRunStore(redis, prefix);
    expect(await store.getRun(runId)).toMatchObject({ status: 'succeeded', attempt: 1 });
  }, 30_000);

  it('returns the job to the queue when the shutdown grace runs out, and another worker runs it', async () => {
    const { prefix, log, runId } = await start('grace', 1, { runMs: [4000, 4000], graceMs: 300 });
    await pollFor('the run to start', 10_000, () => readStartLog(log)[0]);
    const [worker] = children;
    const stoppedAt = Date.now();
    expect(await worker?.stop()).toBe(0);
    // Returned, not left to stall: the worker exited well before the run would have ended.
    expect(Date.now() - stoppedAt).toBeLessThan(3000);
    expect(readRunLog(log)).toHaveLength(0);

    children = [
      await spawnQueueProcess({
        role: 'worker',
        redisUrl,
        prefix,
        exports,
        siteConcurrency: 2,
        log,
        runMs: [200, 200],
        concurrency: 1,
      }),
    ];
    const done = await pollFor('another worker to run it', 10_000, () => readRunLog(log)[0]);
    expect(done.attempt).toBe(2);
    const store = createRedisRunStore(redis, prefix);
    const run = await pollFor('the run to read succeeded', 5000, async () => {
      const r = await store.getRun(runId);
      return r?.status === 'succeeded' ? r : undefined;
    });
    // The attempt the shutdown gave back is listed as it ended (aborted), not as a crash.
    expect(run.attempts?.map((a) => [a.attempt, a.status, a.error?.code])).toEqual([
      [1, 'failed', 'ABORTED'],
      [2, 'succeeded', undefined],
    ]);
  }, 45_000);
});
