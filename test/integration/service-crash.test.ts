/**
 * `serve` as a process, against both simulators, when it is killed, stopped or reloaded:
 * - SIGKILL in the middle of an upload: after a restart the run is recorded failed/INTERRUPTED, OneDrive still holds
 *   the previous workbook byte for byte, and once the restarted service has run again no temp file is left;
 * - SIGTERM during a run that ends within `server.shutdownGrace`: the run finishes and is recorded succeeded, exit 0;
 * - SIGTERM during a run that cannot end within the grace: exit 0 soon after the grace, the run is recorded
 *   INTERRUPTED, the upload session is cancelled, the previous file is untouched, no temp file is left;
 * - SIGHUP with an invalid config keeps the old config (and says why); with a valid one, a new export appears.
 */
import { rmSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { sampleExportYaml, startSimEnv, type SimEnv } from './helpers/sim-env.js';
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
  runToEnd,
  startRun,
  waitRunEnd,
} from './helpers/service-runs.js';

const TOKEN = 'service-crash-admin-token-0123456789';

let sim: SimEnv;
let services: ServiceGroup;

beforeAll(async () => {
  // 2000 opportunities stored uncompressed: a ~1.7 MB workbook, uploaded in 6 fragments of 320 KiB.
  sim = await startSimEnv({ rows: 2000 });
  services = createServiceGroup({ ...sim.env, ADMIN_TOKEN: TOKEN });
});

afterAll(async () => {
  await services?.killAll();
  await sim?.close();
  if (sim !== undefined) rmSync(sim.dir, { recursive: true, force: true });
});

/** A config of its own (own stateDir) for one test. */
async function configFor(
  name: string,
  exportsYaml: string,
  extraTopLevel?: string,
): Promise<{ file: string; stateDir: string }> {
  const file = await sim.writeConfig(exportsYaml, {
    name: `${name}.yaml`,
    ...(extraTopLevel === undefined ? {} : { extraTopLevel }),
  });
  await setStateDir(file, `./state-${name}`);
  return { file, stateDir: join(sim.dir, `state-${name}`) };
}

/** Resolves once the current run has stored at least one fragment of a new upload session and holds it open. */
function midUpload(fragmentsBefore: number, sessionsBefore: number): Promise<true> {
  return pollFor('the run to be in the middle of its upload', 20_000, () =>
    sim.graph.stats.fragmentsAccepted > fragmentsBefore && sim.graph.openUploadSessions() > sessionsBefore
      ? true
      : undefined,
  );
}

describe('serve: crash, shutdown and reload', () => {
  it('SIGKILL mid-upload: the run is INTERRUPTED after restart, the previous workbook is intact, no temp files remain', async () => {
    const { file, stateDir } = await configFor('kill', fragmentedUploadExportYaml('crash', 'Reports/Crash.xlsx'));
    let serve: ServiceProcess = await services.serve(file);
    const api = createApiClient(() => serve.baseUrl, TOKEN);

    const first = await runToEnd(api, 'crash');
    expect(first).toMatchObject({ status: 'succeeded' });
    const location = first.destination?.location ?? '';
    const previous = await sim.graph.readFile(location);
    expect(previous?.length).toBe(first.bytes);
    const versions = sim.graph.itemInfo(location)?.versions;

    // Fragment 2 of the next upload is throttled three times with Retry-After: 2 → the upload hangs for ~6 s.
    const fragmentsBefore = sim.graph.stats.fragmentsAccepted;
    const sessionsBefore = sim.graph.openUploadSessions();
    sim.graph.faults.throttle({ ops: ['uploadFragment'], status: 429, retryAfter: '2', skip: 1, times: 3 });
    const killedRunId = await startRun(api, 'crash');
    await midUpload(fragmentsBefore, sessionsBefore);
    serve.signal('SIGKILL');
    expect(await serve.exited).toMatchObject({ signal: 'SIGKILL' });
    sim.graph.faults.clear();

    // Restart: the run the dead process left `running` is recorded as interrupted.
    serve = await services.serve(file);
    await serve.waitForLog(
      'the interrupted-runs warning',
      (l) =>
        typeof l.msg === 'string' &&
        /1 run\(s\) left running by a previous process were marked failed \(INTERRUPTED\)/.test(l.msg),
    );
    const killed = await getRun(api, killedRunId);
    expect(killed).toMatchObject({ status: 'failed', error: { code: 'INTERRUPTED' } });
    expect(killed?.error?.message).toMatch(/stopped|interrupted|crash|kill/i);

    // The half-uploaded session never replaced the file: same bytes, same version count.
    expect((await sim.graph.readFile(location))?.equals(previous ?? Buffer.alloc(0))).toBe(true);
    expect(sim.graph.itemInfo(location)?.versions).toBe(versions);

    // The restarted service runs the export again; afterwards nothing of either run is left in the temp folder.
    const third = await runToEnd(api, 'crash');
    expect(third).toMatchObject({ status: 'succeeded', destination: { location } });
    expect(sim.graph.itemInfo(location)?.versions).toBe((versions ?? 0) + 1);
    const history = (await api.get('/api/exports/crash/runs')).body as { runs: { runId: string; status: string }[] };
    expect(history.runs.map((r) => [r.runId, r.status])).toEqual([
      [third.runId, 'succeeded'],
      [killedRunId, 'failed'],
      [first.runId, 'succeeded'],
    ]);
    expect((await serve.stop()).code).toBe(0);
    // The killed run's folder (its spooled workbook) included: a crash must not leak disk space run after run.
    expect(await leftovers(join(stateDir, 'tmp'))).toEqual([]);
  }, 60_000);

  it('SIGTERM during a run that ends within shutdownGrace: the run finishes and is recorded succeeded; exit 0', async () => {
    const { file, stateDir } = await configFor(
      'term-finish',
      fragmentedUploadExportYaml('finish', 'Reports/Finish.xlsx'),
      'server: { shutdownGrace: 20s }',
    );
    const serve = await services.serve(file);
    const api = createApiClient(() => serve.baseUrl, TOKEN);

    // Half the Opportunities data, a 2 s pause, then the rest: the run is still fetching when SIGTERM arrives.
    sim.tableau.faults.next({ kind: 'slow-body', delayMs: 2_000 });
    const runId = await startRun(api, 'finish');
    await new Promise((r) => setTimeout(r, 300));
    const termAt = Date.now();
    serve.signal('SIGTERM');
    const exit = await serve.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    // It waited for the run (≥ the rest of the 2 s pause), and did not need the whole grace.
    expect(exit.at - termAt).toBeGreaterThan(1_000);
    expect(exit.at - termAt).toBeLessThan(20_000);
    expect(serve.logs().some((l) => l.msg === 'stopped')).toBe(true);

    // The record, as the CLI shows it from the state directory.
    const history = await runCli(['history', 'finish', '--json', '--config', file], { env: sim.env });
    expect(history.code).toBe(0);
    const runs = JSON.parse(history.stdout) as {
      runId: string;
      status: string;
      trigger: { kind: string; by?: string };
      bytes: number;
    }[];
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ runId, status: 'succeeded', trigger: { kind: 'manual', by: 'admin' } });
    expect((await sim.graph.readFile('ops@contoso.com/Reports/Finish.xlsx'))?.length).toBe(runs[0]?.bytes);
    expect(await leftovers(join(stateDir, 'tmp'))).toEqual([]);
  }, 60_000);

  it('SIGTERM during an upload that outlasts shutdownGrace: exit 0, run INTERRUPTED, upload session cancelled, previous file intact', async () => {
    const { file, stateDir } = await configFor(
      'term-abort',
      fragmentedUploadExportYaml('abort', 'Reports/Abort.xlsx'),
      'server: { shutdownGrace: 1s }',
    );
    const serve = await services.serve(file);
    const api = createApiClient(() => serve.baseUrl, TOKEN);
    const first = await runToEnd(api, 'abort');
    expect(first.status).toBe('succeeded');
    const location = first.destination?.location ?? '';
    const previous = await sim.graph.readFile(location);

    const fragmentsBefore = sim.graph.stats.fragmentsAccepted;
    const sessionsBefore = sim.graph.openUploadSessions();
    const deletedBefore = sim.graph.stats.uploadSessionsDeleted;
    sim.graph.faults.throttle({ ops: ['uploadFragment'], status: 429, retryAfter: '2', skip: 1, times: 3 });
    const runId = await startRun(api, 'abort');
    await midUpload(fragmentsBefore, sessionsBefore);
    const termAt = Date.now();
    serve.signal('SIGTERM');
    const exit = await serve.exited;
    sim.graph.faults.clear();
    expect(exit).toMatchObject({ code: 0, signal: null });
    // Grace (1 s) plus a prompt abort, far less than the ~6 s the throttled upload would still take.
    expect(exit.at - termAt).toBeGreaterThanOrEqual(900);
    expect(exit.at - termAt).toBeLessThan(5_000);
    expect(
      serve
        .logs()
        .some((l) => typeof l.msg === 'string' && l.msg.startsWith('shutdown deadline passed: aborting 1 run(s)')),
    ).toBe(true);

    // The upload session was deleted, not left to expire; the file is the previous one; no temp files.
    expect(sim.graph.openUploadSessions()).toBe(sessionsBefore);
    expect(sim.graph.stats.uploadSessionsDeleted).toBe(deletedBefore + 1);
    expect((await sim.graph.readFile(location))?.equals(previous ?? Buffer.alloc(0))).toBe(true);
    expect(await leftovers(join(stateDir, 'tmp'))).toEqual([]);

    const history = await runCli(['history', runId, '--json', '--config', file], { env: sim.env });
    expect(history.code).toBe(0);
    const run = JSON.parse(history.stdout) as { status: string; error?: { code: string; message: string } };
    expect(run).toMatchObject({ status: 'failed', error: { code: 'INTERRUPTED' } });
    expect(run.error?.message).toMatch(/shutting down|aborted/);
  }, 60_000);

  it('SIGHUP: an invalid config is refused (logged, old config kept); a valid one adds the new export', async () => {
    const first = await configFor('hup', sampleExportYaml({ id: 'hup-a', path: 'Reports/Hup A.xlsx' }));
    const serve = await services.serve(first.file);
    const api = createApiClient(() => serve.baseUrl, TOKEN);
    const ids = async (): Promise<string[]> =>
      ((await api.get('/api/exports')).body as { exports: { id: string }[] }).exports.map((e) => e.id);
    expect(await ids()).toEqual(['hup-a']);

    // Invalid: a second export with a schedule that is not cron.
    await configFor(
      'hup',
      `${sampleExportYaml({ id: 'hup-a', path: 'Reports/Hup A.xlsx' })}${sampleExportYaml({ id: 'hup-b', path: 'Reports/Hup B.xlsx', extra: '    schedule: "every day at six"\n' })}`,
    );
    serve.signal('SIGHUP');
    const refused = await serve.waitForLog(
      'the reload failure',
      (l) => l.msg === 'config reload failed; keeping the previous config',
    );
    expect(String(refused['err'])).toMatch(/schedule/);
    expect(String(refused['err'])).toMatch(/every day at six.*5 fields/);
    expect(await ids()).toEqual(['hup-a']);
    expect((await api.get('/healthz')).status).toBe(200);

    // Over the size cap: refused before parsing (a megabyte of YAML would block the event loop for seconds).
    const big = await configFor('hup', sampleExportYaml({ id: 'hup-a', path: 'Reports/Hup A.xlsx' }));
    await appendFile(big.file, `# ${'x'.repeat(1024 * 1024)}\n`);
    serve.signal('SIGHUP');
    const tooBig = await serve.waitForLog(
      'the oversized reload failure',
      (l) => l.msg === 'config reload failed; keeping the previous config' && /byte limit/.test(String(l['err'])),
    );
    expect(String(tooBig['err'])).toMatch(/file is [\d,]+ bytes, over the 1,048,576-byte limit for a config file/);
    expect(String(tooBig['err'])).toMatch(/TABLEAU_EXPORT_CONFIG_MAX_BYTES/);
    expect(await ids()).toEqual(['hup-a']);

    // Valid: hup-b is added, listed and runnable.
    await configFor(
      'hup',
      `${sampleExportYaml({ id: 'hup-a', path: 'Reports/Hup A.xlsx' })}${sampleExportYaml({ id: 'hup-b', path: 'Reports/Hup B.xlsx', extra: '    schedule: "0 6 * * 1-5"\n' })}`,
    );
    serve.signal('SIGHUP');
    await serve.waitForLog('the reload', (l) => l.msg === 'config reloaded');
    await pollFor('hup-b in GET /api/exports', 5_000, async () => ((await ids()).includes('hup-b') ? true : undefined));
    expect(await ids()).toEqual(['hup-a', 'hup-b']);
    const b = (
      (await api.get('/api/exports')).body as {
        exports: { id: string; schedule: string | null; nextRun: string | null }[];
      }
    ).exports.find((e) => e.id === 'hup-b');
    expect(b).toMatchObject({ schedule: '0 6 * * 1-5', nextRun: expect.any(String) });
    const run = await waitRunEnd(api, await startRun(api, 'hup-b'));
    expect(run).toMatchObject({ status: 'succeeded', destination: { location: 'ops@contoso.com/Reports/Hup B.xlsx' } });
    expect((await serve.stop()).code).toBe(0);
  }, 60_000);
});
