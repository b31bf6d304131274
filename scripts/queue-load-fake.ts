/**
 * `queue-load.ts --fake`: the queue alone. Worker processes run the fake runner of the queue tests (a fixed duration per
 * run, no Tableau, no Graph), so the numbers show what BullMQ/Redis add and how the queue scales, not the tool's speed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createSilentLogger } from '../src/shared/logger.js';
import { createQueueScheduler } from '../src/scheduler/queue/queue-scheduler.js';
import { readRunLog, spawnQueueProcess, uniquePrefix } from '../test/integration/fixtures/queue-harness.js';
import { pollFor } from '../test/integration/helpers/service-process.js';
import { printTable, type Cleanup } from './queue-load-kit.js';

export interface FakeLoadOptions {
  readonly redisUrl: string;
  readonly workerCounts: readonly number[];
  readonly runs: number;
  readonly runMs: number;
  /** Runs per worker process. */
  readonly concurrency: number;
  readonly cleanup: Cleanup;
}

interface Row {
  readonly workers: number;
  readonly runs: number;
  readonly seconds: number;
  readonly runsPerMinute: number;
  readonly ideal: number;
}

async function measure(o: FakeLoadOptions, workers: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'queue-load-'));
  o.cleanup.dir(dir);
  const log = join(dir, 'runs.log');
  const prefix = uniquePrefix(`load-${workers}`);
  const exports = Array.from({ length: o.runs }, (_, i) => ({ id: `load-${i}` }));
  // The site cap is set above the fleet's slots so the workers, not the limiter, are what is measured.
  const siteConcurrency = 20;
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 3 });
  const children = await Promise.all(
    Array.from({ length: workers }, async () => {
      const c = await spawnQueueProcess({
        role: 'worker',
        redisUrl: o.redisUrl,
        prefix,
        exports,
        siteConcurrency,
        concurrency: o.concurrency,
        log,
        runMs: [o.runMs, o.runMs],
      });
      o.cleanup.child(c.pid, () => c.stop());
      return c;
    }),
  );
  const scheduler = createQueueScheduler({
    connection: redis,
    prefix,
    exports,
    timezone: 'UTC',
    siteConcurrency,
    logger: createSilentLogger(),
  });
  try {
    await scheduler.sync(exports);
    const started = Date.now();
    for (const e of exports) await scheduler.enqueueManual(e.id, 'load');
    await pollFor(`${o.runs} runs`, 10 * 60_000, () => (readRunLog(log).length >= o.runs ? true : undefined));
    const seconds = (Date.now() - started) / 1000;
    const slots = Math.min(workers * o.concurrency, siteConcurrency);
    return {
      workers,
      runs: o.runs,
      seconds,
      runsPerMinute: (o.runs / seconds) * 60,
      ideal: (slots * 60_000) / o.runMs,
    };
  } finally {
    await scheduler.close();
    for (const c of children) await c.stop();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Measures each worker count in turn and prints the table. */
export async function runFakeLoad(o: FakeLoadOptions): Promise<void> {
  const rows: Row[] = [];
  for (const w of o.workerCounts) rows.push(await measure(o, w));
  const base = rows[0]?.runsPerMinute ?? 1;
  console.log(
    `\nQueue throughput (fake runner): ${o.runs} runs of ${o.runMs} ms, ${o.concurrency} runs per worker process\n`,
  );
  printTable(
    ['workers', 'runs', 'seconds', 'runs/minute', 'speed-up', 'ideal runs/minute'],
    rows.map((r) => [
      String(r.workers),
      String(r.runs),
      r.seconds.toFixed(1),
      r.runsPerMinute.toFixed(0),
      `${(r.runsPerMinute / base).toFixed(2)}x`,
      r.ideal.toFixed(0),
    ]),
  );
}
