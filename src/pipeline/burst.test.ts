import { describe, expect, it } from 'vitest';
import { exportSchema } from '../config/schema.js';
import type { PartReport } from '../contracts/run-report.js';
import { expandIntoSheets, partExport, partMetricSheets, sheetPartReports, summarizeParts } from './burst.js';

const exportOf = (extra: Record<string, unknown>) =>
  exportSchema.parse({
    id: 'sales',
    views: [{ workbook: 'Sales Pipeline', view: 'Opportunities', filters: { Stage: 'Closing' } }],
    destination: { type: 'onedrive', drive: { user: 'ops@contoso.com' }, path: 'Reports/{Region}.xlsx' },
    burst: { by: 'Region', values: ['EMEA', 'NA'], into: 'files' },
    ...extra,
  });

const part = (value: string, status: PartReport['status'], extra: Partial<PartReport> = {}): PartReport => ({
  value,
  status,
  sheets: [],
  rows: 0,
  bytes: 100,
  warnings: [],
  ...extra,
});

describe('expandIntoSheets', () => {
  it("names a one-view export's sheets after the values, made valid and unique for Excel", () => {
    const exp = exportOf({});
    const { exportConfig, parts } = expandIntoSheets(exp, 'Region', [
      'EMEA',
      'a/b:c',
      'A-B-C',
      'History',
      'x'.repeat(40),
    ]);
    expect(exportConfig.views.map((v) => v.sheet)).toEqual([
      'EMEA',
      'a-b-c',
      'A-B-C (2)',
      'History (data)',
      'x'.repeat(31),
    ]);
    expect(exportConfig.views.map((v) => v.filters)).toEqual(
      ['EMEA', 'a/b:c', 'A-B-C', 'History', 'x'.repeat(40)].map((r) => ({ Stage: 'Closing', Region: r })),
    );
    expect(parts.map((p) => p.baseSheet)).toEqual(Array(5).fill('Opportunities'));
  });

  it('names value and view when the export has several views', () => {
    const exp = exportOf({
      views: [
        { workbook: 'Sales Pipeline', view: 'Opportunities' },
        { workbook: 'Sales Pipeline', view: 'Rep Performance', sheet: 'Reps' },
      ],
    });
    const { exportConfig, parts } = expandIntoSheets(exp, 'Region', ['EMEA', 'NA']);
    expect(exportConfig.views.map((v) => v.sheet)).toEqual([
      'EMEA Opportunities',
      'EMEA Reps',
      'NA Opportunities',
      'NA Reps',
    ]);
    expect(parts.map((p) => `${p.value}/${p.baseSheet}`)).toEqual([
      'EMEA/Opportunities',
      'EMEA/Reps',
      'NA/Opportunities',
      'NA/Reps',
    ]);
  });
});

describe('partExport', () => {
  it("filters every view by the value and points the destination at the part's path", () => {
    const exp = exportOf({});
    const burst = exp.burst!;
    const p = partExport({ ...exp, burst }, 'EMEA', 'Reports/EMEA.xlsx');
    expect(p.burst).toBeUndefined();
    expect(p.views[0]?.filters).toEqual({ Stage: 'Closing', Region: 'EMEA' });
    expect(p.destination.type === 'onedrive' && p.destination.path).toBe('Reports/EMEA.xlsx');
    expect(exp.views[0]?.filters).toEqual({ Stage: 'Closing' });
  });
});

describe('partMetricSheets', () => {
  it('prefixes the value and drops workbook-level names, which exist once per workbook', () => {
    const specs = partMetricSheets('EMEA', [
      { name: 'Summary', columns: [], rows: [], definedNames: [{ name: 'WinRate', row: 0, column: 1 }] },
    ]);
    expect(specs).toEqual([{ name: 'EMEA Summary', columns: [], rows: [] }]);
  });
});

describe('summarizeParts', () => {
  it('fails the run when any part failed, naming the parts, and still says what was delivered', () => {
    const out = summarizeParts(
      [
        part('EMEA', 'succeeded', { destination: { location: 'a', deliveredAt: '2026-01-01T06:00:00Z' } }),
        part('NA', 'failed', { bytes: 0, error: { code: 'ONEDRIVE_FORBIDDEN', message: 'denied' } }),
      ],
      'Reports/{Region}.xlsx',
    );
    expect(out.status).toBe('failed');
    expect(out.error?.code).toBe('BURST_PARTS_FAILED');
    expect(out.error?.message).toBe(
      '1 of 2 burst parts failed (the others were delivered): "NA" [ONEDRIVE_FORBIDDEN] denied',
    );
    expect(out.destination).toEqual({
      location: '1 of 2 workbooks at Reports/{Region}.xlsx',
      deliveredAt: '2026-01-01T06:00:00Z',
    });
    expect(out.bytes).toBe(100);
  });

  it('is unchanged only when every part is, else succeeded', () => {
    expect(summarizeParts([part('A', 'unchanged'), part('B', 'unchanged')], 't').status).toBe('unchanged');
    expect(summarizeParts([part('A', 'unchanged'), part('B', 'succeeded')], 't').status).toBe('succeeded');
  });
});

describe('sheetPartReports', () => {
  const parts = [
    { value: 'EMEA', baseSheet: 'Opportunities' },
    { value: 'NA', baseSheet: 'Opportunities' },
  ];
  const sheets = [
    { sheet: 'EMEA', rows: 3, source: 's' },
    { sheet: 'NA', rows: 0, source: 's' },
  ];

  it('gives each value its sheets, rows and warnings', () => {
    const reports = sheetPartReports({
      values: ['EMEA', 'NA'],
      parts,
      sheets,
      warnings: ['NA: view "NA" returned no rows', 'EMEA: metrics: 1 deal without amount'],
      end: { status: 'succeeded', error: undefined },
      failedPart: undefined,
    });
    expect(reports.map((r) => [r.value, r.status, r.rows, r.warnings])).toEqual([
      ['EMEA', 'succeeded', 3, ['EMEA: metrics: 1 deal without amount']],
      ['NA', 'succeeded', 0, ['NA: view "NA" returned no rows']],
    ]);
  });

  it('marks the part that failed, and the others skipped (the workbook is delivered whole)', () => {
    const error = { code: 'VIEW_EMPTY', message: 'view "NA" returned no rows' };
    const reports = sheetPartReports({
      values: ['EMEA', 'NA'],
      parts,
      sheets: [],
      warnings: [],
      end: { status: 'failed', error },
      failedPart: 'NA',
    });
    expect(reports.map((r) => [r.value, r.status, r.error?.code])).toEqual([
      ['EMEA', 'skipped', undefined],
      ['NA', 'failed', 'VIEW_EMPTY'],
    ]);
    expect(reports[0]?.note).toMatch(/part "NA" failed/);
  });
});
