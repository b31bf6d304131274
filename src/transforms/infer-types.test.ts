import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { CellValue, ColumnSpec } from '../shared/table.js';
import {
  createRowConverter,
  createTypeInference,
  firstDifferentColumn,
  parseDisplayNumber,
  sameColumns,
} from './infer-types.js';

/** Infers one column from these values and converts each value with the result. */
function inferColumn(values: readonly string[]): { spec: ColumnSpec; cells: CellValue[] } {
  const inference = createTypeInference(['c']);
  for (const value of values) inference.observe([value]);
  const [spec] = inference.columns();
  if (spec === undefined) throw new Error('no column');
  const convert = createRowConverter([spec]);
  return { spec, cells: values.map((value) => convert([value])[0] ?? null) };
}

const utc = (...parts: [number, number, number, number?, number?, number?, number?]): Date => {
  const [y, m, d, h = 0, mi = 0, s = 0, ms = 0] = parts;
  return new Date(Date.UTC(y, m - 1, d, h, mi, s, ms));
};

describe('createTypeInference + createRowConverter', () => {
  it.each<[string, string[], string, string | undefined, CellValue[]]>([
    ['currency, whole dollars', ['$45,047', '$311,784', '$0'], 'currency', '"$"#,##0', [45047, 311784, 0]],
    ['currency with cents', ['$711.83', '$45,047', '$5.5'], 'currency', '"$"#,##0.00', [711.83, 45047, 5.5]],
    [
      'negative currency forms',
      ['-$1,234', '$-5', '($1,234.50)'],
      'currency',
      '"$"#,##0.00;("$"#,##0.00)',
      [-1234, -5, -1234.5],
    ],
    ['euro', ['€1,234', '€12.50'], 'currency', '"€"#,##0.00', [1234, 12.5]],
    ['pound', ['£900', '-£1,000'], 'currency', '"£"#,##0', [900, -1000]],
    ['percent with a decimal', ['14.4%', '9.3%', '100%'], 'percent', '0.0%', [0.144, 0.093, 1]],
    ['whole percent', ['40%', '0%', '-5%'], 'percent', '0%', [0.4, 0, -0.05]],
    ['grouped integer', ['5,004', '438', '-12'], 'integer', '#,##0', [5004, 438, -12]],
    ['ungrouped codes and years', ['2026', '2025', '12'], 'integer', '0', [2026, 2025, 12]],
    [
      'number with many decimals',
      ['711.834803653', '0.144482316', '5'],
      'number',
      '#,##0.00#######',
      [711.834803653, 0.144482316, 5],
    ],
    ['number with grouping', ['311,783.644', '1,000.5'], 'number', '#,##0.000', [311783.644, 1000.5]],
    [
      'precise measure values',
      ['422,610.558800001', '65,475.852700000'],
      'number',
      '#,##0.00#######',
      [422610.558800001, 65475.8527],
    ],
    ['mixed integer and number', ['1', '2.5', '3'], 'number', '#,##0.0', [1, 2.5, 3]],
    ['ISO date', ['2026-11-27', '2024-02-29'], 'date', 'yyyy-mm-dd', [utc(2026, 11, 27), utc(2024, 2, 29)]],
    ['US date', ['11/27/2026', '1/5/2026'], 'date', 'yyyy-mm-dd', [utc(2026, 11, 27), utc(2026, 1, 5)]],
    [
      'US date-time with AM/PM',
      ['11/27/2026 9:30:00 AM', '11/27/2026 12:00:00 AM', '11/27/2026 12:15:00 PM', '1/2/2026 11:59:59 PM'],
      'datetime',
      'yyyy-mm-dd hh:mm:ss',
      [utc(2026, 11, 27, 9, 30), utc(2026, 11, 27, 0, 0), utc(2026, 11, 27, 12, 15), utc(2026, 1, 2, 23, 59, 59)],
    ],
    [
      'ISO date-times, space and T, mixed with dates',
      ['2026-11-27 14:05:00', '2026-11-27T14:05:00.250', '2026-11-28'],
      'datetime',
      'yyyy-mm-dd hh:mm:ss',
      [utc(2026, 11, 27, 14, 5), utc(2026, 11, 27, 14, 5, 0, 250), utc(2026, 11, 28)],
    ],
    [
      'date-time without seconds',
      ['2026-11-27 14:05', '11/27/2026 9:30'],
      'datetime',
      'yyyy-mm-dd hh:mm',
      [utc(2026, 11, 27, 14, 5), utc(2026, 11, 27, 9, 30)],
    ],
    [
      'booleans in every case Tableau and users write',
      ['True', 'False', 'TRUE', 'false', 'true', 'FALSE'],
      'boolean',
      undefined,
      [true, false, true, false, true, false],
    ],
    ['blanks ignored for inference, null in cells', ['', '$5', ''], 'currency', '"$"#,##0', [null, 5, null]],
    ['all blank', ['', ''], 'text', undefined, [null, null]],
  ])('%s', (_name, values, type, numFmt, cells) => {
    const { spec, cells: converted } = inferColumn(values);
    expect(spec).toEqual({ name: 'c', type, numFmt });
    expect(converted).toEqual(cells);
  });

  it.each<[string, string[]]>([
    ['leading zeros', ['00123', '456']],
    ['a zero-padded code alone', ['0123']],
    ['more than 15 integer digits', ['1234567890123456', '1']],
    ['mixed currency symbols', ['$5', '€5']],
    ['currency mixed with plain numbers', ['$5', '5']],
    ['percent mixed with numbers', ['5%', '0.05']],
    ['numbers mixed with words', ['5', 'n/a']],
    ['dates mixed with numbers', ['11/27/2026', '5']],
    ['day-first dates', ['27/11/2026', '1/2/2026']],
    ['impossible dates', ['2/30/2026']],
    ['two-digit years', ['11/27/26']],
    ['bad grouping', ['1,23', '4']],
    ['European decimal comma', ['1.234,56']],
    ['suffix currency', ['5 €']],
    ['scientific notation', ['1e5']],
    ['explicit plus sign', ['+5']],
    ['padded numbers', [' 5']],
    ['yes/no', ['Yes', 'No']],
    ['booleans mixed with numbers', ['True', '1']],
    ['a bare symbol', ['$']],
    ['a trailing dot', ['5.']],
    ['a time without a date', ['9:30:00 AM']],
    ['an ISO date with a zone', ['2026-11-27T14:05:00Z']],
  ])('keeps %s as text', (_name, values) => {
    const { spec, cells } = inferColumn(values);
    expect(spec.type).toBe('text');
    expect(spec.numFmt).toBeUndefined();
    expect(cells).toEqual(values.map((value) => (value === '' ? null : value)));
  });

  it('converts percentages without float drift', () => {
    const { cells } = inferColumn(['14.4%', '0.7%', '1,234.5%', '-0.05%', '33.333%', '7%']);
    expect(cells).toEqual([
      Number('0.144'),
      Number('0.007'),
      Number('12.345'),
      Number('-0.0005'),
      Number('0.33333'),
      Number('0.07'),
    ]);
    // The naive way drifts: this is why the converter shifts the decimal point in the string.
    expect(14.4 / 100).not.toBe(0.144);
  });

  it('keeps a value that does not read as its column type as text instead of dropping it', () => {
    const convert = createRowConverter([
      { name: 'n', type: 'currency', numFmt: '"$"#,##0' },
      { name: 'd', type: 'date', numFmt: 'yyyy-mm-dd' },
      { name: 'b', type: 'boolean', numFmt: undefined },
      { name: 't', type: 'text', numFmt: undefined },
    ]);
    expect(convert(['n/a', 'soon', 'maybe', ''])).toEqual(['n/a', 'soon', 'maybe', null]);
    expect(convert(['$1', '2026-01-31', 'False', 'x'])).toEqual([1, utc(2026, 1, 31), false, 'x']);
  });

  it('uses display formats passed in for numeric columns only', () => {
    const inference = createTypeInference(['Profit Ratio', 'Region'], {
      formats: { 'Profit Ratio': '0.0%', Region: '0.0%' },
    });
    inference.observe(['14.4482316%', 'South']);
    expect(inference.columns()).toEqual([
      { name: 'Profit Ratio', type: 'percent', numFmt: '0.0%' },
      { name: 'Region', type: 'text', numFmt: undefined },
    ]);
  });

  it('types the recorded Tableau CSV (long form) column by column', () => {
    const [header, ...rows] = parse(
      readFileSync(new URL('../../test/fixtures/csv/populate_csv.csv', import.meta.url)),
    ) as string[][];
    if (header === undefined) throw new Error('fixture has no header');
    const inference = createTypeInference(header);
    for (const row of rows) inference.observe(row);
    const columns = inference.columns();
    expect(columns.map((c) => [c.name, c.type, c.numFmt])).toEqual([
      ['Measure Names', 'text', undefined],
      ['Region', 'text', undefined],
      ['Profit Ratio', 'percent', '0.0%'],
      ['Sales per Customer', 'currency', '"$"#,##0.00'],
      ['Distinct count of Customer Name', 'integer', '#,##0'],
      ['Measure Values', 'number', '#,##0.00#######'],
      ['Profit', 'currency', '"$"#,##0'],
      ['Quantity', 'integer', '#,##0'],
      ['Sales', 'currency', '"$"#,##0'],
    ]);
    const convert = createRowConverter(columns);
    expect(convert(rows[1] ?? [])).toEqual(['Sales', 'South', 0.144, 711.83, 438, 311783.644, 45047, 5004, 311784]);
    expect(convert(rows[16] ?? [])).toEqual(['Profit', 'East', 0.127, 825.74, 624, 65475.8527, 65476, 8255, 515262]);
  });
});

describe('parseDisplayNumber', () => {
  it.each<[string, number | undefined]>([
    ['$45,047', 45047],
    ['5,004', 5004],
    ['14.4%', 0.144],
    ['-$1,234', -1234],
    ['($1,234)', -1234],
    ['€1.5', 1.5],
    ['0', 0],
    ['-0', 0],
    ['711.834803653', 711.834803653],
    ['', undefined],
    ['abc', undefined],
    ['00123', undefined],
    ['1,2345', undefined],
    ['$1,234%', undefined],
    ['-($5)', undefined],
    ['(5', undefined],
  ])('%j → %j', (text, value) => {
    expect(parseDisplayNumber(text)).toBe(value);
  });
});

describe('observingConverter (one-pass writes)', () => {
  // One column per kind of value, some with a value that changes the column's format or type.
  const header = ['Amount', 'Share', 'Count', 'Ratio', 'Day', 'At', 'Flag', 'Name', 'Mixed', 'Sparse'];
  const rows = [
    ['$1,200', '14.4%', '12', '0.5', '11/27/2026', '2026-11-27 09:30:00', 'True', 'Acme', '12', ''],
    ['($300)', '3%', '1,204', '2.25', '2026-11-28', '11/28/2026 10:15 PM', 'false', 'Initech', 'n/a', ''],
    ['', '', '', '', '', '', '', '', '', '7'],
    ['$45,047.50', '100.0%', '-3', '1e3', '1/2/2027', '2027-01-02 00:00:00', 'TRUE', 'Globex', '3', 'x'],
  ];

  it('converts as createRowConverter does and types as observe does, scanning each value once', () => {
    const observed = createTypeInference(header);
    for (const row of rows) observed.observe(row);
    const columns = observed.columns();
    const fused = createTypeInference(header);
    const convert = fused.observingConverter(columns);
    const converted = rows.map((row) => convert(row));
    expect(converted).toEqual(rows.map((row) => createRowConverter(columns)(row)));
    expect(fused.columns()).toEqual(columns);
    expect(sameColumns(fused.columns(), columns)).toBe(true);
  });

  it('says which column a later row changed', () => {
    const first = createTypeInference(header);
    first.observe(rows[0] ?? []);
    const guess = first.columns();
    first.observe(rows[1] ?? []);
    expect(sameColumns(first.columns(), guess)).toBe(false);
    // Row 2 changes several columns; the first is Amount, whose format gains the parentheses of negatives.
    expect(firstDifferentColumn(first.columns(), guess)).toBe('Amount');
  });

  it('observing a row twice changes nothing', () => {
    const once = createTypeInference(header);
    const twice = createTypeInference(header);
    for (const row of rows) {
      once.observe(row);
      twice.observe(row);
      twice.observe(row);
    }
    expect(twice.columns()).toEqual(once.columns());
  });
});
