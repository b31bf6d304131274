/**
 * The real Tableau client against the Tableau simulator over loopback HTTPS (trusting the simulator's CA through
 * `caFile`, as an on-prem deployment trusts its internal CA). Faults are injected through the simulator's queue.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RawTable, ViewRequest } from '../../src/contracts/ports.js';
import { realSleep, systemClock } from '../../src/shared/clock.js';
import { AppError } from '../../src/shared/errors.js';
import { createLogger, type Logger } from '../../src/shared/logger.js';
import { createRedactor } from '../../src/shared/redact.js';
import type { RetryPolicy } from '../../src/shared/retry.js';
import { generatePipelineRows, PIPELINE_HEADER } from '../../src/simulators/demo-data/pipeline-generator.js';
import {
  startTableauSimulator,
  type TableauSimulator,
  type TableauSimulatorOptions,
} from '../../src/simulators/tableau/index.js';
import { createTableauSource, type TableauSourceOptions } from '../../src/sources/tableau/index.js';

const PAT = { type: 'pat' as const, tokenName: 'export-bot', tokenSecret: 'pat-secret-0123456789' };
const FAST_RETRY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 5,
  maxDelayMs: 20,
  maxRetryAfterMs: 50,
  maxTotalMs: 10_000,
};
const ROWS = 120;
const AS_OF = new Date(Date.UTC(2026, 10, 27));

let sim: TableauSimulator;
let tempDir: string;
const lines: string[] = [];
const redactor = createRedactor();
const logger: Logger = createLogger({
  redactor,
  level: 'debug',
  destination: { write: (s: string) => void lines.push(s) },
});
const signal = new AbortController().signal;

async function startSim(options: TableauSimulatorOptions = {}): Promise<TableauSimulator> {
  return startTableauSimulator({ rowCount: ROWS, seed: 7, asOf: AS_OF, ...options });
}

function source(s: TableauSimulator, overrides: Partial<TableauSourceOptions> = {}) {
  return createTableauSource(
    {
      serverUrl: s.url,
      site: 'sales',
      apiVersion: 'auto',
      auth: PAT,
      caFile: s.caFile,
      retry: FAST_RETRY,
      ...overrides,
    },
    { logger, redactor, clock: systemClock, sleep: realSleep },
  );
}

const opportunities = (filters: Record<string, string[]> = {}): ViewRequest => ({
  workbook: 'Sales Pipeline',
  view: 'Opportunities',
  filters,
  parameters: {},
  maxAgeMinutes: 1,
});

async function collect(table: RawTable): Promise<string[][]> {
  const rows: string[][] = [];
  for await (const r of table.rows()) rows.push([...r]);
  return rows;
}

/** Opens a session, fetches one view, closes; returns the rows. */
async function fetchOnce(src: ReturnType<typeof source>, request = opportunities()): Promise<string[][]> {
  const session = await src.open({ logger, signal });
  try {
    const table = await session.fetchView(request, { logger, signal, tempDir });
    try {
      return await collect(table);
    } finally {
      await table.dispose();
    }
  } finally {
    await session.close();
  }
}

const dataStatuses = (s: TableauSimulator): number[] =>
  s.stats.requests.filter((r) => r.endpoint === 'data').map((r) => r.status);

beforeAll(async () => {
  nock.enableNetConnect((host) => host.startsWith('127.0.0.1') || host.startsWith('localhost'));
  sim = await startSim();
});
afterAll(async () => {
  await sim.close();
});
beforeEach(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'tableau-it-'));
  sim.faults.clear();
  sim.stats.requests.length = 0;
});
afterEach(async () => {
  // Nothing spooled may survive a run, whether it succeeded or failed.
  expect(await readdir(tempDir)).toEqual([]);
  await rm(tempDir, { recursive: true, force: true });
  expect(sim.stats.activeSessions).toBe(0);
});

describe('Tableau client against the simulator', () => {
  it('fetches Opportunities with a vf_ filter (OR-ed values, literal comma) exactly as the data set says', async () => {
    const filters = { Region: ['EMEA', 'NA'], Account: ['Smith, Jones & Co', 'Acme Corporation', 'Initech'] };
    const rows = await fetchOnce(source(sim), opportunities(filters));
    const regionAt = PIPELINE_HEADER.indexOf('Region');
    const accountAt = PIPELINE_HEADER.indexOf('Account');
    const expected = [...generatePipelineRows({ seed: 7, count: ROWS, asOf: AS_OF })].filter(
      (r) => filters.Region.includes(r[regionAt] ?? '') && filters.Account.includes(r[accountAt] ?? ''),
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.some((r) => r[accountAt] === 'Smith, Jones & Co')).toBe(true);
    expect(rows).toEqual(expected);
    const query = sim.stats.requests.find((r) => r.endpoint === 'data')?.query ?? '';
    expect(query).toContain('maxAge=1');
    expect(query).toBe('maxAge=1&vf_Account=Smith\\,%20Jones%20%26%20Co,Acme%20Corporation,Initech&vf_Region=EMEA,NA');
  });

  it('ignores unknown filter fields, as Tableau does, and reports the filters and maxAge in provenance', async () => {
    const session = await source(sim).open({ logger, signal });
    const table = await session.fetchView(
      { ...opportunities({ Regoin: ['EMEA'] }), maxAgeMinutes: 5 },
      { logger, signal, tempDir },
    );
    expect(await collect(table)).toHaveLength(ROWS);
    expect(table.provenance).toMatchObject({
      filters: 'Regoin = EMEA',
      maxAge: '5',
      workbook: 'Sales Pipeline',
      project: 'Sales',
      productVersion: '2024.2.0',
      apiVersion: '3.24',
    });
    expect(table.provenance['viewUrl']).toBe(`${sim.url}/#/site/sales/views/SalesPipeline/Opportunities`);
    await table.dispose();
    await session.close();
  });

  it('warns on a dashboard, naming the worksheets to export instead', async () => {
    const session = await source(sim).open({ logger, signal });
    const table = await session.fetchView(
      { ...opportunities(), view: 'Pipeline Overview' },
      { logger, signal, tempDir },
    );
    // Tableau's `/data` of a dashboard: its first worksheet, alphabetically (Opportunities here).
    expect(table.header[0]).toBe('Opportunity ID');
    expect(table.warnings).toEqual([
      expect.stringContaining(
        "is a dashboard: Tableau exports only the data of one of its worksheets (the first, alphabetically); export a worksheet instead: 'Opportunities', 'Pipeline by Stage', 'Rep Performance'",
      ),
    ]);
    await table.dispose();
    await session.close();
  });

  it('lists workbooks and views for `tableau-export views`', async () => {
    const content = await source(sim, { pageSize: 1 }).listContent({});
    expect(content.map((w) => [w.project, w.name])).toEqual([
      ['Marketing', 'Marketing Funnel'],
      ['Sales', 'Sales Pipeline'],
    ]);
    expect(content[1]?.views.map((v) => [v.name, v.sheetType, v.contentUrl])).toEqual([
      ['Opportunities', 'worksheet', 'SalesPipeline/sheets/Opportunities'],
      ['Pipeline by Stage', 'worksheet', 'SalesPipeline/sheets/PipelinebyStage'],
      ['Rep Performance', 'worksheet', 'SalesPipeline/sheets/RepPerformance'],
      ['Pipeline Overview', 'dashboard', 'SalesPipeline/sheets/PipelineOverview'],
    ]);
    expect(sim.stats.signOuts).toBe(sim.stats.signIns);
  });

  it.each([
    ['429 with Retry-After (HTML page)', { kind: 'throttle', retryAfter: '1' } as const, [429, 200]],
    ['429 without Retry-After', { kind: 'throttle' } as const, [429, 200]],
    ['503', { kind: 'unavailable' } as const, [503, 200]],
    ['a proxy HTML error page', { kind: 'html-error' } as const, [502, 200]],
    ['a dropped connection', { kind: 'reset' } as const, [-1, 200]],
    ['a body cut short (Content-Length)', { kind: 'cut-body' } as const, [200, 200]],
    ['a body cut short (chunked)', { kind: 'cut-body', chunked: true } as const, [200, 200]],
  ])('survives %s', async (_name, fault, statuses) => {
    sim.faults.next(fault);
    const rows = await fetchOnce(source(sim));
    expect(rows).toHaveLength(ROWS);
    expect(dataStatuses(sim)).toEqual(statuses);
  });

  it('survives a session invalidated mid-run (401002) by signing in again once', async () => {
    const signInsBefore = sim.stats.signIns;
    sim.faults.next({ kind: 'expire-session' });
    const rows = await fetchOnce(source(sim));
    expect(rows).toHaveLength(ROWS);
    expect(dataStatuses(sim)).toEqual([401, 200]);
    expect(sim.stats.signIns - signInsBefore).toBe(2);
  });

  it('times out a stalled body and retries; a slow body within the idle limit just arrives', async () => {
    sim.faults.next({ kind: 'slow-body', delayMs: 600 });
    const rows = await fetchOnce(source(sim, { idleTimeoutMs: 150 }));
    expect(rows).toHaveLength(ROWS);
    expect(lines.some((l) => l.includes('no answer for 150 ms while receiving the response body'))).toBe(true);

    sim.stats.requests.length = 0;
    sim.faults.next({ kind: 'slow-body', delayMs: 100 });
    expect(await fetchOnce(source(sim, { idleTimeoutMs: 2_000 }))).toHaveLength(ROWS);
    expect(dataStatuses(sim)).toEqual([200]);
  });

  it('fails a 429 storm beyond the retry cap with a throttling message, and still signs out', async () => {
    const before = { in: sim.stats.signIns, out: sim.stats.signOuts };
    sim.faults.next({ kind: 'throttle', retryAfter: '1', times: 10 });
    const err = await fetchOnce(source(sim)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'TABLEAU_THROTTLED', retryable: true });
    expect((err as AppError).userMessage).toMatch(
      /HTTP 429; non-XML body: <!DOCTYPE html>.*429 Too Many Requests.*lower tableau.maxConcurrentExports/,
    );
    expect(dataStatuses(sim)).toEqual([429, 429, 429, 429]);
    expect(sim.stats.signIns - before.in).toBe(1);
    expect(sim.stats.signOuts - before.out).toBe(1);
  });

  it('fails clearly when every attempt is cut short, leaving no partial file', async () => {
    sim.faults.next({ kind: 'cut-body', times: 10 });
    const err = await fetchOnce(source(sim)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TABLEAU_TRUNCATED' });
    expect((err as Error).message).toMatch(/download was cut after \d+ bytes of \d+/);
  });

  it('fails fast on a cap smaller than the export', async () => {
    const err = await fetchOnce(source(sim, { maxBytes: 1000 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TABLEAU_TOO_LARGE', retryable: false });
    expect(dataStatuses(sim)).toEqual([200]);
  });

  it('serialises concurrent runs that share a PAT (one session per PAT at a time)', async () => {
    const src = source(sim);
    const before = sim.stats.sessionsReplaced;
    const runs = await Promise.all([
      fetchOnce(src),
      fetchOnce(src),
      fetchOnce(src, { ...opportunities(), view: 'Rep Performance' }),
    ]);
    expect(runs.map((r) => r.length)).toEqual([ROWS, ROWS, 12]);
    expect(sim.stats.maxConcurrentSessionsPerPat).toBe(1);
    expect(sim.stats.sessionsReplaced).toBe(before);
  });

  it('limits concurrent exports per site', async () => {
    const src = source(sim, { maxConcurrentExports: 2 });
    sim.faults.next({ kind: 'slow-body', delayMs: 150, times: 5 });
    const session = await src.open({ logger, signal });
    const tables = await Promise.all(
      Array.from({ length: 5 }, () => session.fetchView(opportunities(), { logger, signal, tempDir })),
    );
    await Promise.all(tables.map((t) => t.dispose()));
    await session.close();
    expect(sim.stats.maxConcurrentDataRequests).toBe(2);
  });

  it('signs in with a connected-app JWT (signature and claims checked by the simulator) and with a password', async () => {
    const jwt = source(sim, {
      auth: {
        type: 'connected-app',
        clientId: 'sim-client-id',
        secretId: 'sim-secret-id',
        secretValue: 'sim-connected-app-secret-value',
        username: 'ops@example.com',
      },
    });
    expect(await fetchOnce(jwt)).toHaveLength(ROWS);
    const password = source(sim, { auth: { type: 'password', username: 'ops@example.com', password: 'ops-password' } });
    expect(await fetchOnce(password)).toHaveLength(ROWS);
  });

  it('reports bad credentials with a hint and never retries them', async () => {
    const failedBefore = sim.stats.failedSignIns;
    const err = await fetchOnce(source(sim, { auth: { ...PAT, tokenSecret: 'wrong-secret' } })).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'TABLEAU_AUTH_FAILED' });
    expect((err as AppError).hint).toContain("personal access token 'export-bot'");
    expect(sim.stats.failedSignIns - failedBefore).toBe(1);
  });

  it('fails on an unknown view with candidates and the listing command', async () => {
    const err = await fetchOnce(source(sim), { ...opportunities(), view: 'Oportunities' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TABLEAU_VIEW_NOT_FOUND' });
    expect((err as AppError).userMessage).toContain(
      "candidates: 'Opportunities', 'Pipeline by Stage', 'Pipeline Overview', 'Rep Performance'",
    );
    expect((err as AppError).userMessage).toContain('run `tableau-export views --site sales`');
  });

  it('never writes a session token, PAT secret or JWT to the logs', () => {
    const log = lines.join('\n');
    expect(sim.issuedTokens().length).toBeGreaterThan(5);
    for (const token of sim.issuedTokens()) expect(log).not.toContain(token);
    expect(log).not.toContain(PAT.tokenSecret);
    expect(log).not.toContain('sim-connected-app-secret-value');
    expect(log).not.toMatch(/eyJ[A-Za-z0-9_-]{5,}\.eyJ/);
  });
});

describe('Tableau client against simulator variants', () => {
  it('follows the Cloud pod redirect at sign-in and parses ns0:-prefixed XML', async () => {
    const pod = await startSim({ podRedirect: true, xmlStyle: 'ns0' });
    try {
      const session = await source(pod).open({ logger, signal });
      const table = await session.fetchView(
        { ...opportunities(), contentUrl: 'SalesPipeline/sheets/RepPerformance', workbook: undefined, view: undefined },
        { logger, signal, tempDir },
      );
      expect(table.provenance['server']).toMatch(/^https:\/\/localhost:\d+$/);
      expect(table.provenance['view']).toBe('Rep Performance');
      expect(await collect(table)).toHaveLength(12);
      await table.dispose();
      await session.close();
      expect(pod.stats.signOuts).toBe(1);
      expect(pod.stats.requests.filter((r) => r.endpoint === 'signin').map((r) => r.status)).toEqual([302, 200]);
    } finally {
      await pod.close();
    }
  });

  it('fails as ambiguous on two workbooks with the same name, and resolves with a project', async () => {
    const dup = await startSim({ duplicateSalesPipelineIn: 'Sales Archive' });
    try {
      const src = source(dup);
      const err = await fetchOnce(src).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'TABLEAU_VIEW_AMBIGUOUS' });
      expect((err as Error).message).toMatch(
        /project 'Sales'.*project 'Sales Archive'|project 'Sales Archive'.*project 'Sales'/,
      );
      expect(await fetchOnce(src, { ...opportunities(), project: 'Sales Archive' })).toHaveLength(ROWS);
    } finally {
      await dup.close();
    }
  });

  it('shows that separate processes sharing a PAT kill each other (what the per-PAT lock prevents)', async () => {
    const shared = await startSim();
    try {
      const a = await source(shared).open({ logger, signal });
      const b = await source(shared).open({ logger, signal });
      const table = await a.fetchView(opportunities(), { logger, signal, tempDir });
      await table.dispose();
      await a.close();
      await b.close();
      expect(shared.stats.sessionsReplaced).toBeGreaterThanOrEqual(1);
      expect(shared.stats.maxConcurrentSessionsPerPat).toBe(2);
    } finally {
      await shared.close();
    }
  });

  it('rejects a server too old for view data export with the version needed', async () => {
    const old = await startSim({ restApiVersion: '3.5' });
    try {
      const err = await fetchOnce(
        source(old, {
          auth: { type: 'password', username: 'ops@example.com', password: 'ops-password' },
          apiVersion: '2.6',
        }),
      ).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'TABLEAU_SERVER_TOO_OLD' });
      expect((err as Error).message).toContain('Query View Data (CSV export) needs Tableau REST API 2.7 or later');
      expect((err as AppError).hint).toContain('set tableau.apiVersion to "auto" or to at least "2.7"');
    } finally {
      await old.close();
    }
  });
});
