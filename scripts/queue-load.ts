/**
 * Queue-mode scale-out measurement (issue 7): throughput (runs/minute) with 1, 2 and 4 worker processes, so scale-out
 * is measured rather than assumed. Starts its own Redis (scripts/ensure-redis.sh) and stops it at the end; every child
 * process and temp folder is removed at the end, on Ctrl-C and on failure.
 *
 *   npx tsx scripts/queue-load.ts [--real] [--exports 16] [--rounds 3] [--view-latency-ms 1000] [--concurrency 2] [--workers 1,2,4] [--limiter-site-concurrency 2]
 *     The real tool (serve --no-work + N `worker` CLI processes) against the Tableau and Graph simulators; runs are
 *     triggered through the admin API; the Tableau simulator takes --view-latency-ms per view (0 = answers at once,
 *     runs become CPU-bound). See queue-load-real.ts. --limiter-site-concurrency 0 drops the limiter line.
 *   npx tsx scripts/queue-load.ts --fake [--runs 48] [--run-ms 500] [--concurrency 2] [--workers 1,2,4]
 *     The queue alone with a fake runner of fixed duration. See queue-load-fake.ts.
 */
import { parseArgs } from 'node:util';
import { createCleanup, startPrivateRedis } from './queue-load-kit.js';
import { runFakeLoad } from './queue-load-fake.js';
import { runRealLoad } from './queue-load-real.js';

const { values } = parseArgs({
  options: {
    fake: { type: 'boolean', default: false },
    real: { type: 'boolean', default: false },
    workers: { type: 'string', default: '1,2,4' },
    concurrency: { type: 'string', default: '2' },
    exports: { type: 'string', default: '16' },
    'view-latency-ms': { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    'limiter-site-concurrency': { type: 'string', default: '2' },
    runs: { type: 'string', default: '48' },
    'run-ms': { type: 'string', default: '500' },
  },
});

function positiveInt(name: string, text: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got "${text}"`);
  return n;
}

if (values.fake && values.real) throw new Error('choose one of --fake and --real (the default is --real)');
const workerCounts = values.workers.split(',').map((w) => positiveInt('workers', w.trim()));
const concurrency = positiveInt('concurrency', values.concurrency);

const cleanup = createCleanup();
try {
  const redisUrl = await startPrivateRedis(cleanup);
  if (values.fake) {
    await runFakeLoad({
      redisUrl,
      workerCounts,
      concurrency,
      runs: positiveInt('runs', values.runs),
      runMs: positiveInt('run-ms', values['run-ms']),
      cleanup,
    });
  } else {
    const limiter = positiveInt('limiter-site-concurrency', values['limiter-site-concurrency'], 0);
    await runRealLoad({
      redisUrl,
      workerCounts,
      concurrency,
      exports: positiveInt('exports', values.exports),
      rounds: positiveInt('rounds', values.rounds),
      viewLatencyMs: positiveInt('view-latency-ms', values['view-latency-ms'], 0),
      limiterSiteConcurrency: limiter === 0 ? undefined : limiter,
      cleanup,
    });
  }
} catch (err) {
  const sig = cleanup.interruptedBy();
  if (sig !== undefined) console.error(`queue-load: interrupted by ${sig}; no measurement`);
  else console.error(`queue-load failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup.runAll();
}
