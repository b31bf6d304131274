/**
 * `queue-load.ts` (default, or `--real`): the real tool in queue mode against the Tableau and Graph simulators.
 *
 * The simulators run in this process; Redis is a private redis-server; `serve --no-work` (admin API) and N
 * `worker` processes are real CLI child processes reading one config, with credentials in env vars as in production.
 * Every export is triggered `rounds` times through the admin API (`POST /api/exports/:id/run`; an export has at most
 * one queued or running run, so each export's next round is posted once its previous run ended) and the wall time
 * runs from the first POST until every run is recorded as finished. Runs/minute, failures, the largest number of runs
 * that overlapped (from the recorded start and end times) and CPU use come from the run history and /proc.
 *
 * Tableau auth is a connected app: with a PAT the fleet runs one export at a time whatever the worker count (one
 * session per PAT), which would measure the PAT, not the workers. `queue.siteConcurrency` is 20 (Tableau Cloud's
 * per-site maximum), above the fleet's slots, for the same reason; a last line repeats the largest fleet with
 * siteConcurrency 2 to show the limiter holds. `tableau.maxConcurrentExports` (view-data requests at once per
 * process) is set to the runs per process, so it does not cap a worker either (a run fetches its views one by one).
 *
 * The simulator answers at once, where real Tableau takes a second or more per view: `viewLatencyMs` adds that time
 * (the simulator's slow-body fault on every data request, a timer that uses no CPU). Without it runs are pure CPU
 * and the machine's cores, not the workers, set the ceiling.
 */
import { randomBytes } from 'node:crypto';
import { writeFile, mkdir } from 'node:fs/promises';
import { z } from 'zod';
import { startSimEnv, SIM_CLIENT, SIM_USER, type SimEnv } from '../test/integration/helpers/sim-env.js';
import {
  createApiClient,
  createServiceGroup,
  pollFor,
  type LogLine,
  type ServiceProcess,
} from '../test/integration/helpers/service-process.js';
import { busyShare, printTable, processCpuSeconds, sampleMachineCpu, type Cleanup } from './queue-load-kit.js';
import { maxConcurrent } from '../test/integration/fixtures/queue-harness.js';

export interface RealLoadOptions {
  readonly redisUrl: string;
  readonly workerCounts: readonly number[];
  readonly exports: number;
  readonly rounds: number;
  /** Runs per worker process (`queue.concurrency`). */
  readonly concurrency: number;
  /**
   * Time the Tableau simulator takes to produce each view's data (it otherwise answers at once, where real Tableau
   * spends a second or more computing a view); 0 = none, which makes runs CPU-bound.
   */
  readonly viewLatencyMs: number;
  /** siteConcurrency of the extra limiter line (with the largest worker count); undefined = no such line. */
  readonly limiterSiteConcurrency: number | undefined;
  readonly cleanup: Cleanup;
}

/** The simulator's default connected app and a user it knows (see src/simulators/tableau). */
const CONNECTED_APP = {
  clientId: 'sim-client-id',
  secretId: 'sim-secret-id',
  secretValue: 'sim-connected-app-secret-value',
  user: 'ops@example.com',
};
/** Tableau Cloud's per-site limit, and the schema's maximum: never the bottleneck of the scaling lines. */
const OPEN_SITE_CONCURRENCY = 20;
const PHASE_TIMEOUT_MS = 5 * 60_000;
const READY_TIMEOUT_MS = 120_000;

const exportsListSchema = z.object({ exports: z.array(z.object({ id: z.string(), running: z.boolean() })) });
const startedSchema = z.object({ runId: z.string() });
const runsListSchema = z.object({
  runs: z.array(
    z.object({
      runId: z.string(),
      status: z.string(),
      startedAt: z.string(),
      finishedAt: z.string().nullish(),
      attempt: z.number().optional(),
      bytes: z.number(),
      error: z.object({ code: z.string(), message: z.string() }).nullish(),
    }),
  ),
});

interface Phase {
  readonly label: string;
  readonly workers: number;
  readonly siteConcurrency: number;
}

interface PhaseResult extends Phase {
  readonly runs: number;
  readonly seconds: number;
  readonly failures: number;
  readonly maxParallel: number;
  /** CPU seconds of the worker processes per finished run. */
  readonly workerCpuPerRun: number;
  /** Share of the machine's CPU time that was busy during the phase (everything on the machine). */
  readonly machineBusy: number;
  readonly firstError: string | undefined;
}

const exportId = (i: number): string => `load-${String(i + 1).padStart(2, '0')}`;

function configYaml(sim: SimEnv, o: RealLoadOptions, phase: Phase, prefix: string, stateDir: string): string {
  const exportsYaml = Array.from(
    { length: o.exports },
    (_, i) => `  - id: ${exportId(i)}
    views:
      - { workbook: Sales Pipeline, view: Rep Performance }
      - { workbook: Sales Pipeline, view: Pipeline by Stage }
    destination: { type: onedrive, drive: { user: ${SIM_USER} }, path: Load/${exportId(i)}.xlsx, skipUnchanged: false }
`,
  ).join('');
  return `timezone: UTC
stateDir: ${stateDir}
tableau:
  serverUrl: ${sim.tableau.url}
  site: sales
  caFile: ${sim.tableau.caFile}
  maxConcurrentExports: ${Math.min(20, o.concurrency)}
  auth: { type: connected-app, clientIdEnv: TABLEAU_CA_CLIENT_ID, secretIdEnv: TABLEAU_CA_SECRET_ID, secretValueEnv: TABLEAU_CA_SECRET_VALUE, username: ${CONNECTED_APP.user} }
onedrive:
  tenantId: ${SIM_CLIENT.tenantId}
  clientId: ${SIM_CLIENT.clientId}
  clientSecretEnv: AZURE_CLIENT_SECRET
  authorityHost: ${sim.graph.authorityHost}
  graphBaseUrl: ${sim.graph.graphBaseUrl}
  caFile: ${sim.graph.caFile}
queue: { redisUrlEnv: REDIS_URL, prefix: ${prefix}, concurrency: ${o.concurrency}, siteConcurrency: ${phase.siteConcurrency} }
exports:
${exportsYaml}`;
}

async function runPhase(sim: SimEnv, o: RealLoadOptions, phase: Phase): Promise<PhaseResult> {
  const prefix = `load-${phase.label}-${randomBytes(4).toString('hex')}`;
  const stateDir = `${sim.dir}/state-${phase.label}`;
  await mkdir(stateDir, { recursive: true });
  const config = `${sim.dir}/load-${phase.label}.yaml`;
  await writeFile(config, configYaml(sim, o, phase, prefix, stateDir));
  const adminToken = randomBytes(24).toString('hex');
  const group = createServiceGroup({
    REDIS_URL: o.redisUrl,
    ADMIN_TOKEN: adminToken,
    AZURE_CLIENT_SECRET: SIM_CLIENT.secret,
    TABLEAU_CA_CLIENT_ID: CONNECTED_APP.clientId,
    TABLEAU_CA_SECRET_ID: CONNECTED_APP.secretId,
    TABLEAU_CA_SECRET_VALUE: CONNECTED_APP.secretValue,
  });
  const spawned: ServiceProcess[] = [];
  // Registered for cleanup as soon as spawned (not once ready), so a start that fails or hangs leaves nothing behind.
  const start = async (args: readonly string[], ready: (l: LogLine) => boolean): Promise<LogLine & { pid: number }> => {
    const p = await group.spawn(args);
    spawned.push(p);
    o.cleanup.child(p.pid, () => p.stop());
    return { ...(await p.waitForLog(`the ready line of ${args[0] ?? ''}`, ready, READY_TIMEOUT_MS)), pid: p.pid };
  };
  try {
    console.error(`queue-load: ${phase.label}: starting serve --no-work and ${phase.workers} worker(s)`);
    const [serve, ...workers] = await Promise.all([
      start(
        ['serve', '--config', config, '--port', '0', '--no-work'],
        (l) =>
          typeof l['url'] === 'string' && typeof l.msg === 'string' && l.msg.startsWith('admin server listening on'),
      ),
      ...Array.from({ length: phase.workers }, () =>
        start(['worker', '--config', config], (l) => l.msg === 'worker ready'),
      ),
    ]);
    const baseUrl = serve?.['url'];
    if (typeof baseUrl !== 'string') throw new Error('serve --no-work logged no admin URL');
    const api = createApiClient(() => baseUrl, adminToken);
    const ids = Array.from({ length: o.exports }, (_, i) => exportId(i));
    const posted = new Map(ids.map((id) => [id, 0]));
    const cpuBefore = workers.reduce((s, w) => s + processCpuSeconds(w.pid), 0);
    const machineBefore = sampleMachineCpu();
    const started = Date.now();

    // One loop over GET /api/exports: every export that is neither queued nor running and has rounds left gets its
    // next run. A 409 (the previous run had not quite released the export) is simply retried on the next pass.
    await pollFor(`${o.exports * o.rounds} runs of ${phase.label}`, PHASE_TIMEOUT_MS, async () => {
      const res = await api.get('/api/exports');
      if (res.status !== 200) throw new Error(`GET /api/exports answered ${res.status}: ${JSON.stringify(res.body)}`);
      const list = exportsListSchema.parse(res.body).exports;
      let busy = false;
      for (const e of list) {
        const n = posted.get(e.id) ?? o.rounds;
        if (e.running) busy = true;
        else if (n < o.rounds) {
          const post = await api.post(`/api/exports/${encodeURIComponent(e.id)}/run`);
          if (post.status === 202) {
            startedSchema.parse(post.body);
            posted.set(e.id, n + 1);
            busy = true;
          } else if (post.status !== 409) {
            throw new Error(`POST /api/exports/${e.id}/run answered ${post.status}: ${JSON.stringify(post.body)}`);
          }
        }
      }
      const allPosted = [...posted.values()].every((n) => n >= o.rounds);
      return allPosted && !busy ? true : undefined;
    });
    const seconds = (Date.now() - started) / 1000;
    const machineBusy = busyShare(machineBefore, sampleMachineCpu());
    const workerCpu = workers.reduce((s, w) => s + processCpuSeconds(w.pid), 0) - cpuBefore;

    const runs = (
      await Promise.all(
        ids.map(async (id) => {
          const res = await api.get(`/api/exports/${encodeURIComponent(id)}/runs?limit=500`);
          if (res.status !== 200)
            throw new Error(`GET /api/exports/${id}/runs answered ${res.status}: ${JSON.stringify(res.body)}`);
          return runsListSchema.parse(res.body).runs;
        }),
      )
    ).flat();
    const finished = runs.filter((r) => r.status !== 'running');
    const failed = finished.filter((r) => r.status !== 'succeeded' || r.bytes === 0);
    if (finished.length < o.exports * o.rounds) {
      throw new Error(
        `${phase.label}: ${finished.length} finished runs recorded, expected ${o.exports * o.rounds}; see the workers' logs`,
      );
    }
    const intervals = finished.map((r) => ({
      start: Date.parse(r.startedAt),
      end: Date.parse(r.finishedAt ?? r.startedAt),
    }));
    const firstFailure = failed[0];
    return {
      ...phase,
      runs: finished.length,
      seconds,
      failures: failed.length,
      maxParallel: maxConcurrent(intervals),
      workerCpuPerRun: workerCpu / Math.max(1, finished.length),
      machineBusy,
      firstError:
        firstFailure === undefined
          ? undefined
          : `${firstFailure.runId}: ${firstFailure.status} ${firstFailure.error?.code ?? ''} ${firstFailure.error?.message ?? ''}`,
    };
  } finally {
    // SIGTERM lets each worker close its Redis connections; killAll is the backstop for one that hangs.
    await Promise.all(spawned.map((p) => p.stop(10_000)));
    await group.killAll();
  }
}

/** Starts the simulators, measures every worker count (and the limiter line), prints the table. */
export async function runRealLoad(o: RealLoadOptions): Promise<void> {
  const sim = await startSimEnv();
  o.cleanup.step('close the simulators and remove their folder', () => sim.close());
  if (o.viewLatencyMs > 0)
    sim.tableau.faults.next({
      kind: 'slow-body',
      delayMs: o.viewLatencyMs,
      on: 'data',
      times: Number.MAX_SAFE_INTEGER,
    });
  const largest = Math.max(...o.workerCounts);
  const phases: Phase[] = [
    ...o.workerCounts.map((w) => ({ label: `w${w}`, workers: w, siteConcurrency: OPEN_SITE_CONCURRENCY })),
    ...(o.limiterSiteConcurrency === undefined
      ? []
      : [
          {
            label: `w${largest}-site${o.limiterSiteConcurrency}`,
            workers: largest,
            siteConcurrency: o.limiterSiteConcurrency,
          },
        ]),
  ];
  const results: PhaseResult[] = [];
  for (const phase of phases) {
    const r = await runPhase(sim, o, phase);
    console.error(
      `queue-load: ${phase.label}: ${r.runs} runs in ${r.seconds.toFixed(1)} s, ${r.failures} failed${r.firstError === undefined ? '' : ` (first: ${r.firstError})`}`,
    );
    results.push(r);
  }
  const base = results[0] === undefined ? 1 : results[0].runs / results[0].seconds;
  console.log(
    `\nQueue throughput, real tool against the simulators: ${o.exports} exports × ${o.rounds} rounds (2 small views each, ${o.viewLatencyMs} ms Tableau time per view, OneDrive upload every run), ` +
      `${o.concurrency} runs per worker process, connected-app auth, ${new Date().toISOString().slice(0, 10)}\n`,
  );
  printTable(
    [
      'workers',
      'siteConcurrency',
      'slots',
      'runs',
      'seconds',
      'runs/minute',
      'speed-up',
      'failures',
      'max parallel runs',
      'worker CPU s/run',
      'machine CPU busy',
    ],
    results.map((r) => [
      String(r.workers),
      String(r.siteConcurrency),
      String(Math.min(r.workers * o.concurrency, r.siteConcurrency)),
      String(r.runs),
      r.seconds.toFixed(1),
      ((r.runs / r.seconds) * 60).toFixed(0),
      `${(r.runs / r.seconds / base).toFixed(2)}x`,
      String(r.failures),
      String(r.maxParallel),
      r.workerCpuPerRun.toFixed(2),
      `${(r.machineBusy * 100).toFixed(0)}%`,
    ]),
  );
}
