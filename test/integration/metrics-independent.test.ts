/**
 * The metric cells of a real run, checked against an independent calculation written here, over the same generated
 * rows — straight from the display strings, not through the code under test. The workbook is read with SheetJS and
 * the KPIs are found through their workbook-level defined names (what teammates reference).
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import XLSX from 'xlsx';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatePipeline, writeTableauCsvFile } from '../../src/simulators/demo-data/pipeline-generator.js';
import { runCli } from './helpers/cli.js';

const AS_OF = Date.UTC(2026, 10, 27);
const DAY = 86_400_000;
const PERIOD_FROM = AS_OF - 364 * DAY; // the default period: the last 365 days, asOf included
const STALE_AFTER: Record<string, number> = {
  'Lead Generation': 14,
  Qualification: 21,
  Contact: 30,
  Proposal: 30,
  Closing: 21,
};
const QUOTA = 5_000_000;

let book: XLSX.WorkBook;
let rows: Record<string, string>[];

/** The value of a workbook-level defined name (e.g. WinRate → 'Summary'!$B$9). */
function named(name: string): unknown {
  const def = book.Workbook?.Names?.find((n) => n.Name === name);
  if (def === undefined) throw new Error(`no defined name ${name}`);
  const m = /^'?(.+?)'?!\$?([A-Z]+)\$?(\d+)$/.exec(def.Ref);
  if (m === null) throw new Error(`unexpected ref ${def.Ref}`);
  const sheet = book.Sheets[m[1]!.replace(/''/g, "'")]!;
  return sheet[`${m[2]}${m[3]}`]?.v;
}

const money = (s: string): number => Number(s.replace(/[$,]/g, ''));
const date = (s: string): number | undefined => {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s);
  return m === null ? undefined : Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]));
};
const inPeriod = (t: number | undefined): boolean => t !== undefined && t >= PERIOD_FROM && t <= AS_OF;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tee-metrics-'));
  const generated = generatePipeline({ seed: 7, count: 3000, asOf: new Date(AS_OF) });
  rows = generated.rows.map((r) => Object.fromEntries(generated.header.map((h, i) => [h, r[i] ?? ''])));
  await writeTableauCsvFile(join(dir, 'opps.csv'), generated.header, generated.rows);
  await writeFile(
    join(dir, 'cfg.yaml'),
    `stateDir: ./state
exports:
  - id: metrics
    views: [{ file: opps.csv, sheet: Opportunities }]
    metrics:
      from: Opportunities
      asOf: 2026-11-27
      quota: ${QUOTA}
      staleAfterDays: ${JSON.stringify(STALE_AFTER)}
    destination: { type: local, dir: ./out, fileName: metrics.xlsx }
`,
  );
  const res = await runCli(['run', 'metrics', '--config', join(dir, 'cfg.yaml')]);
  expect(res.code, res.stdout + res.stderr).toBe(0);
  book = XLSX.read(await readFile(join(dir, 'out', 'metrics.xlsx')));
});

describe('metric cells against an independent calculation', () => {
  it('open pipeline: value, count, weighted value and coverage', () => {
    const open = rows.filter((r) => r['Stage'] !== 'Closed Won' && r['Stage'] !== 'Closed Lost');
    const value = open.reduce((s, r) => s + money(r['Amount']!), 0);
    const weighted = open.reduce(
      (s, r) => s + money(r['Amount']!) * (Number(r['Probability']!.replace('%', '')) / 100),
      0,
    );
    expect(named('OpenDeals')).toBe(open.length);
    expect(named('PipelineValue')).toBeCloseTo(value, 6);
    expect(named('WeightedPipelineValue')).toBeCloseTo(weighted, 4);
    expect(named('PipelineCoverage')).toBeCloseTo(value / QUOTA, 9);
  });

  it('win rate, average deal size, average sales cycle, won revenue and sales velocity over the period', () => {
    const closedInPeriod = rows.filter((r) => inPeriod(date(r['Close Date']!)));
    const won = closedInPeriod.filter((r) => r['Is Won'] === 'True');
    const lost = closedInPeriod.filter((r) => r['Is Closed'] === 'True' && r['Is Won'] !== 'True');
    const wonRevenue = won.reduce((s, r) => s + money(r['Amount']!), 0);
    const winRate = won.length / (won.length + lost.length);
    const avgDeal = wonRevenue / won.length;
    const cycle = won.reduce((s, r) => s + (date(r['Close Date']!)! - date(r['Created Date']!)!) / DAY, 0) / won.length;
    const openCount = rows.filter((r) => r['Is Closed'] !== 'True').length;
    expect(won.length).toBeGreaterThan(20);
    expect(named('WinRate')).toBeCloseTo(winRate, 9);
    expect(named('WonRevenue')).toBeCloseTo(wonRevenue, 6);
    expect(named('AvgDealSize')).toBeCloseTo(avgDeal, 6);
    expect(named('AvgSalesCycle')).toBeCloseTo(cycle, 6);
    expect(named('SalesVelocity')).toBeCloseTo((openCount * avgDeal * winRate) / cycle, 4);
  });

  it('new pipeline created in the period', () => {
    const created = rows.filter((r) => inPeriod(date(r['Created Date']!)));
    expect(named('NewPipeline')).toBeCloseTo(
      created.reduce((s, r) => s + money(r['Amount']!), 0),
      6,
    );
  });

  it('stale deals: days in stage (stage-entered date, else created date) over the stage threshold', () => {
    const stale = rows.filter((r) => {
      const threshold = STALE_AFTER[r['Stage']!];
      if (threshold === undefined || r['Is Closed'] === 'True') return false;
      const since = date(r['Stage Entered Date']!) ?? date(r['Created Date']!);
      return since !== undefined && (AS_OF - since) / DAY > threshold;
    });
    expect(stale.length).toBeGreaterThan(0);
    expect(named('StaleDeals')).toBe(stale.length);
  });

  it('CAC and CLV, whose inputs are not configured, are listed with the setting to add, never shown as 0', () => {
    const names = book.Workbook?.Names?.map((n) => n.Name) ?? [];
    expect(names).not.toContain('AcquisitionCost');
    expect(names).not.toContain('LifetimeValue');
    const rows = XLSX.utils.sheet_to_json<unknown[]>(book.Sheets['Summary']!, { header: 1, blankrows: true });
    const header = rows.findIndex((r) => r[0] === 'KPI');
    const notConfigured = rows.findIndex((r) => r[0] === 'Not configured');
    expect(header).toBeGreaterThan(0);
    expect(notConfigured).toBeGreaterThan(header);
    // The KPI table's Value column holds numbers (or a bare n/a), never a sentence.
    const values = rows.slice(header + 1, notConfigured - 1).map((r) => r[1]);
    expect(values.length).toBeGreaterThan(10);
    for (const v of values) expect(typeof v === 'number' || v === 'n/a', String(v)).toBe(true);
    const listed = rows.slice(notConfigured + 1).filter((r) => r.length === 2);
    expect(listed).toContainEqual([
      'Customer acquisition cost',
      'metrics.spend: the sales and marketing spend in the period',
    ]);
    expect(listed).toContainEqual([
      'Customer lifetime value',
      'metrics.clv.lifetimeYears: the expected customer lifetime in years (metrics.clv.lifetimeYears)',
    ]);
  });
});
