/**
 * What the console adds to the admin API: live progress (event stream and in the JSON answers), what teammates have
 * now, filters, and the download of a local export's workbook through a short-lived ticket.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExportControl, ExportInfo } from '../contracts/export-control.js';
import type { LiveRun } from '../contracts/run-progress.js';
import { blankRunReport, type RunReport } from '../contracts/run-report.js';
import type { RunQuery } from '../contracts/run-store.js';
import { createSilentLogger } from '../shared/logger.js';
import { createAdminServer } from './admin-server.js';
import { createLiveRuns } from './live-runs.js';

const TOKEN = 'console-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const T = (h: number, m = 0): string => new Date(Date.UTC(2026, 4, 5, h, m)).toISOString();

function runOf(patch: Partial<RunReport> & Pick<RunReport, 'runId' | 'status' | 'startedAt'>): RunReport {
  return {
    ...blankRunReport({ exportId: 'sales', trigger: { kind: 'schedule' }, ...patch }),
    finishedAt: patch.finishedAt ?? patch.startedAt,
  };
}

const delivered = runOf({
  runId: 'r1',
  status: 'succeeded',
  startedAt: T(10),
  rows: 5019,
  bytes: 120_000,
  destination: { location: 'Reports/Sales.xlsx', webUrl: 'https://x.example/Sales.xlsx', deliveredAt: T(10, 1) },
});
const failed = runOf({
  runId: 'r2',
  status: 'failed',
  startedAt: T(11),
  trigger: { kind: 'manual', by: 'alice' },
  error: { code: 'TABLEAU_VIEW_NOT_FOUND', message: "view 'Opportunities' not found" },
});

function setup(options: { exports?: ExportInfo[]; runs?: RunReport[]; now?: () => Date } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'console-api-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const runs = options.runs ?? [failed, delivered];
  const queries: RunQuery[] = [];
  const exports = options.exports ?? [
    {
      id: 'sales',
      schedule: '0 6 * * 1-5',
      timezone: 'America/New_York',
      nextRun: new Date(T(22)),
      running: true,
      runningRunId: 'r3',
      destinationLabel: 'OneDrive ops@contoso.com: Reports/Sales.xlsx',
    },
  ];
  const control: ExportControl = {
    list: async () => exports,
    trigger: async () => ({ outcome: 'not-found' }),
    isReady: async () => true,
  };
  const clock = { now: options.now ?? (() => new Date(T(12))) };
  const live = createLiveRuns({ clock });
  const server = createAdminServer({
    control,
    history: {
      getRun: async (id) => runs.find((r) => r.runId === id),
      listRuns: async (q) => {
        queries.push(q);
        return runs.filter(
          (r) =>
            (q.status === undefined || r.status === q.status) &&
            (q.trigger === undefined || r.trigger.kind === q.trigger),
        );
      },
      lastSuccess: async () => runs.find((r) => r.status === 'succeeded' || r.status === 'unchanged'),
    },
    tokens: [{ name: 'alice', token: TOKEN }],
    logger: createSilentLogger(),
    live,
    clock,
    liveSnapshotEveryMs: 100,
  });
  cleanups.push(() => server.close());
  return { server, live, dir, queries };
}

const progressOf = (patch: Partial<LiveRun> = {}): LiveRun => ({
  runId: 'r3',
  exportId: 'sales',
  stage: 'write',
  sheet: 'Opportunities',
  sheetIndex: 1,
  sheetCount: 3,
  rows: 3000,
  rowsTotal: 5019,
  rowsDone: 0,
  startedAt: T(11, 59),
  stageStartedAt: T(11, 59),
  updatedAt: T(11, 59),
  stageTimeoutMs: 120_000,
  ...patch,
});

describe('GET /api/exports', () => {
  it('says what teammates have now next to the current state, with the live progress of the run', async () => {
    const { server, live } = setup();
    live.publish({ kind: 'progress', run: progressOf() });
    const res = await server.app.inject({ method: 'GET', url: '/api/exports', headers: auth });
    expect(res.statusCode).toBe(200);
    const [exp] = res.json().exports;
    expect(exp.teammatesHave).toEqual({
      runId: 'r1',
      status: 'succeeded',
      deliveredAt: T(10, 1),
      rows: 5019,
      bytes: 120_000,
      location: 'Reports/Sales.xlsx',
      webUrl: 'https://x.example/Sales.xlsx',
    });
    expect(exp.lastRun).toMatchObject({ runId: 'r2', status: 'failed', error: { code: 'TABLEAU_VIEW_NOT_FOUND' } });
    // Quiet for a minute, within the write stage's two: running, not stalled.
    expect(exp.progress).toMatchObject({
      stage: 'write',
      rows: 3000,
      rowsTotal: 5019,
      quietMs: 60_000,
      stalled: false,
    });
    expect(exp.destination).toMatchObject({ kind: 'onedrive', path: null });
  });

  it('shows a run that went quiet for longer than its stage timeout as stalled', async () => {
    const { server, live } = setup({ now: () => new Date(T(12, 5)) });
    live.publish({ kind: 'progress', run: progressOf() });
    const [exp] = (await server.app.inject({ method: 'GET', url: '/api/exports', headers: auth })).json().exports;
    expect(exp.progress).toMatchObject({ stalled: true, quietMs: 6 * 60_000, stageTimeoutMs: 120_000 });
    // And Prometheus can alert on it.
    const metrics = (await server.app.inject({ method: 'GET', url: '/metrics', headers: auth })).body;
    expect(metrics).toContain('tableau_export_runs_stalled{export="sales",stage="write"} 1');
    expect(metrics).toContain('tableau_export_live_runs{export="sales",stage="write"} 1');
  });
});

describe('GET /api/runs/:id and the run list', () => {
  it('says, for a run that did not deliver, what the destination still holds', async () => {
    const { server } = setup();
    const res = await server.app.inject({ method: 'GET', url: '/api/runs/r2', headers: auth });
    expect(res.json()).toMatchObject({
      runId: 'r2',
      status: 'failed',
      progress: null,
      destinationHolds: { runId: 'r1', rows: 5019, deliveredAt: T(10, 1) },
    });
    expect((await server.app.inject({ method: 'GET', url: '/api/runs/r1', headers: auth })).json()).toMatchObject({
      destinationHolds: null,
    });
  });

  it('filters by status and by trigger, and refuses an unknown trigger', async () => {
    const { server, queries } = setup();
    const res = await server.app.inject({
      method: 'GET',
      url: '/api/exports/sales/runs?status=failed&trigger=manual',
      headers: auth,
    });
    expect(res.json().runs.map((r: RunReport) => r.runId)).toEqual(['r2']);
    expect(queries.at(-1)).toMatchObject({ exportId: 'sales', status: 'failed', trigger: 'manual' });
    const bad = await server.app.inject({ method: 'GET', url: '/api/exports/sales/runs?trigger=cron', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/trigger/);
  });
});

describe('GET /api/events', () => {
  it('needs the token, then streams the runs in progress, their updates and their end', async () => {
    const { server, live } = setup({ now: () => new Date() });
    const url = await server.listen(0, '127.0.0.1');
    expect((await fetch(`${url}/api/events`)).status).toBe(401);
    // The admin token is never accepted in the URL.
    expect((await fetch(`${url}/api/events?token=${TOKEN}`)).status).toBe(401);

    live.publish({ kind: 'progress', run: progressOf({ updatedAt: new Date().toISOString() }) });
    const controller = new AbortController();
    const res = await fetch(`${url}/api/events`, { headers: auth, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body?.getReader();
    if (reader === undefined) throw new Error('no body');
    let text = '';
    const readUntil = async (pattern: RegExp): Promise<void> => {
      const deadline = Date.now() + 5_000;
      while (!pattern.test(text)) {
        if (Date.now() > deadline) throw new Error(`no ${String(pattern)} in:\n${text}`);
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${String(pattern)}:\n${text}`);
        text += new TextDecoder().decode(value);
      }
    };
    await readUntil(/event: live\ndata: \{"runs":\[\{"runId":"r3"/);
    live.publish({
      kind: 'progress',
      run: progressOf({ stage: 'upload', bytesSent: 10, bytesTotal: 20, updatedAt: new Date().toISOString() }),
    });
    await readUntil(/event: progress\ndata: \{[^\n]*"stage":"upload"[^\n]*"bytesSent":10/);
    live.publish({ kind: 'ended', ended: { runId: 'r3', exportId: 'sales', status: 'succeeded', at: T(12) } });
    await readUntil(/event: ended\ndata: \{"runId":"r3","exportId":"sales","status":"succeeded"/);
    // The full list comes again on its own, now empty.
    await readUntil(/event: ended[\s\S]*event: live\ndata: \{"runs":\[\]\}/);
    controller.abort();
  });

  it('ends open streams when the server closes, so a shutdown never waits on a dashboard', async () => {
    const { server } = setup({ now: () => new Date() });
    const url = await server.listen(0, '127.0.0.1');
    const res = await fetch(`${url}/api/events`, { headers: auth });
    const reader = res.body?.getReader();
    await reader?.read();
    const closed = await Promise.race([
      server.close().then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still open after 3 s'), 3_000)),
    ]);
    expect(closed).toBe('closed');
    // The stream ended on the client side too.
    for (;;) {
      const chunk = await reader?.read();
      if (chunk === undefined || chunk.done) break;
    }
  });
});

describe('the workbook of a local export', () => {
  function localSetup() {
    const s = setup({ exports: [] });
    const file = join(s.dir, 'out', 'Sales Pipeline.xlsx');
    const exports: ExportInfo[] = [
      {
        id: 'local-sales',
        schedule: undefined,
        timezone: 'UTC',
        nextRun: undefined,
        running: false,
        runningRunId: undefined,
        destinationLabel: file,
        localFile: file,
      },
      {
        id: 'sales',
        schedule: undefined,
        timezone: 'UTC',
        nextRun: undefined,
        running: false,
        runningRunId: undefined,
        destinationLabel: 'OneDrive x',
      },
    ];
    const server = createAdminServer({
      control: {
        list: async () => exports,
        trigger: async () => ({ outcome: 'not-found' }),
        isReady: async () => true,
      },
      history: { getRun: async () => undefined, listRuns: async () => [], lastSuccess: async () => undefined },
      tokens: [{ name: 'alice', token: TOKEN }],
      logger: createSilentLogger(),
    });
    cleanups.push(() => server.close());
    return { server, file, dir: s.dir };
  }

  it('is downloaded through a short-lived link that opens only that file', async () => {
    const { server, file, dir } = localSetup();
    const noFile = await server.app.inject({ method: 'GET', url: '/api/exports/local-sales/file', headers: auth });
    expect(noFile.statusCode).toBe(404);
    expect(noFile.json().error).toMatchObject({ code: 'NO_FILE_YET' });
    expect(noFile.json().error.message).toContain(file);

    rmSync(join(dir, 'out'), { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'out'));
    writeFileSync(file, 'PK-workbook-bytes');
    writeFileSync(join(dir, 'secret.txt'), 'not yours');

    expect((await server.app.inject({ method: 'POST', url: '/api/exports/local-sales/download' })).statusCode).toBe(
      401,
    );
    const link = await server.app.inject({ method: 'POST', url: '/api/exports/local-sales/download', headers: auth });
    expect(link.statusCode).toBe(200);
    const { url, fileName } = link.json();
    expect(fileName).toBe('Sales Pipeline.xlsx');
    expect(url).toMatch(/^\/api\/exports\/local-sales\/file\?ticket=/);
    expect(url).not.toContain(TOKEN);

    const got = await server.app.inject({ method: 'GET', url });
    expect(got.statusCode).toBe(200);
    expect(got.body).toBe('PK-workbook-bytes');
    expect(got.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(got.headers['content-disposition']).toContain('filename="Sales Pipeline.xlsx"');

    // The ticket opens nothing else: not another export's file, not another route, not a tampered ticket.
    const ticket = new URL(url, 'http://x').searchParams.get('ticket') ?? '';
    for (const other of [
      `/api/exports/sales/file?ticket=${encodeURIComponent(ticket)}`,
      `/api/exports?ticket=${encodeURIComponent(ticket)}`,
      `/api/exports/local-sales/file?ticket=${encodeURIComponent(`${ticket}x`)}`,
      `/api/exports/..%2Fsecret.txt/file?ticket=${encodeURIComponent(ticket)}`,
    ]) {
      expect((await server.app.inject({ method: 'GET', url: other })).statusCode, other).toBe(401);
    }
    // With the token, a path-like id is just an unknown export.
    const traversal = await server.app.inject({
      method: 'GET',
      url: '/api/exports/..%2Fsecret.txt/file',
      headers: auth,
    });
    expect(traversal.statusCode).toBe(404);
    expect(traversal.body).not.toContain('not yours');

    const onedrive = await server.app.inject({ method: 'POST', url: '/api/exports/sales/download', headers: auth });
    expect(onedrive.json().error).toMatchObject({ code: 'NOT_LOCAL' });
  });

  it('refuses an expired ticket', async () => {
    const { createDownloadTickets } = await import('./download-tickets.js');
    let now = Date.parse(T(12));
    const tickets = createDownloadTickets({
      tokens: [{ name: 'alice', token: TOKEN }],
      clock: { now: () => new Date(now) },
    });
    const { ticket } = tickets.issue('local-sales', 'alice');
    expect(tickets.verify(ticket, 'local-sales')).toEqual({ caller: 'alice' });
    expect(tickets.verify(ticket, 'sales')).toBeUndefined();
    now += 61_000;
    expect(tickets.verify(ticket, 'local-sales')).toBeUndefined();
    // Another token set (rotated tokens, another deployment) does not accept it either.
    const other = createDownloadTickets({
      tokens: [{ name: 'bob', token: 'other-token-0123456789' }],
      clock: { now: () => new Date(now - 61_000) },
    });
    expect(other.verify(ticket, 'local-sales')).toBeUndefined();
  });
});
