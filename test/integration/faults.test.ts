/**
 * Fault suite: the real CLI against the simulators (and local CSV files), one fault at a time. Every case ends in
 * one of two ways (DESIGN.md "Failure policy"):
 * - a complete new workbook delivered (read back: the row counts are right), or
 * - a clear error (exit 1, an error code and a message naming the cause), the previous workbook byte-identical in
 *   the destination, no temp file left (stateDir/tmp empty, no `.tmp` next to local files), and the failed run in
 *   the history with its code.
 *
 * Each test owns its simulators and folders, so the tests run concurrently; the cases inside a test share one
 * simulator pair and run in order (faults are cleared between them).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'vitest';
import { generatePipeline, toTableauCsv } from '../../src/simulators/demo-data/pipeline-generator.js';
import type { RunReport } from '../../src/contracts/run-report.js';
import { REPO_ROOT, runCli, type CliResult } from './helpers/cli.js';
import { startSimEnv, SIM_USER, type SimEnv } from './helpers/sim-env.js';
import {
  makeSmallDisk,
  onlyReport,
  parseReports,
  reportOf,
  sheetHeader,
  sheetRows,
  storedRun,
  tempLeftovers,
  tmpFilesIn,
} from './helpers/faults-kit.js';

const ROWS_T = 300;
const ROWS_G = 500;

type Expect = TestContext['expect'];

/** Starts a simulator pair for one test and closes it (and removes its folder) when the test ends. */
async function simFor(ctx: TestContext, rows: number): Promise<SimEnv> {
  const sim = await startSimEnv({ rows });
  ctx.onTestFinished(async () => {
    await sim.close();
    await rm(sim.dir, { recursive: true, force: true });
  });
  return sim;
}

async function tempFolder(ctx: TestContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  ctx.onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A Tableau export of the Opportunities view into a local folder (`<sim dir>/out/<id>.xlsx`). */
function tableauToLocal(id: string, extra = ''): string {
  return `  - id: ${id}
    timezone: Europe/Paris
    views:
      - { workbook: Sales Pipeline, view: Opportunities${extra} }
    destination: { type: local, dir: ./out }
`;
}

/**
 * A Tableau export to OneDrive through an upload session of 320 KiB fragments (zipLevel 0 makes 500 rows about
 * 390 KB: two fragments), re-uploaded on every run so each run really delivers.
 */
function tableauToOneDrive(id: string, path: string, onLocked = '{ retryFor: 3s, then: fail }'): string {
  return `  - id: ${id}
    timezone: Europe/Paris
    views:
      - { workbook: Sales Pipeline, view: Opportunities }
    zipLevel: 0
    destination:
      type: onedrive
      drive: { user: ${SIM_USER} }
      path: ${path}
      skipUnchanged: false
      uploadSessionThreshold: 327680
      chunkSize: 327680
      onLocked: ${onLocked}
`;
}

/** Upload-URL requests, as the Graph simulator logs them (`PUT /up/…`, never the credential). */
const FRAGMENT = /^PUT \/up\//;

/** How many answers with `status` the Graph simulator gave to requests matching `op` (`METHOD /path`). */
const graphErrors = (sim: SimEnv, op: RegExp, status: number): number =>
  sim.graph.stats.errors.filter((e) => op.test(e.op) && e.status === status).length;

const run = (sim: SimEnv, cfg: string, ids: readonly string[]): Promise<CliResult> =>
  runCli(['run', ...ids, '--config', cfg, '--json'], { env: sim.env });

function describeRun(r: CliResult): string {
  return `exit ${String(r.code)}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr.slice(-4000)}`;
}

/** A success: exit 0, status succeeded, the workbook at `bytes` read back with the expected rows on `sheet`. */
async function expectDelivered(
  expect: Expect,
  r: CliResult,
  report: RunReport,
  bytes: Buffer | undefined,
  rows: number,
  sheet = 'Opportunities',
): Promise<void> {
  expect(report.status, describeRun(r)).toBe('succeeded');
  expect(report.error).toBeUndefined();
  expect(bytes, `no workbook at ${report.destination?.location ?? '?'}`).toBeDefined();
  expect(bytes?.length).toBe(report.bytes);
  expect((await sheetRows(bytes!))[sheet]).toBe(rows);
  expect(report.sheets.find((s) => s.sheet === sheet)?.rows).toBe(rows);
}

/** A clean failure: exit 1, the code, a message matching `cause`, recorded as failed in the history. */
function expectCleanFailure(
  expect: Expect,
  r: CliResult,
  report: RunReport,
  stateDir: string,
  code: string,
  cause: RegExp,
): void {
  expect(r.code, describeRun(r)).toBe(1);
  expect(report.status).toBe('failed');
  expect(report.error?.code, describeRun(r)).toBe(code);
  expect(report.error?.message).toMatch(cause);
  expect(report.bytes).toBe(0);
  const stored = storedRun(stateDir, report.runId);
  expect(stored?.status).toBe('failed');
  expect(stored?.error?.code).toBe(code);
  expect(stored?.error?.message).toBe(report.error?.message);
}

describe.concurrent('fault suite (real CLI against the simulators)', () => {
  it('Tableau 429 storm: recovers without Retry-After, waits for Retry-After, fails cleanly when it never ends', async (ctx) => {
    const { expect } = ctx;
    const sim = await simFor(ctx, ROWS_T);
    const cfg = await sim.writeConfig(tableauToLocal('t429'));
    const stateDir = join(sim.dir, 'state');
    const file = join(sim.dir, 'out', 't429.xlsx');

    const base = await run(sim, cfg, ['t429']);
    await expectDelivered(expect, base, onlyReport(base), await readFile(file), ROWS_T);

    // Three 429s in a row (no Retry-After): backoff, then the data.
    sim.tableau.faults.next({ kind: 'throttle', times: 3 });
    const before429 = sim.tableau.stats.requests.filter((q) => q.status === 429).length;
    const storm = await run(sim, cfg, ['t429']);
    await expectDelivered(expect, storm, onlyReport(storm), await readFile(file), ROWS_T);
    expect(sim.tableau.stats.requests.filter((q) => q.status === 429).length - before429).toBe(3);
    expect(sim.tableau.faults.pending).toBe(0);

    // Two 429s with Retry-After: 1 → at least two seconds of waiting before the data.
    sim.tableau.faults.next({ kind: 'throttle', retryAfter: '1', times: 2 });
    const polite = await run(sim, cfg, ['t429']);
    const politeReport = onlyReport(polite);
    await expectDelivered(expect, polite, politeReport, await readFile(file), ROWS_T);
    expect(politeReport.durationMs).toBeGreaterThanOrEqual(1900);

    // A storm longer than the retry budget: a clear TABLEAU_THROTTLED failure and the previous file untouched.
    const previous = await readFile(file);
    sim.tableau.faults.next({ kind: 'throttle', times: 50 });
    const endless = await run(sim, cfg, ['t429']);
    sim.tableau.faults.clear();
    expectCleanFailure(expect, endless, onlyReport(endless), stateDir, 'TABLEAU_THROTTLED', /HTTP 429/);
    expect((await readFile(file)).equals(previous)).toBe(true);
    expect(await tempLeftovers(stateDir)).toEqual([]);
    expect(await tmpFilesIn(join(sim.dir, 'out'))).toEqual([]);
    expect(sim.tableau.stats.signOuts).toBe(sim.tableau.stats.signIns);
  });

  it('Tableau 503 once then success; an HTML error page that persists fails clearly', async (ctx) => {
    const { expect } = ctx;
    const sim = await simFor(ctx, ROWS_T);
    const cfg = await sim.writeConfig(tableauToLocal('t503'));
    const stateDir = join(sim.dir, 'state');
    const file = join(sim.dir, 'out', 't503.xlsx');

    const base = await run(sim, cfg, ['t503']);
    await expectDelivered(expect, base, onlyReport(base), await readFile(file), ROWS_T);

    sim.tableau.faults.next({ kind: 'unavailable' });
    const once = await run(sim, cfg, ['t503']);
    await expectDelivered(expect, once, onlyReport(once), await readFile(file), ROWS_T);
    expect(sim.tableau.stats.requests.some((q) => q.status === 503)).toBe(true);

    const previous = await readFile(file);
    sim.tableau.faults.next({ kind: 'html-error', status: 502, times: 50 });
    const proxy = await run(sim, cfg, ['t503']);
    sim.tableau.faults.clear();
    const report = onlyReport(proxy);
    expectCleanFailure(expect, proxy, report, stateDir, 'TABLEAU_SERVER_ERROR', /HTTP 502/);
    // The cause is named: it was not Tableau's XML but a proxy's HTML page.
    expect(report.error?.message).toMatch(/non-XML body.*502 Bad Gateway/);
    expect((await readFile(file)).equals(previous)).toBe(true);
    expect(await tempLeftovers(stateDir)).toEqual([]);
    expect(await tmpFilesIn(join(sim.dir, 'out'))).toEqual([]);
  });

  it('Tableau session expired mid-run (401002): signs in again once and delivers', async (ctx) => {
    const { expect } = ctx;
    const sim = await simFor(ctx, ROWS_T);
    const cfg = await sim.writeConfig(`  - id: t401
    views:
      - { workbook: Sales Pipeline, view: Opportunities }
      - { workbook: Sales Pipeline, view: Rep Performance }
    destination: { type: local, dir: ./out }
`);
    // The session dies after sign-in and the view lookup, on the first data request.
    sim.tableau.faults.next({ kind: 'expire-session' });
    const r = await run(sim, cfg, ['t401']);
    const report = onlyReport(r);
    await expectDelivered(expect, r, report, await readFile(join(sim.dir, 'out', 't401.xlsx')), ROWS_T);
    expect(sim.tableau.stats.signIns).toBe(2);
    expect(sim.tableau.stats.requests.filter((q) => q.status === 401).length).toBe(1);
    expect(sim.tableau.stats.maxConcurrentSessionsPerPat).toBe(1);
    expect(report.sheets.map((s) => s.sheet)).toEqual(['Opportunities', 'Rep Performance']);
  });

  it('Tableau body cut in the middle: retried and delivered once; a clear TABLEAU_TRUNCATED failure when it keeps happening', async (ctx) => {
    const { expect } = ctx;
    const sim = await simFor(ctx, ROWS_T);
    const cfg = await sim.writeConfig(tableauToLocal('tcut'));
    const stateDir = join(sim.dir, 'state');
    const file = join(sim.dir, 'out', 'tcut.xlsx');

    sim.tableau.faults.next({ kind: 'cut-body' });
    const once = await run(sim, cfg, ['tcut']);
    await expectDelivered(expect, once, onlyReport(once), await readFile(file), ROWS_T);
    expect(sim.tableau.stats.requests.filter((q) => q.endpoint === 'data').length).toBe(2);

    const previous = await readFile(file);
    sim.tableau.faults.next({ kind: 'cut-body', chunked: true, times: 50 });
    const cut = await run(sim, cfg, ['tcut']);
    sim.tableau.faults.clear();
    expectCleanFailure(expect, cut, onlyReport(cut), stateDir, 'TABLEAU_TRUNCATED', /cut|closed|aborted/i);
    expect((await readFile(file)).equals(previous)).toBe(true);
    expect(await tempLeftovers(stateDir)).toEqual([]);
    expect(await tmpFilesIn(join(sim.dir, 'out'))).toEqual([]);
  });

  it('empty view (warning, or failure with onEmpty: fail) and a filter on a field that does not exist (warning)', async (ctx) => {
    const { expect } = ctx;
    const sim = await simFor(ctx, ROWS_T);
    const stateDir = join(sim.dir, 'state');
    const exportsWith = (region: string): string =>
      tableauToLocal('empty-warn', `, filters: { Region: ${region} }`) +
      tableauToLocal('empty-fail', `, filters: { Region: ${region} }, onEmpty: fail`) +
      tableauToLocal('nofield', ', filters: { Regio: EMEA }');
    const good = await sim.writeConfig(exportsWith('EMEA'), { name: 'good.yaml' });
    const bad = await sim.writeConfig(exportsWith('Atlantis'), { name: 'bad.yaml' });

    const first = await run(sim, good, ['empty-warn', 'empty-fail', 'nofield']);
    expect(first.code, describeRun(first)).toBe(0);
    const emeaRows = reportOf(parseReports(first), 'empty-fail').rows;
    expect(emeaRows).toBeGreaterThan(0);
    expect(emeaRows).toBeLessThan(ROWS_T);
    const previous = await readFile(join(sim.dir, 'out', 'empty-fail.xlsx'));

    const second = await run(sim, bad, ['empty-warn', 'empty-fail', 'nofield']);
    expect(second.code, describeRun(second)).toBe(1);
    const reports = parseReports(second);

    const warned = reportOf(reports, 'empty-warn');
    await expectDelivered(expect, second, warned, await readFile(join(sim.dir, 'out', 'empty-warn.xlsx')), 0);
    expect(warned.warnings.join('\n')).toMatch(/Opportunities.*no rows/);

    const failed = reportOf(reports, 'empty-fail');
    expectCleanFailure(expect, second, failed, stateDir, 'VIEW_EMPTY', /no rows.*filters matched nothing/);
    expect(failed.error?.message).toMatch(/onEmpty: warn/);
    expect((await readFile(join(sim.dir, 'out', 'empty-fail.xlsx'))).equals(previous)).toBe(true);

    // Tableau ignores the unknown field and sends every row: delivered, with a warning naming the field.
    const unfiltered = reportOf(reports, 'nofield');
    await expectDelivered(expect, second, unfiltered, await readFile(join(sim.dir, 'out', 'nofield.xlsx')), ROWS_T);
    expect(unfiltered.warnings.join('\n')).toMatch(/"Regio" is not a column/);

    expect(await tempLeftovers(stateDir)).toEqual([]);
    expect(await tmpFilesIn(join(sim.dir, 'out'))).toEqual([]);
  });

  it('schema change in a CSV view: a removed column is a warning naming it; without a column the metrics need, the data is delivered without metrics and an alert', async (ctx) => {
    const { expect } = ctx;
    const dir = await tempFolder(ctx, 'tee-faults-schema-');
    const stateDir = join(dir, 'state');
    const data = generatePipeline({ seed: 7, count: 200, asOf: new Date(Date.UTC(2026, 10, 27)) });
    const writeCsv = async (name: string, without?: string): Promise<void> => {
      const drop = without === undefined ? -1 : data.header.indexOf(without);
      const keep = (row: readonly string[]): string[] => row.filter((_, i) => i !== drop);
      await writeFile(join(dir, name), toTableauCsv(keep(data.header), data.rows.map(keep)));
    };
    await Promise.all([writeCsv('plain.csv'), writeCsv('metrics-amount.csv'), writeCsv('metrics-region.csv')]);
    const cfg = join(dir, 'exports.yaml');
    const exportOf = (id: string, withMetrics: boolean): string => `  - id: ${id}
    timezone: Europe/Paris
    views:
      - { file: ./${id}.csv, sheet: Opportunities }
${withMetrics ? '    metrics: { from: Opportunities }\n' : ''}    destination: { type: local, dir: ./out }
`;
    await writeFile(
      cfg,
      `timezone: Europe/Paris\nstateDir: ./state\nexports:\n${exportOf('plain', false)}${exportOf('metrics-amount', true)}${exportOf('metrics-region', true)}`,
    );
    const runAll = (): Promise<CliResult> => runCli(['run', '--all', '--config', cfg, '--json']);

    const first = await runAll();
    expect(first.code, describeRun(first)).toBe(0);
    for (const r of parseReports(first)) expect(r.warnings.filter((w) => /column/i.test(w))).toEqual([]);
    const previousAmount = await readFile(join(dir, 'out', 'metrics-amount.xlsx'));

    await Promise.all([
      writeCsv('plain.csv', 'Region'),
      writeCsv('metrics-amount.csv', 'Amount'),
      writeCsv('metrics-region.csv', 'Region'),
    ]);
    const second = await runAll();
    const reports = parseReports(second);
    expect(reports.map((r) => r.exportId)).toEqual(['plain', 'metrics-amount', 'metrics-region']);

    // Not a crash: the run delivers the data as it now is, and says which column went missing.
    const plain = reportOf(reports, 'plain');
    const plainBytes = await readFile(join(dir, 'out', 'plain.xlsx'));
    await expectDelivered(expect, second, plain, plainBytes, 200);
    expect(await sheetHeader(plainBytes, 'Opportunities')).not.toContain('Region');
    expect(plain.warnings.join('\n'), `warnings: ${JSON.stringify(plain.warnings)}`).toMatch(/column "Region"/);

    // Region is an optional metrics column (default mapping): metrics still computed, the missing column reported.
    const region = reportOf(reports, 'metrics-region');
    await expectDelivered(expect, second, region, await readFile(join(dir, 'out', 'metrics-region.xlsx')), 200);
    expect(region.warnings.join('\n'), `warnings: ${JSON.stringify(region.warnings)}`).toMatch(/Region/);

    // Amount feeds the metrics: the data is still delivered, the metrics are not computed (no stale Summary), and
    // the run says so loudly, naming the column and the setting to change.
    const amount = reportOf(reports, 'metrics-amount');
    const amountBytes = await readFile(join(dir, 'out', 'metrics-amount.xlsx'));
    await expectDelivered(expect, second, amount, amountBytes, 200);
    const metricsWarning =
      /metrics not computed: .*"Amount" \(metrics\.columns\.amount\) not found in sheet "Opportunities"/;
    expect(amount.warnings.join('\n')).toMatch(metricsWarning);
    expect(amount.alerts?.join('\n')).toMatch(metricsWarning);
    expect(Object.keys(await sheetRows(previousAmount))).toContain('Summary');
    expect(Object.keys(await sheetRows(amountBytes))).not.toContain('Summary');
    expect(second.code, describeRun(second)).toBe(0);
    expect(await tempLeftovers(stateDir)).toEqual([]);
    expect(await tmpFilesIn(join(dir, 'out'))).toEqual([]);
  });

  it('Graph 429 and 503 with Retry-After, and 423 for a while then free: delivered', async (ctx) => {
    const { expect } = ctx;
    const sim = await simFor(ctx, ROWS_G);
    const path = 'Reports/Throttled.xlsx';
    const cfg = await sim.writeConfig(tableauToOneDrive('gthrottle', path));
    const location = `${SIM_USER}/${path}`;

    const base = await run(sim, cfg, ['gthrottle']);
    await expectDelivered(expect, base, onlyReport(base), await sim.graph.readFile(location), ROWS_G);
    expect(sim.graph.stats.fragmentSizes.length).toBeGreaterThanOrEqual(2);

    sim.graph.faults.throttle({ ops: ['createUploadSession'], status: 429, retryAfter: '1' });
    sim.graph.faults.throttle({ ops: ['uploadFragment'], status: 503, retryAfter: '1', skip: 1 });
    const throttled = await run(sim, cfg, ['gthrottle']);
    const report = onlyReport(throttled);
    await expectDelivered(expect, throttled, report, await sim.graph.readFile(location), ROWS_G);
    expect(graphErrors(sim, /createUploadSession$/, 429)).toBe(1);
    expect(graphErrors(sim, FRAGMENT, 503)).toBe(1);
    expect(report.durationMs).toBeGreaterThanOrEqual(1900);
    expect(sim.graph.faults.pending()).toEqual([]);
    expect(sim.graph.itemInfo(location)?.versions).toBe(2);

    // Locked for the first three attempts (a count, not a time: the CLI's start-up time would eat a short lock).
    sim.graph.faults.lock(path, { attempts: 3 });
    const locked = await run(sim, cfg, ['gthrottle']);
    await expectDelivered(expect, locked, onlyReport(locked), await sim.graph.readFile(location), ROWS_G);
    expect(graphErrors(sim, /createUploadSession$/, 423)).toBe(3);
    expect(sim.graph.itemInfo(location)?.versions).toBe(3);
    expect(sim.graph.openUploadSessions()).toBe(0);
    expect(await tempLeftovers(join(sim.dir, 'state'))).toEqual([]);
  });

  it('dropped fragments (before and after the server stored it) and a 416: resumed and delivered', async (ctx) => {
    const { expect } = ctx;
    const sim = await simFor(ctx, ROWS_G);
    const path = 'Reports/Fragments.xlsx';
    const cfg = await sim.writeConfig(tableauToOneDrive('gfrag', path));
    const location = `${SIM_USER}/${path}`;

    sim.graph.faults.dropFragment({ when: 'before-store' });
    sim.graph.faults.rangeError({ skip: 1 });
    const first = await run(sim, cfg, ['gfrag']);
    await expectDelivered(expect, first, onlyReport(first), await sim.graph.readFile(location), ROWS_G);
    expect(graphErrors(sim, FRAGMENT, 416)).toBe(1);
    expect(sim.graph.faults.pending()).toEqual([]);

    // Stored, then the connection dropped: the client must learn from the session that the bytes arrived.
    sim.graph.faults.dropFragment({ when: 'after-store' });
    const second = await run(sim, cfg, ['gfrag']);
    const bytes = await sim.graph.readFile(location);
    await expectDelivered(expect, second, onlyReport(second), bytes, ROWS_G);
    expect(sim.graph.itemInfo(location)?.versions).toBe(2);
    expect(sim.graph.stats.uploadSessionsCreated).toBe(2);
    expect(sim.graph.openUploadSessions()).toBe(0);
  });

  it('an upload session that expired (404) and a 401 in the middle of an upload: a new session, delivered', async (ctx) => {
    const { expect } = ctx;
    const sim = await simFor(ctx, ROWS_G);
    const path = 'Reports/Sessions.xlsx';
    const cfg = await sim.writeConfig(tableauToOneDrive('gsess', path));
    const location = `${SIM_USER}/${path}`;

    sim.graph.faults.expireSession({ skip: 1 });
    const expired = await run(sim, cfg, ['gsess']);
    await expectDelivered(expect, expired, onlyReport(expired), await sim.graph.readFile(location), ROWS_G);
    expect(sim.graph.stats.uploadSessionsCreated).toBe(2);

    // The upload URL's credential is refused on the second fragment, and the bearer token when the new session is
    // created: a new session, a fresh token, delivered.
    const sessionsBefore = sim.graph.stats.uploadSessionsCreated;
    const tokensBefore = sim.graph.stats.tokensIssued;
    sim.graph.faults.add({
      ops: ['uploadFragment'],
      status: 401,
      codes: ['unauthenticated'],
      message: 'The upload session credential expired.',
      skip: 1,
    });
    sim.graph.faults.add({
      ops: ['createUploadSession'],
      status: 401,
      codes: ['InvalidAuthenticationToken'],
      message: 'Access token has expired or is not yet valid.',
      skip: 1,
    });
    const unauth = await run(sim, cfg, ['gsess']);
    await expectDelivered(expect, unauth, onlyReport(unauth), await sim.graph.readFile(location), ROWS_G);
    expect(sim.graph.stats.uploadSessionsCreated - sessionsBefore).toBe(2);
    expect(sim.graph.stats.tokensIssued - tokensBefore).toBe(2);
    expect(sim.graph.faults.pending()).toEqual([]);
    expect(sim.graph.itemInfo(location)?.versions).toBe(2);
    expect(sim.graph.openUploadSessions()).toBe(0);
  });

  it('423 forever: then fail keeps the previous file; then side-by-side writes a dated copy next to it', async (ctx) => {
    const { expect } = ctx;
    const sim = await simFor(ctx, ROWS_G);
    const path = 'Reports/Locked.xlsx';
    const cfg = await sim.writeConfig(
      tableauToOneDrive('glock-fail', path, '{ retryFor: 1s, then: fail }') +
        tableauToOneDrive('glock-sbs', path, '{ retryFor: 1s, then: side-by-side }'),
    );
    const stateDir = join(sim.dir, 'state');
    const location = `${SIM_USER}/${path}`;

    const base = await run(sim, cfg, ['glock-fail']);
    await expectDelivered(expect, base, onlyReport(base), await sim.graph.readFile(location), ROWS_G);
    const previous = await sim.graph.readFile(location);

    sim.graph.faults.lock(path, { forMs: 120_000 });
    const r = await run(sim, cfg, ['glock-fail', 'glock-sbs']);
    sim.graph.faults.clear();
    const reports = parseReports(r);

    const failed = reportOf(reports, 'glock-fail');
    expectCleanFailure(
      expect,
      r,
      failed,
      stateDir,
      'ONEDRIVE_LOCKED',
      /Reports\/Locked\.xlsx.*locked.*previous version is unchanged/,
    );

    const sbs = reportOf(reports, 'glock-sbs');
    const stamp = `${sbs.startedAt.slice(0, 10)} ${sbs.startedAt.slice(11, 13)}${sbs.startedAt.slice(14, 16)}`;
    expect(sbs.destination?.location).toBe(`${SIM_USER}/Reports/Locked (refreshed ${stamp}).xlsx`);
    await expectDelivered(expect, r, sbs, await sim.graph.readFile(sbs.destination?.location ?? ''), ROWS_G);
    expect(sbs.warnings.join('\n')).toMatch(/locked.*Locked \(refreshed .*\)\.xlsx/);

    // The original: byte-identical, still one version.
    expect((await sim.graph.readFile(location))?.equals(previous!)).toBe(true);
    expect(sim.graph.itemInfo(location)?.versions).toBe(1);
    expect(sim.graph.openUploadSessions()).toBe(0);
    expect(await tempLeftovers(stateDir)).toEqual([]);
  });

  it('process killed (SIGKILL) mid-upload: the previous file stays intact, the next run delivers', async (ctx) => {
    const { expect } = ctx;
    const sim = await simFor(ctx, ROWS_G);
    const path = 'Reports/Killed.xlsx';
    const cfg = await sim.writeConfig(tableauToOneDrive('gkill', path));
    const stateDir = join(sim.dir, 'state');
    const location = `${SIM_USER}/${path}`;

    const base = await run(sim, cfg, ['gkill']);
    await expectDelivered(expect, base, onlyReport(base), await sim.graph.readFile(location), ROWS_G);
    const previous = await sim.graph.readFile(location);

    // The second fragment is throttled for a long while: the upload is stuck half-way when the process dies.
    sim.graph.faults.throttle({ ops: ['uploadFragment'], status: 503, retryAfter: '2', skip: 1, times: 100 });
    const accepted = sim.graph.stats.fragmentsAccepted;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', `${REPO_ROOT}src/cli/main.ts`, 'run', 'gkill', '--config', cfg, '--json'],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, LOG_LEVEL: 'warn', ...sim.env },
        stdio: 'ignore',
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    ctx.onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const deadline = Date.now() + 60_000;
    while (!(sim.graph.stats.fragmentsAccepted > accepted && graphErrors(sim, FRAGMENT, 503) > 0)) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`the upload never got half-way (exit ${String(child.exitCode)})`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    // In between: the previous workbook is whole and current; the half-finished upload is not visible.
    expect((await sim.graph.readFile(location))?.equals(previous!)).toBe(true);
    expect(sim.graph.itemInfo(location)?.versions).toBe(1);

    sim.graph.faults.clear();
    const again = await run(sim, cfg, ['gkill']);
    await expectDelivered(expect, again, onlyReport(again), await sim.graph.readFile(location), ROWS_G);
    expect(sim.graph.itemInfo(location)?.versions).toBe(2);
    // Nothing of the killed run may stay behind in the state folder once the tool runs again.
    expect(await tempLeftovers(stateDir), 'temp folder of the killed run left in stateDir/tmp').toEqual([]);
  });

  it('disk full while writing the temp workbook: WORKBOOK_WRITE_FAILED, the previous workbook intact, nothing left behind', async (ctx) => {
    const { expect } = ctx;
    const dir = await tempFolder(ctx, 'tee-faults-disk-');
    const stateDir = join(dir, 'state');
    const out = join(dir, 'out');
    const csv = (count: number): string => {
      const d = generatePipeline({ seed: 11, count, asOf: new Date(Date.UTC(2026, 10, 27)) });
      return toTableauCsv(d.header, d.rows);
    };
    const cfg = join(dir, 'exports.yaml');
    await writeFile(
      cfg,
      `timezone: Europe/Paris
stateDir: ./state
exports:
  - id: disk
    views:
      - { file: ./pipeline.csv, sheet: Opportunities }
    zipLevel: 0
    destination: { type: local, dir: ./out }
`,
    );
    await writeFile(join(dir, 'pipeline.csv'), csv(50));
    const base = await runCli(['run', 'disk', '--config', cfg, '--json']);
    await expectDelivered(expect, base, onlyReport(base), await readFile(join(out, 'disk.xlsx')), 50);
    const previous = await readFile(join(out, 'disk.xlsx'));

    // 2,000 rows uncompressed make a workbook of about 1.5 MB; the temp folder gets 256 KiB.
    await writeFile(join(dir, 'pipeline.csv'), csv(2000));
    await mkdir(join(stateDir, 'tmp'), { recursive: true });
    const disk = await makeSmallDisk(join(stateDir, 'tmp'), 256);
    let full: CliResult;
    let leftovers: string[];
    try {
      full = await disk.runCli(['run', 'disk', '--config', cfg, '--json'], {});
      leftovers = await tempLeftovers(stateDir);
    } finally {
      await disk.release();
    }
    const report = onlyReport(full);
    expectCleanFailure(
      expect,
      full,
      report,
      stateDir,
      'WORKBOOK_WRITE_FAILED',
      disk.kind === 'tmpfs' ? /ENOSPC|no space/i : /EFBIG|too large/i,
    );
    // The message names the file that could not be written: the run's temp copy of disk.xlsx, in stateDir/tmp.
    expect(report.error?.message).toContain(join(stateDir, 'tmp'));
    expect(report.error?.message).toMatch(/disk-1\.xlsx/);
    expect(leftovers).toEqual([]);
    expect((await readFile(join(out, 'disk.xlsx'))).equals(previous)).toBe(true);
    expect(await tmpFilesIn(out)).toEqual([]);
  });
});
