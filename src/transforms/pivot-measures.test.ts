import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { AppError } from '../shared/errors.js';
import type { RawRow } from '../shared/table.js';
import { createRowConverter, createTypeInference } from './infer-types.js';
import { hasMeasureColumns, pivotMeasureValues } from './pivot-measures.js';

async function* iterate(rows: readonly RawRow[]): AsyncGenerator<RawRow> {
  for (const row of rows) yield row;
}

const [fixtureHeader = [], ...fixtureRows] = parse(
  readFileSync(new URL('../../test/fixtures/csv/populate_csv.csv', import.meta.url)),
) as string[][];

describe('hasMeasureColumns', () => {
  it.each<[string[], boolean]>([
    [fixtureHeader, true],
    [['Region', 'Measure Names'], false],
    [['Region', 'Measure Values'], false],
    [['Region', 'Sales'], false],
  ])('%j → %s', (header, expected) => {
    expect(hasMeasureColumns(header)).toBe(expected);
  });
});

describe('pivotMeasureValues on the recorded Tableau CSV', () => {
  it('makes one row per region and one column per measure, with precise values in display style', async () => {
    const result = await pivotMeasureValues(fixtureHeader, iterate(fixtureRows));
    // "Distinct count of Customer Name" displays "Count of Customers": it is a measure, not a dimension.
    expect(result.header).toEqual([
      'Region',
      'Count of Customers',
      'Sales',
      'Quantity',
      'Sales per Customer',
      'Profit',
      'Profit Ratio',
    ]);
    expect(result.rows).toEqual([
      ['South', '438', '$311,783.644', '5,004', '$711.834803653', '$45,047.2231', '14.4482316%'],
      ['Central', '566', '$422,610.558800001', '6,990', '$746.661764664', '$39,176.1836', '9.2700437%'],
      ['East', '624', '$515,261.598000001', '8,255', '$825.739740385', '$65,475.852700000', '12.7073030%'],
      ['West', '630', '$571,239.036500001', '9,544', '$906.728629365', '$82,263.903800000', '14.4009598%'],
    ]);
    expect(result.formats).toEqual({
      'Count of Customers': '#,##0',
      Sales: '"$"#,##0',
      Quantity: '#,##0',
      'Sales per Customer': '"$"#,##0.00',
      Profit: '"$"#,##0',
      'Profit Ratio': '0.0%',
    });
    expect(result.warnings).toEqual([]);
  });

  it('types to precise values with the formats Tableau displayed', async () => {
    const result = await pivotMeasureValues(fixtureHeader, iterate(fixtureRows));
    const inference = createTypeInference(result.header, { formats: result.formats });
    for (const row of result.rows) inference.observe(row);
    const columns = inference.columns();
    expect(columns.map((c) => [c.name, c.type, c.numFmt])).toEqual([
      ['Region', 'text', undefined],
      ['Count of Customers', 'integer', '#,##0'],
      ['Sales', 'currency', '"$"#,##0'],
      ['Quantity', 'integer', '#,##0'],
      ['Sales per Customer', 'currency', '"$"#,##0.00'],
      ['Profit', 'currency', '"$"#,##0'],
      ['Profit Ratio', 'percent', '0.0%'],
    ]);
    const convert = createRowConverter(columns);
    expect(result.rows.map(convert)).toEqual([
      ['South', 438, 311783.644, 5004, 711.834803653, 45047.2231, 0.144482316],
      ['Central', 566, 422610.558800001, 6990, 746.661764664, 39176.1836, 0.092700437],
      ['East', 624, 515261.598000001, 8255, 825.739740385, 65475.8527, 0.12707303],
      ['West', 630, 571239.036500001, 9544, 906.728629365, 82263.9038, 0.144009598],
    ]);
  });
});

describe('pivotMeasureValues', () => {
  const header = ['Measure Names', 'Region', 'Year', 'Measure Values', 'Sales', 'Margin'];

  it('groups by every dimension (including numeric ones), leaves gaps blank and keeps negatives', async () => {
    const rows = [
      ['Sales', 'East', '2025', '1,000.5', '$1,001', '-5.0%'],
      ['Margin', 'East', '2025', '-0.05', '$1,001', '-5.0%'],
      ['Sales', 'East', '2026', '-20', '-$20', ''],
      ['Margin', 'West', '2026', '1.25', '', '125.0%'],
    ];
    const result = await pivotMeasureValues(header, iterate(rows));
    expect(result.header).toEqual(['Region', 'Year', 'Sales', 'Margin']);
    expect(result.rows).toEqual([
      ['East', '2025', '$1,000.5', '-5%'],
      ['East', '2026', '-$20', ''],
      ['West', '2026', '', '125%'],
    ]);
    expect(result.formats).toEqual({ Sales: '"$"#,##0', Margin: '0.0%' });
  });

  it('warns when a measure repeats for the same dimension values, keeping the first', async () => {
    const rows = [
      ['Sales', 'East', '2025', '1', '$1', '1%'],
      ['Sales', 'East', '2025', '2', '$2', '1%'],
    ];
    const result = await pivotMeasureValues(header, iterate(rows));
    // Margin never appears in Measure Names here, so it is a dimension like any other column.
    expect(result.header).toEqual(['Region', 'Year', 'Margin', 'Sales']);
    expect(result.rows).toEqual([['East', '2025', '1%', '$1']]);
    expect(result.warnings[0]).toContain('1 Measure Values rows repeat a measure');
  });

  it('passes through measure values with no display column', async () => {
    const result = await pivotMeasureValues(
      ['Measure Names', 'Region', 'Measure Values'],
      iterate([['Orders', 'East', '12']]),
    );
    expect(result).toEqual({ header: ['Region', 'Orders'], rows: [['East', '12']], formats: {}, warnings: [] });
  });

  it('refuses to buffer more than maxCells, suggesting pivot: false', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => ['Sales', `R${i}`, '2025', '1', '$1', '1%']);
    const err = await pivotMeasureValues(header, iterate(rows), { maxCells: 30 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('PIVOT_TOO_LARGE');
    expect((err as AppError).hint).toContain('pivot: false');
    await expect(pivotMeasureValues(header, iterate(rows), { maxCells: 60 })).resolves.toBeDefined();
  });

  it('rejects a header without Measure Names/Values', async () => {
    await expect(pivotMeasureValues(['Region'], iterate([]))).rejects.toMatchObject({ code: 'PIVOT_INVALID' });
  });
});
