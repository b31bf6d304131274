/**
 * The real tool as a fleet: 2 `serve --no-work` replicas and 3 `worker` processes share one Redis; 6 exports are
 * scheduled every minute against the simulators. Across a minute boundary, each (export, tick) runs exactly once,
 * no export runs twice at the same time, and with one PAT the site never has two runs at once.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deletePrefix, requireRedisUrl, uniquePrefix } from './fixtures/queue-harness.js';
import { runCli } from './helpers/cli.js';
import { createServiceGroup, pollFor, setStateDir, type ServiceGroup } from './helpers/service-process.js';
import { startSimEnv, type SimEnv } from './helpers/sim-env.js';

const redisUrl = requireRedisUrl();
const prefix = uniquePrefix('fleet-schedule');
const EXPORTS = ['e1', 'e2', 'e3', 'e4', 'e5', 'e6'];
let sim: SimEnv;
let services: ServiceGroup;
let redis: Redis;
let config: string;

interface Run {
  runId: string;
  exportId: string;
  status: string;
  startedAt: string;
  finishedAt?: string;
  trigger: { kind: string; scheduledFor?: string };
}

beforeAll(async () => {
  redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  sim = await startSimEnv({ rows: 100 });
  services = createServiceGroup({ ...sim.env, ADMIN_TOKEN: 'fleet-schedule-admin-token-0123' });
  const exportsYaml = EXPORTS.map(
    (id) => `  - id: ${id}
    schedule: "* * * * *"
    views: [{ workbook: Sales Pipeline, view: Rep Performance }]
    destination: { type: local, dir: ./out-${id} }
`,
  ).join('');
  config = await sim.writeConfig(exportsYaml, {
    name: 'fleet.yaml',
    extraTopLevel: `queue: { redis: "${redisUrl}", prefix: ${prefix}, concurrency: 2, siteConcurrency: 2 }`,
  });
  await setStateDir(config, './state-fleet');
  await Promise.all([
    services.serve(config, { extraArgs: ['--no-work'] }),
    services.serve(config, { extraArgs: ['--no-work'] }),
    services.worker(config),
    services.worker(config),
    services.worker(config),
  ]);
}, 90_000);

afterAll(async () => {
  await services?.killAll();
  await deletePrefix(redis, prefix);
  await redis.quit();
  await sim?.close();
});

async function history(): Promise<Run[]> {
  const res = await runCli(['history', '-n', '100', '--json', '--config', config], { env: sim.env });
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as Run[];
}

describe('a fleet of 2 serve + 3 workers on one schedule', () => {
  it('runs each scheduled tick of each export exactly once, never overlapping, within the site limit', async () => {
    // The first minute boundary after start, plus time for 6 short runs one after another (one PAT).
    const boundary = Math.ceil(Date.now() / 60_000) * 60_000;
    const runs = await pollFor('every export to have finished its tick', boundary - Date.now() + 60_000, async () => {
      if (Date.now() < boundary) return undefined;
      const all = (await history()).filter(
        (r) => r.trigger.kind === 'schedule' && Date.parse(r.trigger.scheduledFor ?? '') === boundary,
      );
      const done = all.filter((r) => r.status !== 'running');
      return EXPORTS.every((id) => done.some((r) => r.exportId === id)) ? done : undefined;
    });

    for (const id of EXPORTS) {
      const ofExport = runs.filter((r) => r.exportId === id);
      expect(ofExport, `export ${id}`).toHaveLength(1); // exactly once for the tick
      expect(ofExport[0]?.status).toBe('succeeded');
    }
    // Never two runs of the site at once: one PAT means one session at a time across the whole fleet.
    const spans = runs
      .map((r) => [Date.parse(r.startedAt), Date.parse(r.finishedAt ?? r.startedAt)] as const)
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1] - 5); // ms rounding of ISO times
    expect(sim.tableau.stats.maxConcurrentSessionsPerPat).toBe(1);
    // Up to a minute to the boundary, then the runs: longer than the suite's default 60 s timeout.
  }, 150_000);
});
