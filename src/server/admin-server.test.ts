import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../contracts/run-report.js';
import { createScheduler } from '../scheduler/scheduler.js';
import type { ScheduledExport } from '../scheduler/types.js';
import type { ExportRunner } from '../contracts/export-runner.js';
import { createSilentLogger } from '../shared/logger.js';
import { createSqliteRunStore } from '../state/sqlite-run-store.js';
import { createAdminServer, type AdminServer } from './admin-server.js';
import type { ExportControl } from '../contracts/export-control.js';
import { createSchedulerControl } from '../scheduler/scheduler-control.js';
import { createRunMetrics } from './metrics.js';

const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef';
const tokens = [
  { name: 'alice', token: ALICE },
  { name: 'bob', token: BOB },
];

const exports: ScheduledExport[] = [
  {
    id: 'sales',
    schedule: '0 6 * * 1-5',
    timezone: 'America/New_York',
    catchUp: false,
    destinationLabel: 'OneDrive ops@contoso.com: Reports/Sales.xlsx',
  },
  { id: 'manual-only', timezone: 'Europe/Paris', catchUp: false, destinationLabel: 'local ./out/m.xlsx' },
];

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A real scheduler and store; the runner waits for `release()` so tests can see a run in progress. */
async function setup() {
  const db = new Database(':memory:');
  const store = createSqliteRunStore(db);
  const releases: Array<() => void> = [];
  const runner: ExportRunner = async (exportId, trigger, { runId, onStart }) => {
    const startedAt = new Date().toISOString();
    await store.insertRun({ runId, exportId, trigger, startedAt });
    onStart?.(runId);
    await new Promise<void>((resolve) => releases.push(resolve));
    const report: RunReport = {
      runId,
      exportId,
      trigger,
      status: 'succeeded',
      startedAt,
      finishedAt: new Date().toISOString(),
      durationMs: 1234,
      sheets: [{ sheet: 'Opportunities', rows: 42, source: 'view' }],
      rows: 42,
      bytes: 9000,
      destination: { location: 'onedrive:Reports/Sales.xlsx', webUrl: 'https://contoso-my.sharepoint.com/Sales.xlsx' },
      warnings: [],
      error: undefined,
      timings: { fetch: 1000 },
      dataHash: undefined,
    };
    await store.finishRun(report);
    return report;
  };
  const metrics = createRunMetrics();
  let n = 0;
  const scheduler = createScheduler({
    exports,
    runner,
    store,
    logger: createSilentLogger(),
    clock: { now: () => new Date() },
    newRunId: () => `run-${++n}`,
    observer: metrics,
  });
  await scheduler.start();
  const server = createAdminServer({
    control: createSchedulerControl(scheduler),
    history: store,
    tokens,
    logger: createSilentLogger(),
    registry: metrics.registry,
  });
  cleanups.push(async () => {
    for (const r of releases) r();
    await scheduler.stop({ deadlineMs: 1000 });
    await server.close();
    db.close();
  });
  /** Lets the runs in progress finish, and waits until the scheduler has seen them end. */
  const release = async (): Promise<void> => {
    for (const r of releases.splice(0)) r();
    for (let i = 0; i < 200 && exports.some((e) => scheduler.isRunning(e.id)); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
  };
  return { server, store, scheduler, release };
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

function fakeControl(overrides: Partial<ExportControl> = {}): ExportControl {
  return {
    list: async () => [],
    trigger: async () => ({ outcome: 'not-found' }),
    isReady: async () => true,
    ...overrides,
  };
}

function serverWith(
  control: ExportControl,
  history: Partial<Parameters<typeof createAdminServer>[0]['history']> = {},
): AdminServer {
  const server = createAdminServer({
    control,
    history: {
      getRun: async () => undefined,
      listRuns: async () => [],
      lastSuccess: async () => undefined,
      ...history,
    },
    tokens,
    logger: createSilentLogger(),
  });
  cleanups.push(() => server.close());
  return server;
}

describe('admin API authentication', () => {
  it.each([
    ['no header', {}],
    ['a wrong token', auth('wrong-token-0123456789abcdef')],
    ['a token prefix', auth(ALICE.slice(0, -1))],
    ['another scheme', { authorization: `Basic ${ALICE}` }],
  ])('answers 401 to %s, for existing and missing exports alike', async (_name, headers) => {
    const { server } = await setup();
    for (const [method, url] of [
      ['GET', '/api/exports'],
      ['GET', '/api/exports/sales/runs'],
      ['GET', '/api/exports/does-not-exist/runs'],
      ['GET', '/api/runs/run-1'],
      ['POST', '/api/exports/sales/run'],
      ['POST', '/api/exports/does-not-exist/run'],
      ['GET', '/metrics'],
      ['GET', '/api/no-such-endpoint'],
    ] as const) {
      const res = await server.app.inject({ method, url, headers });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.stringMatching(/admin token/) } });
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
  });

  it('leaves health, readiness and the dashboard page public', async () => {
    const { server } = await setup();
    expect((await server.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await server.app.inject({ url: '/readyz' })).json()).toEqual({
      status: 'ready',
      checks: { store: 'ok', scheduler: 'ok' },
    });
    const page = await server.app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.body).toContain('<script src="/dashboard.js"');
    expect((await server.app.inject({ url: '/dashboard.js' })).headers['content-type']).toMatch(/javascript/);
  });

  it('refuses to start without tokens or with a short one', () => {
    const base = {
      control: fakeControl(),
      history: { getRun: async () => undefined, listRuns: async () => [], lastSuccess: async () => undefined },
      logger: createSilentLogger(),
    };
    expect(() => createAdminServer({ ...base, tokens: [] })).toThrow(/no admin token is configured/);
    expect(() => createAdminServer({ ...base, tokens: [{ name: 'x', token: 'short' }] })).toThrow(/shorter than 16/);
    expect(() =>
      createAdminServer({
        ...base,
        tokens: [
          { name: 'x', token: ALICE },
          { name: 'x', token: BOB },
        ],
      }),
    ).toThrow(/used twice/);
  });
});

describe('admin API', () => {
  it('lists exports with schedule, next run, last run and file link', async () => {
    const { server, release } = await setup();
    let res = await server.app.inject({ url: '/api/exports', headers: auth(ALICE) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const before = res.json();
    expect(before.exports).toHaveLength(2);
    expect(before.exports[0]).toMatchObject({
      id: 'sales',
      schedule: '0 6 * * 1-5',
      timezone: 'America/New_York',
      running: false,
      destination: { label: 'OneDrive ops@contoso.com: Reports/Sales.xlsx', webUrl: null },
      lastRun: null,
      lastSuccessAt: null,
    });
    expect(Date.parse(before.exports[0].nextRun)).toBeGreaterThan(Date.now());
    expect(before.exports[1]).toMatchObject({ id: 'manual-only', schedule: null, nextRun: null });

    await server.app.inject({ method: 'POST', url: '/api/exports/sales/run', headers: auth(ALICE) });
    await release();
    res = await server.app.inject({ url: '/api/exports', headers: auth(ALICE) });
    expect(res.json().exports[0]).toMatchObject({
      destination: { webUrl: 'https://contoso-my.sharepoint.com/Sales.xlsx' },
      lastRun: {
        runId: 'run-1',
        status: 'succeeded',
        rows: 42,
        bytes: 9000,
        durationMs: 1234,
        trigger: { kind: 'manual', by: 'alice' },
      },
    });
  });

  it('runs an export: 202 with the run id, running, then succeeded; 409 while it runs; the token name is recorded', async () => {
    const { server, release } = await setup();
    const started = await server.app.inject({ method: 'POST', url: '/api/exports/sales/run', headers: auth(BOB) });
    expect(started.statusCode).toBe(202);
    expect(started.json()).toEqual({ runId: 'run-1' });
    expect(started.headers['location']).toBe('/api/runs/run-1');

    const running = await server.app.inject({ url: '/api/runs/run-1', headers: auth(ALICE) });
    expect(running.json()).toMatchObject({
      runId: 'run-1',
      exportId: 'sales',
      status: 'running',
      trigger: { kind: 'manual', by: 'bob' },
    });
    const list = await server.app.inject({ url: '/api/exports', headers: auth(ALICE) });
    expect(list.json().exports[0]).toMatchObject({ running: true, runningRunId: 'run-1' });

    const conflict = await server.app.inject({
      method: 'POST',
      url: '/api/exports/sales/run',
      headers: auth(ALICE),
      payload: {},
    });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toEqual({
      error: { code: 'RUN_IN_PROGRESS', message: expect.stringMatching(/already running.*run-1/), runId: 'run-1' },
    });

    await release();
    const done = await server.app.inject({ url: '/api/runs/run-1', headers: auth(ALICE) });
    expect(done.json()).toMatchObject({
      status: 'succeeded',
      rows: 42,
      sheets: [{ sheet: 'Opportunities', rows: 42 }],
    });

    const runs = await server.app.inject({ url: '/api/exports/sales/runs?limit=5', headers: auth(ALICE) });
    expect(runs.json().runs.map((r: RunReport) => [r.runId, r.status])).toEqual([['run-1', 'succeeded']]);
  });

  it('answers 404 JSON for unknown or malformed ids, and 400 for a bad query', async () => {
    const { server } = await setup();
    for (const url of [
      '/api/runs/nope',
      '/api/runs/..%2F..%2Fetc',
      '/api/exports/nope/runs',
      '/api/exports/%3Cscript%3E/runs',
      '/api/unknown',
    ]) {
      const res = await server.app.inject({ url, headers: auth(ALICE) });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code).toMatch(/NOT_FOUND/);
    }
    const post = await server.app.inject({ method: 'POST', url: '/api/exports/nope/run', headers: auth(ALICE) });
    expect(post.statusCode).toBe(404);
    expect(post.json()).toEqual({ error: { code: 'EXPORT_NOT_FOUND', message: expect.any(String) } });
    const bad = await server.app.inject({ url: '/api/exports/sales/runs?limit=abc', headers: auth(ALICE) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_QUERY');
    const badJson = await server.app.inject({
      method: 'POST',
      url: '/api/exports/sales/run',
      headers: { ...auth(ALICE), 'content-type': 'application/json' },
      payload: '{nope',
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().error.code).toBe('INVALID_JSON');
  });

  it.each(['sales@1735711200000', 'sales@manual-ab12cd34', 'sales@manual-ab12cd34#2', 'sales@1735711200000~skipped'])(
    'serves queue-mode run id %s (job ids with @, attempts with #, skipped ticks with ~)',
    async (runId) => {
      const asked: string[] = [];
      const server = serverWith(fakeControl(), {
        getRun: async (id) => {
          asked.push(id);
          return {
            runId: id,
            exportId: 'sales',
            trigger: { kind: 'cli' },
            status: 'succeeded',
            startedAt: '2026-11-27T06:00:00Z',
            finishedAt: undefined,
            durationMs: undefined,
            sheets: [],
            rows: 0,
            bytes: 0,
            destination: undefined,
            warnings: [],
            error: undefined,
            timings: {},
            dataHash: undefined,
          };
        },
      });
      const res = await server.app.inject({ url: `/api/runs/${encodeURIComponent(runId)}`, headers: auth(ALICE) });
      expect(res.statusCode).toBe(200);
      expect(asked).toEqual([runId]);
      expect(res.json()).toMatchObject({ runId });
    },
  );

  it('answers 500 with a generic message (no stack, no detail) when something breaks', async () => {
    const server = serverWith(
      fakeControl({ list: async () => Promise.reject(new Error('disk I/O error at /var/secret/path')) }),
    );
    const res = await server.app.inject({ url: '/api/exports', headers: auth(ALICE) });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      error: { code: 'INTERNAL', message: 'internal error; see the service log for details' },
    });
    expect(res.body).not.toContain('secret');
  });

  it('answers 503 while shutting down, and readyz says not ready', async () => {
    const server = serverWith(
      fakeControl({
        list: async () => [
          {
            id: 'sales',
            schedule: undefined,
            timezone: 'UTC',
            nextRun: undefined,
            running: false,
            runningRunId: undefined,
            destinationLabel: 'x',
          },
        ],
        trigger: async () => ({
          outcome: 'unavailable',
          message: "cannot start export 'sales': the service is shutting down",
        }),
        isReady: async () => false,
      }),
      { listRuns: async () => Promise.reject(new Error('SQLITE_BUSY')) },
    );
    const res = await server.app.inject({ method: 'POST', url: '/api/exports/sales/run', headers: auth(ALICE) });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.message).toMatch(/shutting down/);
    const ready = await server.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'not ready', checks: { store: 'unreachable', scheduler: 'not running' } });
  });

  it('serves Prometheus metrics from its own registry', async () => {
    const { server, release } = await setup();
    await server.app.inject({ method: 'POST', url: '/api/exports/sales/run', headers: auth(ALICE) });
    let text = (await server.app.inject({ url: '/metrics', headers: auth(ALICE) })).body;
    expect(text).toContain('tableau_export_running{export="sales"} 1');
    await release();
    const res = await server.app.inject({ url: '/metrics', headers: auth(ALICE) });
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    text = res.body;
    expect(text).toContain('tableau_export_runs_total{export="sales",status="succeeded"} 1');
    expect(text).toContain('tableau_export_running{export="sales"} 0');
    expect(text).toContain('tableau_export_last_run_rows{export="sales"} 42');
    expect(text).toContain('tableau_export_last_run_bytes{export="sales"} 9000');
    expect(text).toMatch(/tableau_export_run_duration_seconds_bucket\{le="5",export="sales",status="succeeded"\} 1/);
    expect(text).toMatch(/tableau_export_last_success_timestamp_seconds\{export="sales"\} \d{10}/);
    // Nothing from prom-client's global default registry (process metrics).
    expect(text).not.toContain('process_cpu');
  });
});
