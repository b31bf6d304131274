/**
 * Queue mode, in one process against a real Redis: manual "Sync now" de-duplication (the second click gets a
 * conflict, the admin API answers 409), scheduled ticks that arrive while the export runs are recorded as skipped
 * (never run concurrently), and the Redis run history shared by scheduler and worker.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../src/shared/logger.js';
import { realSleep } from '../../src/shared/clock.js';
import { UsageError } from '../../src/shared/errors.js';
import { createRedisRunStore } from '../../src/state/redis-run-store.js';
import type { RunStore } from '../../src/contracts/run-store.js';
import type { RunReport } from '../../src/contracts/run-report.js';
import { createQueueScheduler, type QueueScheduler } from '../../src/scheduler/queue/queue-scheduler.js';
import { createQueueWorker, type QueueWorker } from '../../src/scheduler/queue/queue-worker.js';
import { type ExportRunner } from '../../src/contracts/export-runner.js';
import { createQueueExportControl } from '../../src/scheduler/queue/queue-export-control.js';
import { createFreePortUrl } from './fixtures/queue-harness.js';
import { maxConcurrent, requireRedisUrl, uniquePrefix } from './fixtures/queue-harness.js';
import { pollFor } from './helpers/service-process.js';

const redisUrl = requireRedisUrl();
const logger = createSilentLogger();

interface Started {
  readonly exportId: string;
  readonly runId: string;
  readonly trigger: string;
  readonly start: number;
  end?: number;
}

/** A runner that records into the store and into `runs`, each run lasting `ms` (or until `release()`). */
function recordingRunner(store: RunStore, ms: number): { runner: ExportRunner; runs: Started[] } {
  const runs: Started[] = [];
  const runner: ExportRunner = async (exportId, trigger, { signal, runId, attempt }) => {
    const startedAt = new Date().toISOString();
    await store.insertRun({ runId, exportId, trigger, startedAt, attempt: attempt ?? 1 });
    const entry: Started = { exportId, runId, trigger: trigger.kind, start: Date.now() };
    runs.push(entry);
    await realSleep(ms, signal).catch(() => undefined);
    entry.end = Date.now();
    const report: RunReport = {
      runId,
      exportId,
      trigger,
      status: 'succeeded',
      startedAt,
      finishedAt: new Date().toISOString(),
      durationMs: entry.end - entry.start,
      sheets: [],
      rows: 1,
      bytes: 1,
      destination: undefined,
      warnings: [],
      error: undefined,
      timings: {},
      dataHash: undefined,
      attempt: attempt ?? 1,
    };
    await store.finishRun(report);
    return report;
  };
  return { runner, runs };
}

describe('queue mode: manual runs and overlap', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(
    name: string,
    runMs: number,
    exports: { id: string; schedule?: string }[],
  ): Promise<{ scheduler: QueueScheduler; worker: QueueWorker; store: RunStore; runs: Started[] }> {
    const prefix = uniquePrefix(name);
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
    const store = createRedisRunStore(redis, prefix);
    const { runner, runs } = recordingRunner(store, runMs);
    const scheduler = createQueueScheduler({
      connection: redisUrl,
      prefix,
      exports,
      timezone: 'UTC',
      siteConcurrency: 2,
      logger,
      store,
    });
    await scheduler.sync(exports);
    const worker = createQueueWorker({
      connection: redisUrl,
      prefix,
      concurrency: 4,
      siteConcurrency: 2,
      runner,
      store,
      logger,
    });
    await worker.ready();
    cleanups.push(async () => {
      await scheduler.sync([]);
      await worker.close();
      await scheduler.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    });
    return { scheduler, worker, store, runs };
  }

  it('gives one run for two clicks while it is queued or running, then accepts a new one', async () => {
    const { scheduler, store, runs } = await setup('manual', 800, [{ id: 'sales' }, { id: 'other' }]);

    const first = await scheduler.enqueueManual('sales', 'admin-token-1');
    expect(first).toHaveProperty('runId');
    const runId = 'runId' in first ? first.runId : '';
    // Second click at once (queued or just started) and again while it surely runs: both conflict with the first run.
    expect(await scheduler.enqueueManual('sales', 'admin-token-2')).toEqual({ conflict: true, activeRunId: runId });
    await pollFor('the run to start', 5000, () => (runs.length > 0 ? true : undefined));
    expect(await scheduler.enqueueManual('sales', 'admin-token-2')).toEqual({ conflict: true, activeRunId: runId });
    // Another export is independent.
    expect(await scheduler.enqueueManual('other', 'admin-token-1')).toHaveProperty('runId');

    await pollFor('the first run to finish', 5000, async () =>
      (await store.getRun(runId))?.status === 'succeeded' ? true : undefined,
    );
    const again = await scheduler.enqueueManual('sales', 'admin-token-1');
    expect(again).toHaveProperty('runId');
    expect(again).not.toEqual(first);
    // The worker records a run's end after its runner returns: wait for the record, not only the runner.
    const againId = 'runId' in again ? again.runId : '';
    await pollFor('the second run to be recorded', 5000, async () =>
      (await store.getRun(againId))?.status === 'succeeded' ? true : undefined,
    );

    const history = await store.listRuns({ exportId: 'sales' });
    expect(history.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(history[1]?.trigger).toEqual({ kind: 'manual', by: 'admin-token-1' });
    expect(runs.filter((r) => r.exportId === 'sales')).toHaveLength(2);
  });

  it('rejects an unknown export id with a usage error', async () => {
    const { scheduler } = await setup('unknown', 10, [{ id: 'sales' }]);
    await expect(scheduler.enqueueManual('nope', 'admin')).rejects.toBeInstanceOf(UsageError);
  });

  it('records ticks that arrive while the export runs as skipped and never runs the export twice at once', async () => {
    // Ticks every second, runs of 2.5 s: most ticks find the export running.
    const { scheduler, store, runs } = await setup('overlap', 2500, [{ id: 'busy', schedule: '* * * * * *' }]);
    await realSleep(6500);
    await scheduler.sync([]);
    await pollFor('the last run to finish', 6000, async () =>
      (await scheduler.depth()).active === 0 && runs.every((r) => r.end !== undefined) ? true : undefined,
    );

    const done = runs.filter((r) => r.end !== undefined).map((r) => ({ start: r.start, end: r.end ?? 0 }));
    expect(done.length).toBeGreaterThanOrEqual(2);
    expect(maxConcurrent(done)).toBe(1);
    const skipped = await store.listRuns({ exportId: 'busy', status: 'skipped' });
    expect(skipped.length).toBeGreaterThanOrEqual(2);
    for (const s of skipped) {
      expect(s.trigger.kind).toBe('schedule');
      expect(s.warnings[0]).toMatch(/already queued or running/);
    }
    // Every tick is accounted once: as a run or as a skip, never both.
    const ranTicks = (await store.listRuns({ exportId: 'busy', status: 'succeeded' })).map((r) =>
      r.trigger.kind === 'schedule' ? r.trigger.scheduledFor : '',
    );
    const skippedTicks = skipped.map((r) => (r.trigger.kind === 'schedule' ? r.trigger.scheduledFor : ''));
    expect(new Set([...ranTicks, ...skippedTicks]).size).toBe(ranTicks.length + skippedTicks.length);
  });

  it('serves the admin ExportControl: list with next tick and running run, Sync now, 409-style conflict', async () => {
    const exports = [
      { id: 'nightly', schedule: '0 6 * * *', timezone: 'Europe/Paris', destinationLabel: 'local: out/n.xlsx' },
      { id: 'adhoc', timezone: 'UTC', destinationLabel: 'local: out/a.xlsx' },
    ];
    const { scheduler, store } = await setup('control', 1500, exports);
    const control = createQueueExportControl(scheduler, () => exports);
    expect(await control.isReady()).toBe(true);

    const before = await control.list();
    const nightly = before.find((e) => e.id === 'nightly');
    expect(nightly?.nextRun?.getTime()).toBeGreaterThan(Date.now());
    // 06:00 in Paris is 04:00 or 05:00 UTC.
    expect([4, 5]).toContain(nightly?.nextRun?.getUTCHours());
    expect(before.find((e) => e.id === 'adhoc')).toMatchObject({
      schedule: undefined,
      nextRun: undefined,
      running: false,
      runningRunId: undefined,
      destinationLabel: 'local: out/a.xlsx',
    });

    const started = await control.trigger('adhoc', 'ops-token');
    if (started.outcome !== 'started') throw new Error(`expected started, got ${started.outcome}`);
    // In the history at once (as running), before a worker picks it up.
    expect(await store.getRun(started.runId)).toMatchObject({
      status: 'running',
      trigger: { kind: 'manual', by: 'ops-token' },
    });
    expect(await control.trigger('adhoc', 'ops-token')).toEqual({ outcome: 'conflict', runningRunId: started.runId });
    expect((await control.list()).find((e) => e.id === 'adhoc')).toMatchObject({
      running: true,
      runningRunId: started.runId,
    });
    expect(await control.trigger('missing', 'ops-token')).toEqual({ outcome: 'not-found' });

    await pollFor('the run to finish', 6000, async () =>
      (await store.getRun(started.runId))?.status === 'succeeded' ? true : undefined,
    );
    await pollFor('the export to show idle', 2000, async () =>
      (await control.list()).find((e) => e.id === 'adhoc')?.running === false ? true : undefined,
    );
  });

  it('answers unavailable (not a hang) when Redis cannot be reached', async () => {
    const scheduler = createQueueScheduler({
      connection: await createFreePortUrl(),
      prefix: uniquePrefix('down'),
      exports: [{ id: 'a' }],
      timezone: 'UTC',
      siteConcurrency: 2,
      logger,
    });
    const control = createQueueExportControl(scheduler, () => [{ id: 'a', timezone: 'UTC', destinationLabel: 'x' }], {
      timeoutMs: 1500,
    });
    expect(await control.isReady()).toBe(false);
    const result = await control.trigger('a', 'ops');
    expect(result).toMatchObject({ outcome: 'unavailable' });
    expect(result.outcome === 'unavailable' ? result.message : '').toMatch(/Redis/);
    // close() must not hang either.
    await Promise.race([scheduler.close().catch(() => undefined), realSleep(3000)]);
  });
});
