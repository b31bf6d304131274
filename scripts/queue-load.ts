/**
 * Queue-mode scale-out measurement: runs a fixed batch of export runs with 1, 2 and 4 worker processes against a real
 * Redis and prints throughput (runs/minute) per worker count. The runner is the fake one of the queue tests (fixed
 * duration per run), so the numbers show what the queue adds and how it scales, not Tableau's speed.
 *
 *   bash scripts/ensure-redis.sh .tmp/redis.env && set -a && . .tmp/redis.env && set +a
 *   npx tsx scripts/queue-load.ts [--runs 48] [--run-ms 500] [--concurrency 2] [--workers 1,2,4]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createSilentLogger } from '../src/shared/logger.js';
import { createQueueScheduler } from '../src/scheduler/queue/queue-scheduler.js';
import { readRunLog, requireRedisUrl, spawnQueueProcess, uniquePrefix, waitFor } from '../test/integration/fixtures/queue-harness.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '48' },
    'run-ms': { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '2' },
    workers: { type: 'string', default: '1,2,4' },
  },
});
const runs = Number(values.runs);
const runMs = Number(values['run-ms']);
const concurrency = Number(values.concurrency);
const workerCounts = values.workers.split(',').map(Number);
const redisUrl = requireRedisUrl();

interface Row {
  readonly workers: number;
  readonly runs: number;
  readonly seconds: number;
  readonly runsPerMinute: number;
  readonly ideal: number;
}

async function measure(workers: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'queue-load-'));
  const log = join(dir, 'runs.log');
  const prefix = uniquePrefix(`load-${workers}`);
  const exports = Array.from({ length: runs }, (_, i) => ({ id: `load-${i}` }));
  // The site cap is set above the fleet's slots so the workers, not the limiter, are what is measured.
  const siteConcurrency = 20;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const children = await Promise.all(
    Array.from({ length: workers }, () => spawnQueueProcess({ role: 'worker', redisUrl, prefix, exports, siteConcurrency, concurrency, log, runMs: [runMs, runMs] })),
  );
  const scheduler = createQueueScheduler({ connection: redis, prefix, exports, timezone: 'UTC', siteConcurrency, logger: createSilentLogger() });
  try {
    await scheduler.sync(exports);
    const started = Date.now();
    for (const e of exports) await scheduler.enqueueManual(e.id, 'load');
    await waitFor(`${runs} runs`, 10 * 60_000, () => (readRunLog(log).length >= runs ? true : undefined));
    const seconds = (Date.now() - started) / 1000;
    const slots = Math.min(workers * concurrency, siteConcurrency);
    return { workers, runs, seconds, runsPerMinute: (runs / seconds) * 60, ideal: (slots * 60_000) / runMs };
  } finally {
    await scheduler.close();
    for (const c of children) await c.stop();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const w of workerCounts) rows.push(await measure(w));
const base = rows[0]?.runsPerMinute ?? 1;
console.log(`\nQueue throughput: ${runs} runs of ${runMs} ms, ${concurrency} runs per worker process\n`);
console.log('| workers | runs | seconds | runs/minute | speed-up | ideal runs/minute |');
console.log('|--------:|-----:|--------:|------------:|---------:|------------------:|');
for (const r of rows) {
  console.log(`| ${r.workers} | ${r.runs} | ${r.seconds.toFixed(1)} | ${r.runsPerMinute.toFixed(0)} | ${(r.runsPerMinute / base).toFixed(2)}x | ${r.ideal.toFixed(0)} |`);
}
