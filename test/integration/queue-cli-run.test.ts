/**
 * `run` and `history` in queue mode: the CLI enqueues the run for the fleet (a worker process runs it) and follows it
 * in the shared Redis history; a second `run` while one is queued or running is refused clearly.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deletePrefix, requireRedisUrl, uniquePrefix } from './fixtures/queue-harness.js';
import { runCli } from './helpers/cli.js';
import { createServiceGroup, setStateDir, type ServiceGroup } from './helpers/service-process.js';
import { sampleExportYaml, startSimEnv, type SimEnv } from './helpers/sim-env.js';

const redisUrl = requireRedisUrl();
const prefix = uniquePrefix('cli-run');
let sim: SimEnv;
let services: ServiceGroup;
let redis: Redis;
let config: string;

beforeAll(async () => {
  redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  sim = await startSimEnv({ rows: 300 });
  services = createServiceGroup({ ...sim.env });
  config = await sim.writeConfig(sampleExportYaml({ id: 'fleet' }), {
    name: 'queue.yaml',
    extraTopLevel: `queue: { redis: "${redisUrl}", prefix: ${prefix}, concurrency: 1 }`,
  });
  await setStateDir(config, './state-cli');
  await services.worker(config);
}, 60_000);

afterAll(async () => {
  await services?.killAll();
  await deletePrefix(redis, prefix);
  await redis.quit();
  await sim?.close();
});

describe('run in queue mode', () => {
  it('enqueues the run for the fleet, waits for it, and history reads the shared Redis history', async () => {
    const res = await runCli(['run', 'fleet', '--config', config, '--json'], { env: sim.env });
    expect(res.code, res.stderr + res.stdout).toBe(0);
    const report = JSON.parse(res.stdout) as { runId: string; status: string; trigger: { kind: string; by: string } };
    expect(report.status).toBe('succeeded');
    expect(report.trigger).toMatchObject({ kind: 'manual', by: expect.stringMatching(/^cli \(/) });
    expect(res.stderr).toMatch(/queued fleet as run/);

    const history = await runCli(['history', 'fleet', '--json', '--config', config], { env: sim.env });
    const runs = JSON.parse(history.stdout) as { runId: string }[];
    expect(runs.map((r) => r.runId)).toContain(report.runId);
  });

  it('refuses a second run while one is queued or running, naming the run', async () => {
    sim.tableau.faults.next({ kind: 'slow-body', delayMs: 6000 }); // keeps the first run busy
    const first = runCli(['run', 'fleet', '--config', config], { env: sim.env });
    await new Promise((r) => setTimeout(r, 3000));
    const second = await runCli(['run', 'fleet', '--config', config], { env: sim.env });
    // As a second local run meets the export lock: exit 1, EXPORT_ALREADY_RUNNING, naming the run.
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/EXPORT_ALREADY_RUNNING.*already queued or running \(run fleet@manual-/);
    expect((await first).code).toBe(0);
  });
});
