/**
 * Burst through the real CLI against both simulators: one export fanned out per Region (values read from the data)
 * into files on OneDrive and into sheets of one local workbook; values with a comma, with characters OneDrive
 * refuses and with no rows; one part failing while the others are delivered, then `run --failed` re-running only
 * that part.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { SIM_USER, startSimEnv, type SimEnv } from './helpers/sim-env.js';

interface Part {
  value: string;
  status: string;
  rows: number;
  bytes: number;
  sheets: { sheet: string; rows: number }[];
  destination?: { location: string; webUrl?: string };
  warnings: string[];
  error?: { code: string; message: string };
  keptFrom?: string;
}
interface Report {
  runId: string;
  status: string;
  rows: number;
  error?: { code: string; message: string };
  warnings: string[];
  burst?: { by: string; into: string; values: string[]; discovered: boolean };
  parts?: Part[];
}

const REGIONS = ['APAC', 'EMEA', 'LATAM', 'NA'];
let sim: SimEnv;

beforeAll(async () => {
  sim = await startSimEnv({ rows: 400 });
});
afterAll(async () => sim.close());

async function loadWorkbook(bytes: Buffer | undefined): Promise<ExcelJS.Workbook> {
  expect(bytes).toBeDefined();
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes!.buffer.slice(bytes!.byteOffset, bytes!.byteOffset + bytes!.byteLength) as ArrayBuffer);
  return wb;
}

/** The values of the column named `header` on a data sheet (header on row 1). */
function columnValues(sheet: ExcelJS.Worksheet | undefined, header: string): unknown[] {
  expect(sheet).toBeDefined();
  const headers = (sheet!.getRow(1).values as unknown[]).slice(1);
  const col = headers.indexOf(header) + 1;
  expect(col).toBeGreaterThan(0);
  const values: unknown[] = [];
  sheet!.eachRow((row, n) => {
    if (n > 1) values.push(row.getCell(col).value);
  });
  return values;
}

async function run(args: string[]): Promise<{ code: number | null; report: Report; stderr: string }> {
  const result = await runCli(['run', ...args, '--json'], { env: sim.env, timeoutMs: 180_000 });
  const line = result.stdout.trim().split('\n').at(-1) ?? '{}';
  return { code: result.code, report: JSON.parse(line) as Report, stderr: result.stderr };
}

describe('burst', () => {
  it('into files with values: all — one OneDrive workbook per region, each with its own rows and metrics', async () => {
    const cfg = await sim.writeConfig(`  - id: regions
    views: [{ workbook: Sales Pipeline, view: Opportunities }]
    metrics: { from: Opportunities }
    burst: { by: Region, values: all, into: files }
    destination:
      type: onedrive
      drive: { user: ${SIM_USER} }
      path: "Reports/{Region}/Pipeline {Region}.xlsx"
`);
    const { code, report, stderr } = await run(['regions', '--config', cfg]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(report.status).toBe('succeeded');
    expect(report.burst).toEqual({ by: 'Region', into: 'files', values: REGIONS, discovered: true });
    expect(report.parts?.map((p) => [p.value, p.status])).toEqual(REGIONS.map((r) => [r, 'succeeded']));
    let total = 0;
    for (const region of REGIONS) {
      const part = report.parts?.find((p) => p.value === region);
      expect(part?.destination?.location).toContain(`Reports/${region}/Pipeline ${region}.xlsx`);
      const wb = await loadWorkbook(await sim.graph.readFile(`Reports/${region}/Pipeline ${region}.xlsx`));
      const regions = columnValues(wb.getWorksheet('Opportunities'), 'Region');
      expect(regions.length).toBe(part?.rows);
      expect(new Set(regions)).toEqual(new Set([region]));
      // Its own metrics: the Summary counts this region's deals only.
      expect(wb.worksheets[0]?.name).toBe('Summary');
      expect(wb.getWorksheet('Funnel')).toBeDefined();
      total += regions.length;
    }
    expect(total).toBe(400);
    expect(report.rows).toBe(400);
    expect(sim.tableau.stats.signOuts).toBe(sim.tableau.stats.signIns);
    // One session per PAT at a time: each part signed in for its fetch and out before the next.
    expect(sim.tableau.stats.maxConcurrentSessionsPerPat).toBe(1);

    // The same data again: each part finds its own last delivery and uploads nothing (no new versions).
    const again = await run(['regions', '--config', cfg]);
    expect(again.code).toBe(0);
    expect(again.report.status).toBe('unchanged');
    expect(again.report.parts?.map((p) => p.status)).toEqual(REGIONS.map(() => 'unchanged'));
    for (const region of REGIONS)
      expect(sim.graph.itemInfo(`Reports/${region}/Pipeline ${region}.xlsx`)?.versions).toBe(1);
  });

  it('into sheets with values: all — one local workbook, a sheet per region and view, and each part its metrics', async () => {
    const cfg = await sim.writeConfig(`  - id: region-sheets
    views:
      - { workbook: Sales Pipeline, view: Opportunities }
      - { workbook: Sales Pipeline, view: Rep Performance }
    metrics: { from: Opportunities }
    burst: { by: Region, values: all, into: sheets }
    destination: { type: local, dir: ./out-sheets, fileName: Regions.xlsx }
`);
    const { code, report } = await run(['region-sheets', '--config', cfg]);
    expect(code).toBe(0);
    expect(report.status).toBe('succeeded');
    expect(report.burst?.values).toEqual(REGIONS);
    const wb = await loadWorkbook(await readFile(join(sim.dir, 'out-sheets', 'Regions.xlsx')));
    const names = wb.worksheets.map((w) => w.name);
    for (const region of REGIONS) {
      expect(names).toContain(`${region} Opportunities`);
      expect(names).toContain(`${region} Rep Performance`);
      expect(names).toContain(`${region} Summary`);
      expect(new Set(columnValues(wb.getWorksheet(`${region} Opportunities`), 'Region'))).toEqual(new Set([region]));
      const part = report.parts?.find((p) => p.value === region);
      expect(part?.status).toBe('succeeded');
      expect(part?.sheets.map((s) => s.sheet)).toEqual([`${region} Opportunities`, `${region} Rep Performance`]);
    }
    expect(names.at(-1)).toBe('About');
    expect(report.parts?.reduce((n, p) => n + (p.sheets[0]?.rows ?? 0), 0)).toBe(400);
  });

  it('filters a value with a comma exactly, and reports a value with no rows and refused characters', async () => {
    const cfg = await sim.writeConfig(`  - id: accounts
    views: [{ workbook: Sales Pipeline, view: Opportunities }]
    burst: { by: Account, values: ["Smith, Jones & Co", "No*Such/Account"], into: files }
    destination: { type: local, dir: ./out-accounts, fileName: "{Account}.xlsx" }
`);
    const { code, report } = await run(['accounts', '--config', cfg]);
    expect(code).toBe(0);
    expect(report.status).toBe('succeeded');
    const [comma, none] = report.parts ?? [];
    expect(comma?.status).toBe('succeeded');
    expect(comma?.rows).toBeGreaterThan(0);
    const wb = await loadWorkbook(await readFile(join(sim.dir, 'out-accounts', 'Smith, Jones & Co.xlsx')));
    const accounts = columnValues(wb.getWorksheet('Opportunities'), 'Account');
    expect(accounts.length).toBe(comma?.rows);
    expect(new Set(accounts)).toEqual(new Set(['Smith, Jones & Co']));
    // No rows: a warning (onEmpty: warn), and the refused characters became "_" in its file name.
    expect(none?.status).toBe('succeeded');
    expect(none?.rows).toBe(0);
    expect(none?.warnings.join('\n')).toMatch(/returned no rows/);
    expect(none?.warnings.join('\n')).toMatch(/its file is "No_Such_Account\.xlsx"/);
    await expect(readFile(join(sim.dir, 'out-accounts', 'No_Such_Account.xlsx'))).resolves.toBeInstanceOf(Buffer);
  });

  it("checks each part's filter as a configured filter is checked: a field Tableau ignores is reported", async () => {
    const cfg = await sim.writeConfig(`  - id: misspelt
    views: [{ workbook: Sales Pipeline, view: Opportunities }]
    burst: { by: Regoin, values: [EMEA], into: sheets }
    destination: { type: local, dir: ./out-misspelt }
`);
    const { code, report } = await run(['misspelt', '--config', cfg]);
    expect(code).toBe(0);
    expect(report.parts?.[0]?.rows).toBe(400);
    expect(report.parts?.[0]?.warnings.join('\n')).toMatch(
      /EMEA: filter Regoin=\[EMEA\] cannot be verified: "Regoin" is not a column of the view/,
    );
  });

  it('with onEmpty: fail, a value with no rows fails its part only', async () => {
    const cfg = await sim.writeConfig(`  - id: accounts-strict
    views: [{ workbook: Sales Pipeline, view: Opportunities, onEmpty: fail }]
    burst: { by: Account, values: ["Acme Corporation", "Nobody Ltd"], into: files }
    destination: { type: local, dir: ./out-strict, fileName: "{Account}.xlsx" }
`);
    const { code, report } = await run(['accounts-strict', '--config', cfg]);
    expect(code).toBe(1);
    expect(report.status).toBe('failed');
    expect(report.error?.code).toBe('BURST_PARTS_FAILED');
    expect(report.parts?.map((p) => [p.value, p.status, p.error?.code])).toEqual([
      ['Acme Corporation', 'succeeded', undefined],
      ['Nobody Ltd', 'failed', 'VIEW_EMPTY'],
    ]);
    await expect(readFile(join(sim.dir, 'out-strict', 'Acme Corporation.xlsx'))).resolves.toBeInstanceOf(Buffer);
  });

  it('delivers the other parts when one upload fails, and `run --failed` re-runs only that part', async () => {
    const cfg = await sim.writeConfig(`  - id: regions-retry
    views: [{ workbook: Sales Pipeline, view: Opportunities }]
    burst: { by: Region, values: [EMEA, NA, APAC], into: files }
    destination:
      type: onedrive
      drive: { user: ${SIM_USER} }
      path: "Retry/{Region}.xlsx"
`);
    sim.graph.faults.add({
      ops: ['content', 'createUploadSession'],
      path: 'Retry/NA.xlsx',
      status: 403,
      codes: ['accessDenied'],
      times: 50,
    });
    const first = await run(['regions-retry', '--config', cfg]);
    expect(first.code).toBe(1);
    expect(first.report.status).toBe('failed');
    expect(first.report.parts?.map((p) => [p.value, p.status])).toEqual([
      ['EMEA', 'succeeded'],
      ['NA', 'failed'],
      ['APAC', 'succeeded'],
    ]);
    expect(first.report.error?.message).toMatch(/1 of 3 burst parts failed.*"NA"/);
    expect(sim.graph.itemInfo('Retry/EMEA.xlsx')?.versions).toBe(1);
    expect(sim.graph.itemInfo('Retry/NA.xlsx')).toBeUndefined();

    sim.graph.faults.clear();
    const dataRequests = (): string[] =>
      sim.tableau.stats.requests.filter((r) => r.endpoint === 'data').map((r) => decodeURIComponent(r.query));
    const fetchesBefore = dataRequests().length;
    const retry = await run(['--failed', '--config', cfg]);
    expect(retry.code).toBe(0);
    expect(retry.report.status).toBe('succeeded');
    expect(retry.report.parts?.map((p) => [p.value, p.status, p.keptFrom])).toEqual([
      ['EMEA', 'succeeded', first.report.runId],
      ['NA', 'succeeded', undefined],
      ['APAC', 'succeeded', first.report.runId],
    ]);
    // Only NA was fetched and uploaded again; the other files got no new version.
    const fetched = dataRequests().slice(fetchesBefore);
    expect(fetched).toHaveLength(1);
    expect(fetched[0]).toContain('vf_Region=NA');
    expect(sim.graph.itemInfo('Retry/EMEA.xlsx')?.versions).toBe(1);
    expect(sim.graph.itemInfo('Retry/APAC.xlsx')?.versions).toBe(1);
    expect(sim.graph.itemInfo('Retry/NA.xlsx')?.versions).toBe(1);
    const history = await runCli(['history', retry.report.runId, '--config', cfg], { env: sim.env });
    expect(history.stdout).toMatch(
      new RegExp(`Part:\\s+EMEA: succeeded, \\d+ rows → https://\\S+ \\(kept from run ${first.report.runId}\\)`),
    );
    expect(history.stdout).toMatch(/Part:\s+NA: succeeded, \d+ rows → https:/);
    const firstHistory = await runCli(['history', first.report.runId, '--config', cfg], { env: sim.env });
    expect(firstHistory.stdout).toMatch(/Part:\s+NA: failed, \d+ rows \[ONEDRIVE_FORBIDDEN\]/);
    const wb = await loadWorkbook(await sim.graph.readFile('Retry/NA.xlsx'));
    expect(new Set(columnValues(wb.getWorksheet('Opportunities'), 'Region'))).toEqual(new Set(['NA']));
  });

  it('validate --online lists the values read from the data and the file of each', async () => {
    const cfg = await sim.writeConfig(`  - id: regions-check
    views: [{ workbook: Sales Pipeline, view: Opportunities }]
    burst: { by: Region, values: all, into: files }
    destination:
      type: onedrive
      drive: { user: ${SIM_USER} }
      path: "Reports/{Region}/Pipeline {Region}.xlsx"
  - id: owners-check
    views: [{ workbook: Sales Pipeline, view: Opportunities }]
    burst: { by: Owner, values: all, into: sheets }
    destination: { type: local, dir: ./out-owners }
  - id: missing-field
    views: [{ workbook: Sales Pipeline, view: Opportunities }]
    burst: { by: Territory, values: all, into: sheets }
    destination: { type: local, dir: ./out-missing }
`);
    const result = await runCli(['validate', '--online', '--config', cfg], { env: sim.env });
    expect(result.stdout).toContain(
      'regions-check: burst by "Region" into files: 4 values (read from the data): APAC, EMEA, LATAM, NA',
    );
    expect(result.stdout).toContain('EMEA → Reports/EMEA/Pipeline EMEA.xlsx');
    expect(result.stdout).toMatch(
      /owners-check: burst by "Owner" into sheets: 12 values \(read from the data\): .*Mike O'Brien/,
    );
    expect(result.stderr).toMatch(
      /missing-field: burst by "Territory": burst.by "Territory" is not a column of view "Opportunities".*"Region"/,
    );
    expect(result.code).toBe(1);
  });

  it("updates each part's file in place in update mode, keeping a teammate's sheet", async () => {
    const cfg = await sim.writeConfig(`  - id: regions-update
    views: [{ workbook: Sales Pipeline, view: Opportunities, key: Opportunity ID }]
    burst: { by: Region, values: [EMEA, NA], into: files }
    destination: { type: local, dir: ./out-update, fileName: "{Region}.xlsx", mode: update }
`);
    const first = await run(['regions-update', '--config', cfg]);
    expect(first.code).toBe(0);
    const emea = join(sim.dir, 'out-update', 'EMEA.xlsx');
    const wb = await loadWorkbook(await readFile(emea));
    wb.addWorksheet('Team notes').getCell('A1').value = 'our plan for EMEA';
    await wb.xlsx.writeFile(emea);
    const second = await run(['regions-update', '--config', cfg]);
    expect(second.code).toBe(0);
    expect(second.report.parts?.map((p) => [p.value, p.status])).toEqual([
      ['EMEA', 'succeeded'],
      ['NA', 'succeeded'],
    ]);
    const updated = await loadWorkbook(await readFile(emea));
    expect(updated.getWorksheet('Team notes')?.getCell('A1').value).toBe('our plan for EMEA');
    expect(new Set(columnValues(updated.getWorksheet('Opportunities'), 'Region'))).toEqual(new Set(['EMEA']));
  });

  it('refuses a files template without the burst field, before any run', async () => {
    const cfg = await sim.writeConfig(`  - id: bad-template
    views: [{ workbook: Sales Pipeline, view: Opportunities }]
    burst: { by: Region, values: [EMEA], into: files }
    destination: { type: local, dir: ./out-bad, fileName: "Pipeline {Owner}.xlsx" }
`);
    const result = await runCli(['validate', '--config', cfg], { env: sim.env });
    expect(result.code).toBe(2);
    expect(result.stderr + result.stdout).toMatch(/must contain the placeholder \{Region\}/);
    expect(result.stderr + result.stdout).toMatch(/names \{Owner\}, which is not the burst field/);
  });
});
