/**
 * Queue mode with the real pipeline, as deployed: one `serve --no-work` (job schedulers + admin API) and two
 * `worker` processes on a real Redis, exporting from the Tableau simulator to the Graph simulator.
 * - A worker killed (SIGKILL) in the middle of an upload session: after `lockDuration` the other worker takes the
 *   run as attempt 2 and delivers a complete workbook whose data equals a clean run's. The run id "Sync now" gave out
 *   reads `succeeded` in the end (never `failed` on the way), and its detail lists attempt 1 interrupted on the
 *   killed worker and attempt 2 succeeded on the other; the history, `tableau-export history` and the webhook tell
 *   the same story under that one id.
 * - Two "Sync now" in a row: the second answers 409 while the first is queued or running.
 */
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { hostname } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deletePrefix, requireRedisUrl, uniquePrefix } from './fixtures/queue-harness.js';
import { runCli } from './helpers/cli.js';
import { sampleExportYaml, startSimEnv, type SimEnv } from './helpers/sim-env.js';
import { createSimulatorTls } from '../../src/simulators/tls.js';
import {
  createApiClient,
  createServiceGroup,
  pollFor,
  setStateDir,
  type ServiceGroup,
  type ServiceProcess,
} from './helpers/service-process.js';
import {
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
let config: string;
/** The messages the workers posted to the (local) webhook. */
const posted: string[] = [];
let webhook: Server;

beforeAll(async () => {
  redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  // 2000 opportunities stored uncompressed: a ~1.7 MB workbook, uploaded in 6 fragments of 320 KiB.
  sim = await startSimEnv({ rows: 2000 });
  // Webhooks are https only; this one is on loopback, so the export allows a private target and trusts its CA.
  const hookTls = await createSimulatorTls(join(sim.dir, 'hook-tls'));
  webhook = createServer({ key: hookTls.key, cert: hookTls.cert }, (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      posted.push((JSON.parse(body) as { text: string }).text);
      res.writeHead(200).end('1');
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  const port = (webhook.address() as { port: number }).port;
  services = createServiceGroup({
    ...sim.env,
    ADMIN_TOKEN: TOKEN,
    QUEUE_TEST_WEBHOOK: `https://127.0.0.1:${port}/hook`,
  });
  const exportYaml = sampleExportYaml({
    id: EXPORT_ID,
    path: 'Reports/Queued Pipeline.xlsx',
    extra: [
      '      skipUnchanged: false',
      '      uploadSessionThreshold: 327680',
      '      chunkSize: 327680',
      '    zipLevel: 0',
      `    notify: { webhookUrlEnv: QUEUE_TEST_WEBHOOK, allowPrivate: true, caFile: ${hookTls.caFile} }`,
      '',
    ].join('\n'),
  });
  config = await sim.writeConfig(exportYaml, {
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
  await new Promise((resolve) => webhook?.close(resolve));
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

/** Live progress as GET /api/exports shows it. */
interface LiveProgress {
  readonly runId: string;
  readonly stage: string;
  readonly bytesSent?: number;
  readonly bytesTotal?: number;
  readonly attempt?: number;
  readonly worker?: string;
  readonly stalled: boolean;
}

/** The name a worker process records on the attempts it runs. */
function workerName(p: ServiceProcess | undefined): string {
  return `${hostname()}:${p?.pid ?? '?'}`;
}

/** The worker whose log says it started `runId` (attempt `attempt`). */
function workerThatStarted(runId: string, attempt: number): ServiceProcess | undefined {
  return workers.find((w) =>
    w.logs().some((l) => l.msg === 'queue worker: run started' && l['runId'] === runId && l['attempt'] === attempt),
  );
}

let clean: RunRecord;
let failedRunId: string;
let retried: string | undefined;

describe('queue mode with the real pipeline (serve --no-work + 2 workers)', () => {
  it('runs a manual sync on a worker and delivers the workbook', async () => {
    const api = createApiClient(() => serve.baseUrl, TOKEN);
    clean = await waitRunEndInList(api, EXPORT_ID, await startRun(api, EXPORT_ID), 30_000);
    expect(clean.status, `${JSON.stringify(clean.error)}\n${fleetLog()}`).toBe('succeeded');
    expect(clean).toMatchObject({ attempt: 1, trigger: { kind: 'manual', by: 'admin' } });
    const ranOn = workerThatStarted(clean.runId, 1);
    expect(ranOn).toBeDefined();
    expect(clean).toMatchObject({ worker: workerName(ranOn) });
    expect(serve.logs().some((l) => l.msg === 'queue worker: run started')).toBe(false);
    // "admin server listening" is logged once per serve process.
    expect(serve.logs().filter((l) => l.msg?.startsWith('admin server listening')).length).toBe(1);
  }, 40_000);

  it('a failed run: the webhook says so and what teammates still have', async () => {
    const api = createApiClient(() => serve.baseUrl, TOKEN);
    await waitNotRunning(api, EXPORT_ID);
    sim.tableau.faults.next({ kind: 'status', status: 403, code: '403004', summary: 'Forbidden', times: 10 });
    failedRunId = await startRun(api, EXPORT_ID);
    const failed = await waitRunEndInList(api, EXPORT_ID, failedRunId, 30_000);
    sim.tableau.faults.clear();
    expect(failed.status, fleetLog()).toBe('failed');
    const detail = (await api.get(`/api/runs/${encodeURIComponent(failedRunId)}`)).body as {
      destinationHolds: { runId: string; rows: number };
    };
    expect(detail.destinationHolds).toMatchObject({ runId: clean.runId, rows: clean.rows });
    const message = await pollFor('the failure notification', 10_000, () =>
      posted.find((t) => t.includes(`failed (run ${failedRunId}`)),
    );
    expect(message).toContain(`Teammates still have the workbook of`);
    expect(message).toContain(`(${clean.rows.toLocaleString('en-US')} rows)`);
  }, 40_000);
});

describe('queue mode: a worker killed mid-upload', () => {
  it('a worker killed mid-upload: the first run id reads succeeded, with both attempts in its detail', async () => {
    const api = createApiClient(() => serve.baseUrl, TOKEN);
    await waitNotRunning(api, EXPORT_ID);
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
    // What the dashboard shows meanwhile: the run uploading, its bytes so far out of the workbook's size.
    const uploading = await pollFor('live upload progress of the run', 10_000, async () => {
      const p = (
        (await api.get('/api/exports')).body as { exports: { id: string; progress: LiveProgress | null }[] }
      ).exports.find((e) => e.id === EXPORT_ID)?.progress;
      return p?.stage === 'upload' && (p.bytesSent ?? 0) > 0 ? p : undefined;
    });
    expect(uploading).toMatchObject({ runId, attempt: 1, worker: workerName(victim), stalled: false });
    expect(uploading.bytesTotal).toBeGreaterThan(uploading.bytesSent ?? 0);
    victim.signal('SIGKILL');
    expect(await victim.exited).toMatchObject({ signal: 'SIGKILL' });
    sim.graph.faults.clear();
    // The partial upload session never replaced the file.
    expect((await sim.graph.readFile(location))?.equals(cleanFile ?? Buffer.alloc(0))).toBe(true);

    // Poll the id "Sync now" gave out, as an admin (or the dashboard) does: it must end as succeeded and never read
    // failed on the way. The lock expires (5 s), the survivor's stalled check (every 2 s) runs attempt 2.
    const seen = new Set<string>();
    const final = await pollFor(`run ${runId} to end`, 40_000, async () => {
      const run = await getRun(api, runId);
      if (run !== undefined) seen.add(`${run.status}/${run.attempt ?? 1}`);
      return run !== undefined && run.status !== 'running' ? run : undefined;
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${fleetLog()}`);
    });
    expect([...seen].filter((s) => !s.startsWith('running/'))).toEqual(['succeeded/2']);
    expect(final).toMatchObject({
      runId,
      status: 'succeeded',
      attempt: 2,
      worker: workerName(survivor),
      trigger: { kind: 'manual', by: 'admin' },
      destination: { location },
    });
    expect(final.attempts?.map((a) => [a.attempt, a.status, a.worker, a.error?.code])).toEqual([
      [1, 'failed', workerName(victim), 'INTERRUPTED'],
      [2, 'succeeded', workerName(survivor), undefined],
    ]);
    expect(final.attempts?.[0]?.error?.message).toMatch(/interrupted.*retried as attempt 2/);
    expect(workerThatStarted(`${runId}#2`, 2)).toBe(survivor);

    // Complete (a new version, exactly the reported size) and the same data as the clean run.
    expect(sim.graph.itemInfo(location)?.versions).toBe(versions + 1);
    const delivered = await sim.graph.readFile(location);
    expect(delivered?.length).toBe(final.bytes);
    expect(await dataSheetValues(delivered)).toEqual(cleanData);
    // The killed worker's temp folder (its spooled workbook) is gone too: the survivor's run swept it.
    expect(await leftovers(join(sim.dir, 'state-queue', 'tmp'))).toEqual([]);

    // The history: one run, one row, under the id that was given out.
    const history = (await api.get(`/api/exports/${EXPORT_ID}/runs`)).body as { runs: RunRecord[] };
    expect(history.runs.map((r) => [r.runId, r.attempt, r.status])).toEqual([
      [runId, 2, 'succeeded'],
      [failedRunId, 1, 'failed'],
      [clean.runId, 1, 'succeeded'],
    ]);

    // The webhook: the run recovered, under the same id, with the attempts.
    const recovered = await pollFor('the recovery notification', 10_000, () =>
      posted.find((t) => t.includes(`recovered: run ${runId} succeeded`)),
    );
    expect(recovered).toContain(`Attempts: 1 failed on ${workerName(victim)} (INTERRUPTED`);
    expect(recovered).toContain(`2 succeeded on ${workerName(survivor)}.`);
    expect(posted.join('\n')).not.toContain(`${runId}#2`);

    // `tableau-export history <run id>` reads the same record from Redis.
    const cli = await runCli(['history', runId, '--config', config], { env: sim.env });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`Status:\\s+succeeded`));
    expect(cli.stdout).toContain(`Attempts:    1 failed on ${workerName(victim)}`);
    expect(cli.stdout).toContain(`Attempts:    2 succeeded on ${workerName(survivor)}`);
    retried = runId;
  }, 90_000);
});

describe('queue mode: run ids and Sync now', () => {
  it('GET /api/runs/:id serves queue-mode run ids (job ids with @; an attempt id finds its run)', async () => {
    const api = createApiClient(() => serve.baseUrl, TOKEN);
    if (retried === undefined) throw new Error('the crash test did not get as far as the retry');
    expect(await getRun(api, clean.runId)).toMatchObject({ runId: clean.runId, status: 'succeeded', attempt: 1 });
    expect(await getRun(api, retried)).toMatchObject({ runId: retried, status: 'succeeded', attempt: 2 });
    expect(await getRun(api, `${retried}#2`)).toMatchObject({ runId: retried, status: 'succeeded', attempt: 2 });
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
