// The scheduling service and admin API over a real port, with real timers, the SQLite state file and a runner that
// takes a moment and honours abort signals like the real pipeline.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/contracts/run-report.js';
import { createScheduler, type Scheduler } from '../../src/scheduler/scheduler.js';
import type { ExportRunner } from '../../src/contracts/export-runner.js';
import { createSilentLogger } from '../../src/shared/logger.js';
import { systemClock } from '../../src/shared/clock.js';
import { openStateDatabase, type StateDatabase } from '../../src/state/database.js';
import { createSqliteRunStore } from '../../src/state/sqlite-run-store.js';
import type { RunStore } from '../../src/contracts/run-store.js';
import { createAdminServer, type AdminServer } from '../../src/server/admin-server.js';
import { createSchedulerControl } from '../../src/scheduler/scheduler-control.js';
import { createRunMetrics } from '../../src/server/metrics.js';

const TOKEN = 'integration-token-0123456789';
const OTHER = 'second-admin-token-0123456789';

/** Sleeps `ms` unless aborted first; tells which. */
const pause = (ms: number, signal: AbortSignal): Promise<'done' | 'aborted'> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve('aborted');
    const t = setTimeout(() => resolve('done'), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve('aborted');
    });
  });

function createTimedRunner(store: RunStore, durationMs: (exportId: string) => number): ExportRunner {
  return async (exportId, trigger, { runId, signal, onStart }) => {
    const startedAt = new Date();
    await store.insertRun({ runId, exportId, trigger, startedAt: startedAt.toISOString() });
    onStart?.(runId);
    const outcome = await pause(durationMs(exportId), signal);
    const finishedAt = new Date();
    const report: RunReport = {
      runId,
      exportId,
      trigger,
      status: outcome === 'done' ? 'succeeded' : 'failed',
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      sheets: outcome === 'done' ? [{ sheet: 'Opportunities', rows: 250, source: 'fake' }] : [],
      rows: outcome === 'done' ? 250 : 0,
      bytes: outcome === 'done' ? 20_480 : 0,
      destination: outcome === 'done' ? { location: 'local:./out/sales.xlsx' } : undefined,
      warnings: [],
      error: outcome === 'done' ? undefined : { code: 'ABORTED', message: 'the service is shutting down' },
      timings: {},
      dataHash: undefined,
    };
    await store.finishRun(report);
    return report;
  };
}

let dir: string;
let db: StateDatabase;
let store: RunStore;
let scheduler: Scheduler;
let server: AdminServer;
let baseUrl: string;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  dir = mkdtempSync(join(tmpdir(), 'service-api-'));
  db = openStateDatabase(dir);
  store = createSqliteRunStore(db);
  const metrics = createRunMetrics();
  let n = 0;
  scheduler = createScheduler({
    exports: [
      {
        id: 'sales',
        schedule: '0 6 * * *',
        timezone: 'Europe/Paris',
        catchUp: true,
        destinationLabel: 'local ./out/sales.xlsx',
      },
      { id: 'slow', timezone: 'UTC', catchUp: false, destinationLabel: 'local ./out/slow.xlsx' },
    ],
    runner: createTimedRunner(store, (id) => (id === 'slow' ? 60_000 : 300)),
    store,
    logger: createSilentLogger(),
    clock: systemClock,
    newRunId: () => `it-${process.pid}-${++n}`,
    observer: metrics,
  });
  await scheduler.start();
  server = createAdminServer({
    control: createSchedulerControl(scheduler),
    history: store,
    tokens: [
      { name: 'ops', token: TOKEN },
      { name: 'carol', token: OTHER },
    ],
    logger: createSilentLogger(),
    registry: metrics.registry,
  });
  baseUrl = await server.listen(0, '127.0.0.1');
});

afterAll(async () => {
  await scheduler.stop({ deadlineMs: 100 });
  await server.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  nock.enableNetConnect();
});

const call = (path: string, init: { method?: string; token?: string } = {}) =>
  fetch(`${baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: init.token === undefined ? {} : { authorization: `Bearer ${init.token}` },
  });

async function waitForEnd(runId: string): Promise<RunReport> {
  for (let i = 0; i < 100; i++) {
    const run = (await (await call(`/api/runs/${runId}`, { token: TOKEN })).json()) as RunReport;
    if (run.status !== 'running') return run;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`run ${runId} did not end`);
}

describe('admin API over HTTP', () => {
  it('listens on the URL it returns and serves health without a token', async () => {
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await call('/healthz')).status).toBe(200);
    expect(await (await call('/readyz')).json()).toEqual({ status: 'ready', checks: { store: 'ok', scheduler: 'ok' } });
  });

  it('rejects missing and wrong tokens, accepts each named token', async () => {
    expect((await call('/api/exports')).status).toBe(401);
    expect((await call('/api/exports', { token: 'not-the-token-0123456789' })).status).toBe(401);
    expect((await call('/api/exports', { token: TOKEN })).status).toBe(200);
    expect((await call('/api/exports', { token: OTHER })).status).toBe(200);
  });

  it('runs an export end to end: 202, running, succeeded, in the history and the metrics', async () => {
    const res = await call('/api/exports/sales/run', { method: 'POST', token: OTHER });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    const running = (await (await call(`/api/runs/${runId}`, { token: TOKEN })).json()) as RunReport;
    expect(running).toMatchObject({ status: 'running', trigger: { kind: 'manual', by: 'carol' } });
    expect((await call('/api/exports/sales/run', { method: 'POST', token: TOKEN })).status).toBe(409);

    const done = await waitForEnd(runId);
    expect(done).toMatchObject({ status: 'succeeded', rows: 250, bytes: 20_480 });
    expect(done.durationMs).toBeGreaterThanOrEqual(250);

    const history = (await (await call('/api/exports/sales/runs', { token: TOKEN })).json()) as { runs: RunReport[] };
    expect(history.runs[0]?.runId).toBe(runId);
    const metrics = await (await call('/metrics', { token: TOKEN })).text();
    expect(metrics).toContain('tableau_export_runs_total{export="sales",status="succeeded"} 1');
    // The state file holds it too (another process, e.g. `history`, would see it).
    const second = openStateDatabase(dir);
    expect((await createSqliteRunStore(second).getRun(runId))?.status).toBe('succeeded');
    second.close();
  });

  it('on stop, aborts a run past the deadline; the run is recorded as failed, not left running', async () => {
    const res = await call('/api/exports/slow/run', { method: 'POST', token: TOKEN });
    const { runId } = (await res.json()) as { runId: string };
    const t0 = Date.now();
    await scheduler.stop({ deadlineMs: 200 });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await store.getRun(runId)).toMatchObject({ status: 'failed', error: { code: 'ABORTED' } });
    expect((await call('/readyz')).status).toBe(503);
    expect((await call('/api/exports/sales/run', { method: 'POST', token: TOKEN })).status).toBe(503);
  });
});
