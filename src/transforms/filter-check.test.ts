import { describe, expect, it } from 'vitest';
import type { RawRow } from '../shared/table.js';
import { createFilterCheck } from './filter-check.js';

const header = ['Account', 'Region', 'Amount', 'Is Won'];
const rows: RawRow[] = [
  ['Acme', 'EMEA', '$45,047', 'True'],
  ['Smith, Jones & Co', 'NA', '$1,000', 'False'],
  ['Globex', 'APAC', '$500', 'False'],
  ['Initech', 'LATAM', '$500', 'True'],
  ['Hooli', 'APAC', '$700', 'False'],
  ['Pied Piper', 'na', '$800', 'False'],
];

function check(
  filters: Record<string, string[]>,
  data: readonly RawRow[] = rows,
): ReturnType<ReturnType<typeof createFilterCheck>['result']> {
  const filterCheck = createFilterCheck(header, filters);
  for (const row of data) filterCheck.observe(row);
  return filterCheck.result();
}

describe('createFilterCheck', () => {
  it.each<[string, Record<string, string[]>, readonly RawRow[]]>([
    ['no filters', {}, rows],
    ['a filter that was applied', { Region: ['EMEA', 'NA'] }, rows.slice(0, 2)],
    ['an escaped literal comma', { Account: ['Smith\\, Jones & Co'] }, rows.slice(1, 2)],
    ['true/false against True/False', { 'Is Won': ['true'] }, [rows[0] ?? [], rows[3] ?? []]],
    ['a number against its display form', { Amount: ['500'] }, rows.slice(2, 4)],
    ['an empty value list (select all)', { Region: [] }, rows],
    ['an empty value (select all)', { Region: [''] }, rows],
  ])('no warning for %s', (_name, filters, data) => {
    expect(check(filters, data)).toEqual({ warnings: [], rowCount: data.length, empty: false, unfiltered: false });
  });

  it('flags unfiltered data with the count and up to 3 distinct examples (exact, case-sensitive match)', () => {
    const result = check({ Region: ['EMEA', 'NA'] });
    expect(result.unfiltered).toBe(true);
    expect(result.empty).toBe(false);
    expect(result.rowCount).toBe(6);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain(
      'filter Region=[EMEA, NA] was not applied: 4 of 6 rows have other values (e.g. "APAC", "LATAM", "na")',
    );
  });

  it('flags a field that is not a column of the view', () => {
    const result = check({ Territory: ['North'] });
    expect(result.unfiltered).toBe(false);
    expect(result.warnings).toEqual([
      expect.stringContaining('filter Territory=[North] cannot be verified: "Territory" is not a column'),
    ]);
  });

  it.each<[string, Record<string, string[]>, string]>([
    [
      'with filters',
      { Region: ['Mars'] },
      'the view returned no rows: the filters Region=[Mars] matched nothing, or the view is empty',
    ],
    ['without filters', {}, 'the view returned no rows'],
  ])('flags an empty result %s', (_name, filters, message) => {
    const result = check(filters, []);
    expect(result.empty).toBe(true);
    expect(result.rowCount).toBe(0);
    expect(result.warnings).toEqual([expect.stringContaining(message)]);
  });

  it('does not take a literal comma for a list (unescaped value stays one value)', () => {
    const result = check({ Account: ['Smith\\, Jones & Co'] }, rows.slice(0, 2));
    expect(result.unfiltered).toBe(true);
    expect(result.warnings[0]).toContain('1 of 2 rows have other values (e.g. "Acme")');
  });
});
