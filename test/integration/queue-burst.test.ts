/**
 * A burst in queue mode: a worker process runs the parts; one part's upload fails while the others are delivered,
 * then `run --failed` (enqueued for the fleet with the failed run's id) re-runs only that part.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deletePrefix, requireRedisUrl, uniquePrefix } from './fixtures/queue-harness.js';
import { runCli } from './helpers/cli.js';
import { createServiceGroup, setStateDir, type ServiceGroup } from './helpers/service-process.js';
import { SIM_USER, startSimEnv, type SimEnv } from './helpers/sim-env.js';

const redisUrl = requireRedisUrl();
const prefix = uniquePrefix('burst');
let sim: SimEnv;
let services: ServiceGroup;
let redis: Redis;
let config: string;

interface Report {
  runId: string;
  status: string;
  parts?: { value: string; status: string; keptFrom?: string }[];
}

beforeAll(async () => {
  redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  sim = await startSimEnv({ rows: 300 });
  services = createServiceGroup({ ...sim.env });
  config = await sim.writeConfig(
    `  - id: fleet-regions
    views: [{ workbook: Sales Pipeline, view: Opportunities }]
    burst: { by: Region, values: [EMEA, NA, APAC], into: files }
    destination:
      type: onedrive
      drive: { user: ${SIM_USER} }
      path: "Fleet/{Region}.xlsx"
`,
    { name: 'queue.yaml', extraTopLevel: `queue: { redis: "${redisUrl}", prefix: ${prefix}, concurrency: 1 }` },
  );
  await setStateDir(config, './state-burst');
  await services.worker(config);
}, 60_000);

afterAll(async () => {
  await services?.killAll();
  await deletePrefix(redis, prefix);
  await redis.quit();
  await sim?.close();
});

describe('burst in queue mode', () => {
  it('records every part, and run --failed re-runs only the failed one on the fleet', async () => {
    sim.graph.faults.add({
      ops: ['content', 'createUploadSession'],
      path: 'Fleet/NA.xlsx',
      status: 403,
      codes: ['accessDenied'],
      times: 50,
    });
    const first = await runCli(['run', 'fleet-regions', '--config', config, '--json'], { env: sim.env });
    expect(first.code, first.stderr).toBe(1);
    const failed = JSON.parse(first.stdout) as Report;
    expect(failed.parts?.map((p) => [p.value, p.status])).toEqual([
      ['EMEA', 'succeeded'],
      ['NA', 'failed'],
      ['APAC', 'succeeded'],
    ]);
    sim.graph.faults.clear();

    const retry = await runCli(['run', '--failed', '--config', config, '--json'], { env: sim.env });
    expect(retry.code, retry.stderr).toBe(0);
    const report = JSON.parse(retry.stdout.trim().split('\n').at(-1) ?? '{}') as Report;
    expect(report.status).toBe('succeeded');
    expect(report.parts?.map((p) => [p.value, p.status, p.keptFrom])).toEqual([
      ['EMEA', 'succeeded', failed.runId],
      ['NA', 'succeeded', undefined],
      ['APAC', 'succeeded', failed.runId],
    ]);
    for (const region of ['EMEA', 'NA', 'APAC']) expect(sim.graph.itemInfo(`Fleet/${region}.xlsx`)?.versions).toBe(1);
  });
});
