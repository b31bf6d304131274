/**
 * `npm run soak`: a month of nights in minutes, to show the service holds up over time and not only on one run.
 *
 * The real `serve --no-work` and two `worker` processes (CLI child processes, queue mode) on a private Redis export
 * N exports (default 20) from the Tableau simulator to the Graph simulator, night after night (default 30), until the
 * nights are done or the wall-clock bound passes (default 10 minutes). A night is every export's "Sync now" through
 * the admin API: schedules are minute-granular cron patterns, and a night must start only once the previous one
 * ended and its data and faults are in place, which a cron tick cannot wait for (see the README, Reliability).
 * The Tableau data changes on some nights (a new seed of the simulated pipeline) and stays the same on others; the
 * simulators' faults are injected at random from a fixed seed, plus a worker kill -9 (respawned) and a Redis restart
 * now and then. At the end it checks runs, failures by cause, retries, RSS and fds per process, the history's size,
 * temp files left behind, versions per file, and every run's final state; prints the tables and writes
 * bench-results/soak-latest.json. Exits 1 when a verdict fails.
 *
 *   npm run soak -- [--minutes 10] [--nights 30] [--exports 20] [--seed 20261202] [--rows 1000] [--warmup-nights 2]
 *                   [--night-timeout-s 240] [--out bench-results]
 *   (or SOAK_MINUTES, SOAK_NIGHTS, SOAK_EXPORTS, SOAK_SEED)
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startSimEnv } from '../test/integration/helpers/sim-env.js';
import { createApiClient, type ServiceProcess } from '../test/integration/helpers/service-process.js';
import { createCleanup, printTable } from './queue-load-kit.js';
import { drawPlan } from './soak-plan.js';
import { soakExports, startSoakFleet, startSoakRedis, writeSoakConfig, type SoakFleet } from './soak-fleet.js';
import { runNight, waitForRuns, endedRecord, type NightResult } from './soak-nights.js';
import { leftoverEntries, measureRedis, measureSqlite, sampleProcess, type ProcSample } from './soak-measure.js';
import { checkVersions, finalStateProblems, soakVerdicts, tallyRuns, type Verdict } from './soak-verdicts.js';
import { fleetQuiet, logFindings } from './soak-report.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

function numberOption(name: string, text: string | undefined, env: string, fallback: number): number {
  const raw = text ?? process.env[env];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} (or ${env}) must be a positive number, got "${raw}"`);
  return n;
}

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    nights: { type: 'string' },
    exports: { type: 'string' },
    seed: { type: 'string' },
    rows: { type: 'string' },
    'warmup-nights': { type: 'string' },
    'night-timeout-s': { type: 'string' },
    out: { type: 'string' },
  },
});
const options = {
  minutes: numberOption('minutes', values.minutes, 'SOAK_MINUTES', 10),
  nights: Math.floor(numberOption('nights', values.nights, 'SOAK_NIGHTS', 30)),
  exports: Math.floor(numberOption('exports', values.exports, 'SOAK_EXPORTS', 20)),
  seed: Math.floor(numberOption('seed', values.seed, 'SOAK_SEED', 20261202)),
  rows: Math.floor(numberOption('rows', values.rows, 'SOAK_ROWS', 1000)),
  warmupNights: Math.floor(numberOption('warmup-nights', values['warmup-nights'], 'SOAK_WARMUP_NIGHTS', 2)),
  nightTimeoutS: numberOption('night-timeout-s', values['night-timeout-s'], 'SOAK_NIGHT_TIMEOUT_S', 240),
  /** Folder of soak-latest.json and soak-logs/ (the smoke test writes elsewhere than a real soak's results). */
  out: resolve(values.out ?? join(ROOT, 'bench-results')),
};

const log = (text: string): void => console.error(`soak: ${text}`);

interface Samples {
  readonly serve: ProcSample[];
  readonly worker1: ProcSample[];
  readonly worker2: ProcSample[];
}

function sampleFleet(fleet: SoakFleet, samples: Samples): void {
  const push = (list: ProcSample[], pid: number): void => {
    const s = sampleProcess(pid);
    if (s !== undefined) list.push(s);
  };
  push(samples.serve, fleet.serve.pid);
  push(samples.worker1, fleet.worker(0).pid);
  push(samples.worker2, fleet.worker(1).pid);
}

const cleanup = createCleanup();
try {
  process.exitCode = await soak();
} catch (err) {
  const sig = cleanup.interruptedBy();
  log(
    sig !== undefined
      ? `interrupted by ${sig}`
      : `failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
  process.exitCode = 1;
} finally {
  await cleanup.runAll();
}

async function soak(): Promise<number> {
  const started = Date.now();
  const deadline = started + options.minutes * 60_000;
  const sim = await startSimEnv({ rows: options.rows });
  cleanup.step('close the simulators and remove their folder', () => sim.close());
  const prefix = `soak-${randomBytes(4).toString('hex')}`;
  const stateDir = join(sim.dir, 'state');
  // The fleet's own os.tmpdir(), so anything left there is the fleet's and not another program's on the machine.
  const fleetTmp = join(sim.dir, 'fleet-tmp');
  await mkdir(fleetTmp, { recursive: true });
  const redis = await startSoakRedis(join(sim.dir, 'redis'), cleanup);
  const exports = soakExports(options.exports);
  const plan = drawPlan({ seed: options.seed, nights: options.nights, exportPaths: exports.map((e) => e.path) });
  const config = await writeSoakConfig(sim, { dir: sim.dir, stateDir, prefix, exports });
  const token = randomBytes(24).toString('hex');
  log(`${options.exports} exports, up to ${options.nights} nights or ${options.minutes} min, seed ${options.seed}`);
  const fleet = await startSoakFleet(config, { REDIS_URL: redis.url, ADMIN_TOKEN: token, TMPDIR: fleetTmp }, cleanup);
  const api = createApiClient(() => fleet.baseUrl, token);
  const samples: Samples = { serve: [], worker1: [], worker2: [] };
  sampleFleet(fleet, samples);
  const nights: NightResult[] = [];
  let warm: Record<'serve' | 'worker1' | 'worker2', ProcSample | undefined> = {
    serve: undefined,
    worker1: undefined,
    worker2: undefined,
  };
  for (const night of plan) {
    if (Date.now() > deadline) break;
    const result = await runNight(night, {
      sim,
      api,
      fleet,
      redis,
      exportIds: exports.map((e) => e.id),
      baseDataSeed: options.seed,
      nightTimeoutMs: options.nightTimeoutS * 1000,
      log,
    });
    nights.push(result);
    sampleFleet(fleet, samples);
    if (night.night === options.warmupNights)
      warm = { serve: samples.serve.at(-1), worker1: samples.worker1.at(-1), worker2: undefined };
    const t = tallyRuns(result.runs);
    log(
      `night ${night.night}: ${result.runs.length} runs in ${result.seconds.toFixed(1)} s ${JSON.stringify(t.byStatus)}; data ${night.dataChanged ? 'changed' : 'same'}; faults: ${result.faults.join('; ') || 'none'}`,
    );
  }
  // Fewer nights than the warm-up: the first sample after the first night is the start.
  warm = {
    serve: warm.serve ?? samples.serve[1] ?? samples.serve[0],
    worker1: warm.worker1 ?? samples.worker1[1] ?? samples.worker1[0],
    worker2: undefined,
  };
  const allRuns = nights.flatMap((n) => n.runs);
  log(`quiescing: waiting for ${allRuns.filter((r) => r.record === undefined).length} unfinished run(s)`);
  await waitForRuns(api, allRuns, Date.now() + options.nightTimeoutS * 1000);
  const quiet = await fleetQuiet(
    api,
    exports.map((e) => e.id),
    Date.now() + 60_000,
  );
  // The final state, read again now that everything is quiet.
  for (const r of allRuns) r.record = await endedRecord(api, r.runId);
  sampleFleet(fleet, samples);
  const end = { serve: samples.serve.at(-1), worker1: samples.worker1.at(-1), worker2: samples.worker2.at(-1) };
  // Worker 2 is the one killed now and then: its start is the first sample of the process alive at the end.
  warm.worker2 = samples.worker2.find((s) => s.pid === end.worker2?.pid);
  const redisClient = new Redis(redis.url, { maxRetriesPerRequest: 3 });
  const history = await measureRedis(redisClient, prefix);
  await redisClient.quit();
  const sqlite = measureSqlite(stateDir);
  const tmpWhileUp = leftoverEntries(join(stateDir, 'tmp'));
  const logs = logFindings([fleet.serve, ...fleet.allWorkers()]);
  log('stopping the fleet (SIGTERM)');
  await fleet.stop();
  await saveLogs([fleet.serve, ...fleet.allWorkers()]);
  const leftovers = {
    stateDirTmp: leftoverEntries(join(stateDir, 'tmp')),
    // tsx (the TypeScript loader the CLI runs under here, not the product) keeps its compile cache in os.tmpdir().
    osTmp: leftoverEntries(fleetTmp).filter((p) => !/^tsx-\d+(\/|$)/.test(p)),
  };

  const tally = tallyRuns(allRuns);
  // A run the admin API showed as ended, then as something else: e.g. failed (attempt 1 interrupted) before its retry.
  const flips = allRuns
    .filter((r) => r.firstEnded !== undefined && r.record !== undefined && r.firstEnded.status !== r.record.status)
    .map(
      (r) =>
        `night ${r.night} ${r.runId}: read ${r.firstEnded?.status}/${r.firstEnded?.attempt ?? 1} ${r.firstEnded?.error?.code ?? ''}, finally ${r.record?.status}/${r.record?.attempt ?? 1}`,
    );
  const files = (location: string): boolean => sim.graph.itemInfo(location.replace(/^[^/]+\//, '')) !== undefined;
  const finalProblems = [
    ...allRuns.flatMap((r) => finalStateProblems(r, files)),
    ...quiet.problems,
    ...nights.flatMap((n) => n.triggerFailures.map((f) => `night ${n.night}: ${f}`)),
    ...(history.recordedRunning > 0 ? [`${history.recordedRunning} run id(s) left in ${prefix}:runs:running`] : []),
    // A run nobody was given the id of (e.g. "Sync now" answered an error, yet queued it, and the caller retried).
    ...(history.runRecords !== allRuns.length
      ? [`${history.runRecords} run records in Redis for ${allRuns.length} runs started through the admin API`]
      : []),
  ];
  const versions = exports.map((e) => {
    const info = sim.graph.itemInfo(e.path);
    return checkVersions(
      e.id,
      allRuns.filter((r) => r.exportId === e.id),
      plan,
      info === undefined ? undefined : { versions: info.versions, size: info.size },
    );
  });
  const verdicts = soakVerdicts({
    warm,
    end,
    finalProblems,
    runCount: allRuns.length,
    versions,
    leftovers,
    nights: nights.length,
    plannedNights: options.nights,
    warmupNights: options.warmupNights,
  });
  const report = {
    date: new Date().toISOString(),
    options,
    wallSeconds: (Date.now() - started) / 1000,
    nights: nights.length,
    runs: allRuns.length,
    ...tally,
    flips,
    duplicatesAfterKill: versions.reduce((n, v) => n + v.duplicatesAfterKill, 0),
    requestRetries: logs.retries,
    triggerRetries: nights.reduce((s, n) => s + n.triggerRetries, 0),
    events: nights.flatMap((n) => n.events),
    faultsInjected: nights.reduce((s, n) => s + n.faults.length, 0),
    faultsUnused: nights.reduce((s, n) => s + n.faultsUnused, 0),
    processes: { start: warm, end, samples },
    history,
    sqlite,
    tmpWhileUp,
    leftovers,
    versions,
    errorLogLines: logs.errors,
    perNight: nights.map((n) => ({
      night: n.night,
      seconds: n.seconds,
      dataChanged: plan[n.night - 1]?.dataChanged,
      faults: n.faults,
      faultsUnused: n.faultsUnused,
      events: n.events.map((e) => e.detail),
      statuses: tallyRuns(n.runs).byStatus,
    })),
    verdicts,
  };
  await mkdir(options.out, { recursive: true });
  await writeFile(join(options.out, 'soak-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  printReport(report);
  return verdicts.every((v) => v.ok) ? 0 : 1;
}

/** Every process's log (JSON lines) under <out>/soak-logs/, for reading what happened after the fact. */
async function saveLogs(processes: readonly ServiceProcess[]): Promise<void> {
  const dir = join(options.out, 'soak-logs');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [i, p] of processes.entries()) {
    await writeFile(join(dir, `${i === 0 ? 'serve' : 'worker'}-${p.pid}.log`), p.stderr());
  }
}

function printReport(r: {
  nights: number;
  runs: number;
  wallSeconds: number;
  byStatus: Record<string, number>;
  failuresByCode: Record<string, number>;
  retriedAttemptsByCode: Record<string, number>;
  runsRetried: number;
  requestRetries: Record<string, number>;
  flips: readonly string[];
  duplicatesAfterKill: number;
  events: readonly { kind: string }[];
  faultsInjected: number;
  processes: { start: Record<string, ProcSample | undefined>; end: Record<string, ProcSample | undefined> };
  history: Awaited<ReturnType<typeof measureRedis>>;
  sqlite: ReturnType<typeof measureSqlite>;
  versions: ReturnType<typeof checkVersions>[];
  verdicts: Verdict[];
}): void {
  const mib = (s: ProcSample | undefined): string => (s === undefined ? '-' : (s.rssBytes / 1048576).toFixed(1));
  const kinds = (k: string): number => r.events.filter((e) => e.kind === k).length;
  console.log(
    `\nSoak: ${r.nights} nights, ${r.runs} runs in ${(r.wallSeconds / 60).toFixed(1)} min; ${r.faultsInjected} faults injected, ${kinds('worker-kill')} worker kill -9, ${kinds('redis-restart')} Redis restart(s)\n`,
  );
  const fmt = (m: Record<string, number>): string =>
    Object.entries(m)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  printTable(
    ['what', 'count'],
    [
      ['runs by final status', fmt(r.byStatus)],
      ['failed runs by cause', fmt(r.failuresByCode)],
      ['runs retried by the queue (attempt ≥ 2)', String(r.runsRetried)],
      ['retried attempts by cause', fmt(r.retriedAttemptsByCode)],
      ['request retries (Tableau / OneDrive)', fmt(r.requestRetries)],
    ],
  );
  console.log('');
  printTable(
    ['process', 'RSS start MiB', 'RSS end MiB', 'fds start', 'fds end'],
    Object.keys(r.processes.end).map((k) => [
      k,
      mib(r.processes.start[k]),
      mib(r.processes.end[k]),
      String(r.processes.start[k]?.openFds ?? '-'),
      String(r.processes.end[k]?.openFds ?? '-'),
    ]),
  );
  console.log('');
  printTable(
    ['history', 'size'],
    [
      ['Redis keys (prefix)', String(r.history.keys)],
      ['Redis bytes (MEMORY USAGE sum)', String(r.history.bytes)],
      ['Redis run records / index', `${r.history.runRecords} / ${r.history.runIndex}`],
      ['SQLite files (bytes)', fmt(r.sqlite.files)],
      ['SQLite rows', fmt(r.sqlite.rows)],
    ],
  );
  console.log('');
  printTable(
    ['export', 'versions', 'expected', 'delivered', 'unchanged', 'duplicates after kill'],
    r.versions.map((v) => [
      v.exportId,
      String(v.versions),
      String(v.expected),
      String(v.deliveries),
      String(v.unchanged),
      String(v.duplicatesAfterKill),
    ]),
  );
  console.log('');
  printTable(
    ['verdict', 'ok', 'detail'],
    r.verdicts.map((v) => [v.name, v.ok ? 'yes' : 'NO', v.detail.replace(/\n/g, '<br>')]),
  );
}
