/**
 * Queue mode across processes against a real Redis: 2 scheduler processes (one re-syncing every few seconds, like a
 * config reload) and 3 worker processes, 30 exports ticking every 2–3 s for ~20 s. Each (export, tick) must run
 * exactly once — or be recorded as skipped when its export was still queued or running — no export may run twice at
 * the same time, and the site limit must hold across all workers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../src/shared/logger.js';
import { realSleep } from '../../src/shared/clock.js';
import { createRedisRunStore } from '../../src/state/redis-run-store.js';
import { createQueueScheduler } from '../../src/scheduler/queue/queue-scheduler.js';
import {
  deletePrefix,
  maxConcurrent,
  readRunLog,
  requireRedisUrl,
  spawnQueueProcess,
  uniquePrefix,
  type QueueChild,
} from './fixtures/queue-harness.js';
import { pollFor } from './helpers/service-process.js';

const redisUrl = requireRedisUrl();
const SITE_CAP = 6;
const exports = Array.from({ length: 30 }, (_, i) => ({
  id: `export-${String(i + 1).padStart(2, '0')}`,
  schedule: i % 2 === 0 ? '*/2 * * * * *' : '*/3 * * * * *',
}));

describe('queue mode across processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'queue-exactly-once-'));
  const children: QueueChild[] = [];
  afterAll(async () => {
    for (const c of children) await c.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs every tick exactly once, never overlaps an export and keeps the site limit', async () => {
    const prefix = uniquePrefix('exactly-once');
    const log = join(dir, 'runs.log');
    const common = { redisUrl, prefix, exports, siteConcurrency: SITE_CAP, log, runMs: [200, 400] as const };
    // Workers first, so the first ticks find someone to take them.
    for (let i = 0; i < 3; i += 1)
      children.push(await spawnQueueProcess({ ...common, role: 'worker', concurrency: 3 }));
    const syncedAt = Date.now();
    const schedulers = await Promise.all([
      spawnQueueProcess({ ...common, role: 'scheduler' }),
      spawnQueueProcess({ ...common, role: 'scheduler', resyncEveryMs: 3000 }),
    ]);
    children.push(...schedulers);
    await realSleep(20_000);

    // Stop the ticks: remove every job scheduler, stop the scheduler processes, let the queue drain.
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
    for (const s of schedulers) await s.stop();
    const control = createQueueScheduler({
      connection: redis,
      prefix,
      exports,
      timezone: 'UTC',
      siteConcurrency: SITE_CAP,
      logger: createSilentLogger(),
    });
    await control.sync([]);
    const stoppedAt = Date.now();
    await pollFor('the queue to drain', 15_000, async () => {
      const d = await control.depth();
      return d.waiting + d.active + d.delayed === 0 ? true : undefined;
    });
    await realSleep(500);
    const store = createRedisRunStore(redis, prefix);
    const skipped = await store.listRuns({ status: 'skipped', limit: 10_000 });
    await control.close();
    for (const c of children) expect(await c.stop()).toBe(0);
    await deletePrefix(redis, prefix);
    await redis.quit();

    const runs = readRunLog(log);
    // 1. No (export, tick) ran twice, and none was both run and skipped.
    const seen = new Map<string, number>();
    for (const r of runs) seen.set(`${r.exportId}@${r.tick}`, (seen.get(`${r.exportId}@${r.tick}`) ?? 0) + 1);
    const duplicates = [...seen].filter(([, n]) => n > 1);
    expect(duplicates).toEqual([]);
    const skippedTicks = skipped.map(
      (s) => `${s.exportId}@${s.trigger.kind === 'schedule' ? Date.parse(s.trigger.scheduledFor ?? '') : '?'}`,
    );
    expect(skippedTicks.filter((t) => seen.has(t))).toEqual([]);

    // 2. Every tick well inside the window was accounted for (ran, or skipped because its export was busy).
    const missing: string[] = [];
    let expected = 0;
    for (const e of exports) {
      const it = CronExpressionParser.parse(e.schedule, {
        currentDate: new Date(syncedAt + 2000),
        endDate: new Date(stoppedAt - 2000),
        tz: 'UTC',
      });
      while (it.hasNext()) {
        const key = `${e.id}@${it.next().getTime()}`;
        expected += 1;
        if (!seen.has(key) && !skippedTicks.includes(key)) missing.push(key);
      }
    }
    expect(expected).toBeGreaterThan(150);
    expect(missing).toEqual([]);
    // Skips are the exception at this load, not the rule.
    expect(runs.length).toBeGreaterThan(expected * 0.9);

    if (process.env['QUEUE_TEST_STATS'] === '1')
      console.log({
        expected,
        runs: runs.length,
        skipped: skipped.length,
        maxConcurrent: maxConcurrent(runs),
        pids: new Set(runs.map((r) => r.pid)).size,
      });
    // 3. No export ran twice at the same time; 4. the site limit held across the three workers.
    for (const e of exports) expect(maxConcurrent(runs.filter((r) => r.exportId === e.id))).toBeLessThanOrEqual(1);
    expect(maxConcurrent(runs)).toBeLessThanOrEqual(SITE_CAP);
    // Work was spread over the workers.
    expect(new Set(runs.map((r) => r.pid)).size).toBe(3);
  }, 60_000);
});
