/**
 * Queue mode with the real pipeline, as deployed: one `serve --no-work` (job schedulers + admin API) and two
 * `worker` processes on a real Redis, exporting from the Tableau simulator to the Graph simulator.
 * - A worker killed (SIGKILL) in the middle of an upload session: after `lockDuration` the other worker takes the
 *   run as attempt 2 and delivers a complete workbook whose data equals a clean run's; the history keeps the
 *   interrupted attempt 1 and the retry.
 * - Two "Sync now" in a row: the second answers 409 while the first is queued or running.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deletePrefix, requireRedisUrl, uniquePrefix } from './fixtures/queue-harness.js';
import { startSimEnv, type SimEnv } from './helpers/sim-env.js';
import {
  createApiClient,
  createServiceGroup,
  pollFor,
  setStateDir,
  type ServiceGroup,
  type ServiceProcess,
} from './helpers/service-process.js';
import {
  fragmentedUploadExportYaml,
  getRun,
  leftovers,
  startRun,
  waitNotRunning,
  waitRunEndInList,
  type RunRecord,
} from './helpers/service-runs.js';

const redisUrl = requireRedisUrl();
const TOKEN = 'queue-pipeline-admin-token-0123456789';
const EXPORT_ID = 'queued-pipeline';
const DATA_SHEETS = ['Opportunities', 'Pipeline by Stage', 'Rep Performance'];

let sim: SimEnv;
let services: ServiceGroup;
let redis: Redis;
const prefix = uniquePrefix('real-pipeline');
let serve: ServiceProcess;
let workers: ServiceProcess[];

beforeAll(async () => {
  redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  // 2000 opportunities stored uncompressed: a ~1.7 MB workbook, uploaded in 6 fragments of 320 KiB.
  sim = await startSimEnv({ rows: 2000 });
  services = createServiceGroup({ ...sim.env, ADMIN_TOKEN: TOKEN });
  const config = await sim.writeConfig(fragmentedUploadExportYaml(EXPORT_ID, 'Reports/Queued Pipeline.xlsx'), {
    name: 'queue.yaml',
    extraTopLevel: `queue: { redis: "${redisUrl}", prefix: ${prefix}, concurrency: 1, lockDuration: 5s, stalledInterval: 2s }`,
  });
  // lockDuration 5 s: a killed worker's run is retried after ~5-7 s. Not 2 s: a run can block its worker's event loop
  // for ~0.7 s (measured on an idle machine), too close to a 1 s renewal period on a loaded 2-core CI machine.
  await setStateDir(config, './state-queue');
  [serve, ...workers] = await Promise.all([
    services.serve(config, { extraArgs: ['--no-work'] }),
    services.worker(config),
    services.worker(config),
  ]);
}, 60_000);

afterAll(async () => {
  await services?.killAll();
  if (redis !== undefined) {
    await deletePrefix(redis, prefix);
    await redis.quit();
  }
  await sim?.close();
  if (sim !== undefined) rmSync(sim.dir, { recursive: true, force: true });
});

const toArrayBuffer = (b: Buffer): ArrayBuffer =>
  b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/** Cell values of every data sheet (the About and metric sheets legitimately differ between runs). */
async function dataSheetValues(file: Buffer | undefined): Promise<Record<string, unknown[][]>> {
  if (file === undefined) throw new Error('no file in the simulated OneDrive');
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(toArrayBuffer(file));
  const out: Record<string, unknown[][]> = {};
  for (const name of DATA_SHEETS) {
    const ws = wb.getWorksheet(name);
    if (ws === undefined)
      throw new Error(`sheet '${name}' missing; sheets: ${wb.worksheets.map((w) => w.name).join(', ')}`);
    const rows: unknown[][] = [];
    ws.eachRow({ includeEmpty: true }, (row) => {
      rows.push(Array.isArray(row.values) ? row.values.slice(1) : []);
    });
    out[name] = rows;
  }
  return out;
}

/** Warnings, errors and run starts/ends of every process, for failure messages. */
function fleetLog(): string {
  return [serve, ...workers]
    .map((p) => {
      const lines = p
        .logs()
        .filter(
          (l) =>
            l.level === 'warn' ||
            l.level === 'error' ||
            (typeof l.msg === 'string' && /^(queue worker: run|run (started|finished|failed))/.test(l.msg)),
        );
      return `--- pid ${p.pid}${p.hasExited() ? ' (exited)' : ''}:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`;
    })
    .join('\n');
}

/** The worker whose log says it started `runId` (attempt `attempt`). */
function workerThatStarted(runId: string, attempt: number): ServiceProcess | undefined {
  return workers.find((w) =>
    w.logs().some((l) => l.msg === 'queue worker: run started' && l['runId'] === runId && l['attempt'] === attempt),
  );
}

describe('queue mode with the real pipeline (serve --no-work + 2 workers)', () => {
  let clean: RunRecord;
  let retried: { first: string; second: string } | undefined;

  it('runs a manual sync on a worker and delivers the workbook', async () => {
    const api = createApiClient(() => serve.baseUrl, TOKEN);
    clean = await waitRunEndInList(api, EXPORT_ID, await startRun(api, EXPORT_ID), 30_000);
    expect(clean.status, `${JSON.stringify(clean.error)}\n${fleetLog()}`).toBe('succeeded');
    expect(clean).toMatchObject({ attempt: 1, trigger: { kind: 'manual', by: 'admin' } });
    expect(workerThatStarted(clean.runId, 1)).toBeDefined();
    expect(serve.logs().some((l) => l.msg === 'queue worker: run started')).toBe(false);
  }, 40_000);

  it('a worker killed mid-upload: the other worker completes the run as attempt 2 with the same data', async () => {
    const api = createApiClient(() => serve.baseUrl, TOKEN);
    const location = clean.destination?.location ?? '';
    const cleanFile = await sim.graph.readFile(location);
    const cleanData = await dataSheetValues(cleanFile);
    const versions = sim.graph.itemInfo(location)?.versions ?? 0;

    // Fragment 2 of the upload is throttled three times with Retry-After: 2, so the upload hangs for ~6 s.
    const fragmentsBefore = sim.graph.stats.fragmentsAccepted;
    const sessionsBefore = sim.graph.openUploadSessions();
    sim.graph.faults.throttle({ ops: ['uploadFragment'], status: 429, retryAfter: '2', skip: 1, times: 3 });
    const runId = await startRun(api, EXPORT_ID);
    await pollFor('the run to be in the middle of its upload', 20_000, () =>
      sim.graph.stats.fragmentsAccepted > fragmentsBefore && sim.graph.openUploadSessions() > sessionsBefore
        ? true
        : undefined,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${fleetLog()}`);
    });
    const victim = workerThatStarted(runId, 1);
    if (victim === undefined) throw new Error(`no worker logged the start of ${runId}`);
    const survivor = workers.find((w) => w !== victim);
    victim.signal('SIGKILL');
    expect(await victim.exited).toMatchObject({ signal: 'SIGKILL' });
    sim.graph.faults.clear();
    // The partial upload session never replaced the file.
    expect((await sim.graph.readFile(location))?.equals(cleanFile ?? Buffer.alloc(0))).toBe(true);

    // The lock expires (5 s), the survivor's stalled check (every 2 s) puts the job back, and it runs attempt 2.
    const retry = await waitRunEndInList(api, EXPORT_ID, `${runId}#2`, 40_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${fleetLog()}`);
    });
    expect(retry).toMatchObject({
      status: 'succeeded',
      attempt: 2,
      trigger: { kind: 'manual', by: 'admin' },
      destination: { location },
    });
    expect(workerThatStarted(`${runId}#2`, 2)).toBe(survivor);

    // Complete (a new version, exactly the reported size) and the same data as the clean run.
    expect(sim.graph.itemInfo(location)?.versions).toBe(versions + 1);
    const delivered = await sim.graph.readFile(location);
    expect(delivered?.length).toBe(retry.bytes);
    expect(await dataSheetValues(delivered)).toEqual(cleanData);
    // The killed worker's temp folder (its spooled workbook) is gone too: the survivor's run swept it.
    expect(await leftovers(join(sim.dir, 'state-queue', 'tmp'))).toEqual([]);

    // The history keeps the interrupted attempt and the retry.
    const history = (await api.get(`/api/exports/${EXPORT_ID}/runs`)).body as { runs: RunRecord[] };
    expect(history.runs.map((r) => [r.runId, r.attempt, r.status])).toEqual([
      [`${runId}#2`, 2, 'succeeded'],
      [runId, 1, 'failed'],
      [clean.runId, 1, 'succeeded'],
    ]);
    expect(history.runs[1]).toMatchObject({ error: { code: 'INTERRUPTED' } });
    expect(history.runs[1]?.error?.message).toMatch(/interrupted.*attempt 2/);
    retried = { first: runId, second: `${runId}#2` };
  }, 60_000);

  it('GET /api/runs/:id serves queue-mode run ids (job ids with @, attempts with #), as the dashboard follows runs with it', async () => {
    const api = createApiClient(() => serve.baseUrl, TOKEN);
    if (retried === undefined) throw new Error('the crash test did not get as far as the retry');
    expect(await getRun(api, clean.runId)).toMatchObject({ runId: clean.runId, status: 'succeeded', attempt: 1 });
    expect(await getRun(api, retried.first)).toMatchObject({
      status: 'failed',
      attempt: 1,
      error: { code: 'INTERRUPTED' },
    });
    expect(await getRun(api, retried.second)).toMatchObject({ status: 'succeeded', attempt: 2 });
  });

  it('a second "Sync now" while the first is queued or running answers 409', async () => {
    const api = createApiClient(() => serve.baseUrl, TOKEN);
    // The previous run is recorded as finished a moment before its job completes in the queue; until then the
    // export still counts as running (and a click answers 409), as GET /api/exports says.
    await waitNotRunning(api, EXPORT_ID);
    const runId = await startRun(api, EXPORT_ID);
    const second = await api.post(`/api/exports/${EXPORT_ID}/run`);
    expect(second.status, JSON.stringify(second.body)).toBe(409);
    expect(second.body).toMatchObject({ error: { code: 'RUN_IN_PROGRESS', runId } });
    const first = await waitRunEndInList(api, EXPORT_ID, runId, 30_000);
    expect(first.status, `${JSON.stringify(first.error)}\n${fleetLog()}`).toBe('succeeded');
    // Once it ended, "Sync now" works again.
    await waitNotRunning(api, EXPORT_ID);
    const again = await startRun(api, EXPORT_ID);
    const next = await waitRunEndInList(api, EXPORT_ID, again, 30_000);
    expect(next.status, `${JSON.stringify(next.error)}\n${fleetLog()}`).toBe('succeeded');
  }, 60_000);
});
