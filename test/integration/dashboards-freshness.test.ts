/**
 * Whole dashboards and the freshness guard through the real CLI against the Tableau simulator: a dashboard with three
 * published worksheets and a hidden one, the Metadata API switched off (the fallback), a stale extract under each
 * `freshness.then`, a live connection, and `validate --online` listing the sheets and the data age. Workbooks are
 * read back with exceljs.
 */
import { createServer, type Server } from 'node:https';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulatorTls } from '../../src/simulators/tls.js';
import { isoWithOffset } from '../../src/shared/time.js';
import { runCli } from './helpers/cli.js';
import { startSimEnv, type SimEnv } from './helpers/sim-env.js';

let sim: SimEnv;
let webhook: Server;
let webhookUrl: string;
let hookCaFile: string;
const posted: string[] = [];
const HOUR = 3_600_000;

beforeAll(async () => {
  sim = await startSimEnv({ rows: 120 });
  // Webhooks are https only, and one on 127.0.0.1 needs allowPrivate: a local HTTPS hook with its own CA.
  const tls = await createSimulatorTls(join(sim.dir, 'hook-tls'));
  hookCaFile = tls.caFile;
  webhook = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      posted.push((JSON.parse(body) as { text: string }).text);
      res.writeHead(200).end('1');
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  webhookUrl = `https://127.0.0.1:${(webhook.address() as { port: number }).port}/hook`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => webhook.close(() => resolve()));
  await sim.close();
});

interface Report {
  status: string;
  sheets: { sheet: string; rows: number }[];
  warnings: string[];
  alerts?: string[];
  note?: string;
  error?: { code: string; message: string };
  destination?: { location: string };
}

async function run(config: string, exportId: string): Promise<{ code: number | null; report: Report; stderr: string }> {
  const res = await runCli(['run', exportId, '--config', config, '--json'], {
    env: { ...sim.env, DASH_TEST_WEBHOOK: webhookUrl },
  });
  return { code: res.code, report: JSON.parse(res.stdout.trim()) as Report, stderr: res.stderr };
}

function localExport(id: string, views: string, extra = ''): string {
  return `  - id: ${id}
    views:
${views}
    destination: { type: local, dir: ./out-${id}, fileName: ${id}.xlsx }
    notify: { webhookUrlEnv: DASH_TEST_WEBHOOK, allowPrivate: true, caFile: ${hookCaFile} }
${extra}`;
}

async function readBook(path: string): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(path);
  return wb;
}

/** A cell as text: dates in ISO 8601 (their UTC fields are the wall clock shown), numbers and strings as they are. */
function cellText(value: ExcelJS.CellValue): string {
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

/** The About sheet as `label → value` pairs (column A → column B), in order. */
function aboutRows(wb: ExcelJS.Workbook): [string, string][] {
  const rows: [string, string][] = [];
  wb.getWorksheet('About')?.eachRow((row) =>
    rows.push([cellText(row.getCell(1).value), cellText(row.getCell(2).value)]),
  );
  return rows;
}

describe('whole dashboards', () => {
  it('exports the three published worksheets of a dashboard in its order, and names the hidden one', async () => {
    sim.tableau.setMetadataApi(true);
    const config = await sim.writeConfig(
      [
        localExport('overview', '      - dashboard: { workbook: Sales Pipeline, name: Pipeline Overview }'),
        localExport('by-url', '      - dashboard: { contentUrl: SalesPipeline/sheets/PipelineOverview }'),
      ].join('\n'),
    );
    const { code, report } = await run(config, 'overview');
    expect(code).toBe(0);
    expect(report.status).toBe('succeeded');
    expect(report.sheets.map((s) => s.sheet)).toEqual(['Pipeline by Stage', 'Rep Performance', 'Opportunities']);
    expect(report.sheets[2]?.rows).toBe(120);
    const hidden = report.warnings.filter((w) => w.includes("'Stage Targets'"));
    expect(hidden).toEqual([expect.stringContaining('hidden (not published as a view) and cannot be exported')]);

    const wb = await readBook(join(sim.dir, 'out-overview', 'overview.xlsx'));
    expect(wb.worksheets.map((w) => w.name)).toEqual([
      'Pipeline by Stage',
      'Rep Performance',
      'Opportunities',
      'About',
    ]);
    expect(wb.getWorksheet('Rep Performance')?.getRow(1).getCell(1).value).toBe('Owner');
    expect(wb.getWorksheet('Opportunities')?.getRow(1).getCell(1).value).toBe('Opportunity ID');
    const about = aboutRows(wb);
    expect(about.filter(([k, v]) => k === 'Warning' && v.includes("'Stage Targets'"))).toHaveLength(1);

    const byUrl = await run(config, 'by-url');
    expect(byUrl.report.sheets.map((s) => s.sheet)).toEqual(['Pipeline by Stage', 'Rep Performance', 'Opportunities']);
  });

  it("falls back to the workbook's worksheets, with a warning, when the Metadata API is disabled", async () => {
    sim.tableau.setMetadataApi(false);
    try {
      const config = await sim.writeConfig(
        localExport('fallback', '      - dashboard: { workbook: Sales Pipeline, name: Pipeline Overview }'),
      );
      const { code, report } = await run(config, 'fallback');
      expect(code).toBe(0);
      expect(report.status).toBe('succeeded');
      // REST lists the workbook's worksheets in the workbook's order; which of them the dashboard shows is unknown.
      expect(report.sheets.map((s) => s.sheet)).toEqual(['Opportunities', 'Pipeline by Stage', 'Rep Performance']);
      expect(report.warnings).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /could not read which sheets dashboard 'Pipeline Overview' of workbook 'Sales Pipeline' shows \(.*Metadata API is disabled.*FEATURE_DISABLED.*\); exported every worksheet of the workbook instead/,
          ),
        ]),
      );
    } finally {
      sim.tableau.setMetadataApi(true);
    }
  });
});

describe('the freshness guard', () => {
  const opportunities = '      - { workbook: Sales Pipeline, view: Opportunities }';

  it('warn: delivers stale data with a warning, the webhook alert, and "Data as of" on About and Summary', async () => {
    const refreshed = new Date(Date.now() - 3 * 24 * HOUR);
    sim.tableau.setExtractRefreshedAt(refreshed);
    const config = await sim.writeConfig(
      localExport(
        'stale-warn',
        opportunities,
        '    metrics: { from: Opportunities }\n    freshness: { maxAge: 26h, then: warn }',
      ),
    );
    posted.length = 0;
    const { code, report } = await run(config, 'stale-warn');
    expect(code).toBe(0);
    expect(report.status).toBe('succeeded');
    const stale = report.warnings.filter((w) => w.includes('older than freshness.maxAge'));
    expect(stale).toEqual([
      expect.stringMatching(
        /^Opportunities: the data of view 'Opportunities' is 3d old \(extract 'Sales Pipeline \(extract\)' last refreshed .*\), older than freshness.maxAge 1d 2h; delivered anyway/,
      ),
    ]);
    expect(report.alerts).toEqual([expect.stringContaining('older than freshness.maxAge 1d 2h')]);
    expect(posted).toEqual([expect.stringContaining('older than freshness.maxAge 1d 2h')]);

    const wb = await readBook(join(sim.dir, 'out-stale-warn', 'stale-warn.xlsx'));
    const about = aboutRows(wb);
    // Dates on the sheets are wall-clock times of the export's zone (the config's Europe/Paris).
    const iso = isoWithOffset(refreshed, 'Europe/Paris');
    const wall = `${iso.slice(0, 19)}.000Z`;
    expect(about).toEqual(
      expect.arrayContaining([
        ['Data as of', wall],
        ['Data as of (ISO 8601)', iso],
        ['  Data as of', iso],
      ]),
    );
    const summary = wb.getWorksheet('Summary');
    const cells: unknown[] = [];
    summary?.eachRow((row) => row.eachCell((c) => cells.push(c.value)));
    const at = cells.findIndex((v) => v === 'Data as of');
    expect(at).toBeGreaterThanOrEqual(0);
    expect((cells[at + 1] as Date).toISOString()).toBe(wall);
  });

  it('skip: keeps the previous file and records a skipped (stale data) run', async () => {
    sim.tableau.setExtractRefreshedAt(undefined); // fresh: one hour old
    const config = await sim.writeConfig(
      localExport('stale-skip', opportunities, '    freshness: { maxAge: 26h, then: skip }'),
    );
    const first = await run(config, 'stale-skip');
    expect(first.report.status).toBe('succeeded');
    const file = join(sim.dir, 'out-stale-skip', 'stale-skip.xlsx');
    const before = { bytes: await readFile(file), mtime: (await stat(file)).mtimeMs };

    sim.tableau.setExtractRefreshedAt(new Date(Date.now() - 30 * HOUR));
    posted.length = 0;
    const dataRequests = sim.tableau.stats.requests.filter((r) => r.endpoint === 'data').length;
    const { code, report } = await run(config, 'stale-skip');
    expect(code).toBe(0);
    expect(report.status).toBe('skipped');
    expect(report.note).toMatch(
      /^skipped \(stale data\): the data of view 'Opportunities' is 1d 6h old .* older than freshness.maxAge 1d 2h; teammates keep the file of /,
    );
    expect(report.destination?.location).toBe(file);
    // Nothing fetched, nothing written.
    expect(sim.tableau.stats.requests.filter((r) => r.endpoint === 'data').length).toBe(dataRequests);
    expect((await stat(file)).mtimeMs).toBe(before.mtime);
    expect((await readFile(file)).equals(before.bytes)).toBe(true);
    expect(posted).toEqual([expect.stringContaining('skipped (stale data)')]);

    const history = await runCli(['history', 'stale-skip', '--config', config], { env: sim.env });
    expect(history.stdout).toMatch(/skipped .*skipped \(stale data\): the data of view/);
  });

  it("fail: a view's own freshness overrides the export's and fails the run with DATA_STALE", async () => {
    sim.tableau.setExtractRefreshedAt(new Date(Date.now() - 50 * HOUR));
    const config = await sim.writeConfig(
      localExport(
        'stale-fail',
        `${opportunities.slice(0, -2)}, freshness: { maxAge: 1d, then: fail } }`,
        '    freshness: { maxAge: 26h, then: warn }',
      ),
    );
    const { code, report } = await run(config, 'stale-fail');
    expect(code).toBe(1);
    expect(report.status).toBe('failed');
    expect(report.error?.code).toBe('DATA_STALE');
    expect(report.error?.message).toMatch(
      /the data of view 'Opportunities' is 2d 2h old .*older than freshness.maxAge 1d; check the extract refresh schedule/,
    );
  });

  it('counts a live connection as fresh, and says so on the About sheet', async () => {
    sim.tableau.setExtractRefreshedAt(new Date(Date.now() - 500 * HOUR));
    const config = await sim.writeConfig(
      localExport(
        'live',
        '      - { workbook: Marketing Funnel, view: Leads by Source }',
        '    freshness: { maxAge: 1h, then: fail }',
      ),
    );
    const { code, report } = await run(config, 'live');
    expect(code).toBe(0);
    expect(report.status).toBe('succeeded');
    expect(report.warnings.filter((w) => w.includes('freshness'))).toEqual([]);
    const about = aboutRows(await readBook(join(sim.dir, 'out-live', 'live.xlsx')));
    expect(about).toEqual(expect.arrayContaining([['Data as of', 'live connection (current at the refresh)']]));
  });
});

describe('validate --online', () => {
  it("lists the dashboard's sheets and each view's data age", async () => {
    sim.tableau.setExtractRefreshedAt(new Date(Date.now() - 30 * HOUR));
    const config = await sim.writeConfig(
      localExport(
        'check',
        [
          '      - dashboard: { workbook: Sales Pipeline, name: Pipeline Overview }',
          '      - { workbook: Sales Pipeline, view: Opportunities, sheet: Opps }',
          '      - { workbook: Marketing Funnel, view: Leads by Source }',
        ].join('\n'),
        '    freshness: { maxAge: 26h, then: skip }',
      ),
    );
    const res = await runCli(['validate', '--online', '--config', config], {
      env: { ...sim.env, DASH_TEST_WEBHOOK: webhookUrl },
    });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(
      'check: dashboard "Sales Pipeline / Pipeline Overview" → 3 sheet(s), via Metadata API: Pipeline by Stage, Rep Performance, Opportunities',
    );
    expect(res.stdout).toMatch(/! dashboard 'Pipeline Overview' .* 'Stage Targets'/);
    expect(res.stdout).toMatch(
      /check: view "Sales Pipeline \/ Opportunities" → \S+ \(worksheet\); data as of \S+ \(1d 6h old, extract 'Sales Pipeline \(extract\)'\) — older than freshness.maxAge 1d 2h: a run now would be skipped/,
    );
    expect(res.stdout).toMatch(
      /check: view "Marketing Funnel \/ Leads by Source" → \S+ \(worksheet\); data: live connection/,
    );
  });
});
