import { describe, expect, it } from 'vitest';
import {
  columnLetter,
  createCellRenderer,
  createRowRenderer,
  dateToExcelSerial,
  escapeXmlText,
  renderCellXml,
  renderRowXml,
  type CellIssueCounts,
} from './cell-xml.js';

const noIssues = (): CellIssueCounts => ({ truncated: 0, nonFinite: 0, unrepresentableDates: 0 });

describe('columnLetter', () => {
  it.each([
    [0, 'A'],
    [25, 'Z'],
    [26, 'AA'],
    [701, 'ZZ'],
    [702, 'AAA'],
    [16383, 'XFD'],
  ])('%i → %s', (index, letters) => {
    expect(columnLetter(index)).toBe(letters);
  });
});

describe('escapeXmlText', () => {
  it('escapes markup, quotes, forbidden characters and literal _xHHHH_ sequences', () => {
    expect(escapeXmlText('a<b>&"c"')).toBe('a&lt;b&gt;&amp;&quot;c&quot;');
    expect(escapeXmlText('bell\u0007')).toBe('bell_x0007_');
    expect(escapeXmlText('cr\r\nlf')).toBe('cr_x000D_\nlf');
    expect(escapeXmlText('keep _x0041_ literal')).toBe('keep _x005F_x0041_ literal');
    expect(escapeXmlText('plain text')).toBe('plain text');
  });
});

describe('dateToExcelSerial', () => {
  it.each([
    [Date.UTC(1970, 0, 1), 25569],
    [Date.UTC(2026, 10, 27, 12), 46353.5],
    [Date.UTC(1900, 2, 1), 61],
    [Date.UTC(1900, 1, 28), 59],
    [Date.UTC(1900, 0, 1), 1],
  ])('%i → %d', (ms, serial) => {
    expect(dateToExcelSerial(new Date(ms))).toBeCloseTo(serial, 9);
  });

  it('refuses dates Excel cannot show', () => {
    expect(dateToExcelSerial(new Date(Date.UTC(1899, 11, 31)))).toBeUndefined();
    expect(dateToExcelSerial(new Date(Number.NaN))).toBeUndefined();
  });
});

describe('renderRowXml', () => {
  const refs = ['A', 'B', 'C', 'D', 'E'];

  it('writes each value with its type and the column style', () => {
    const xml = renderRowXml(
      7,
      ['x', 1.5, true, new Date(Date.UTC(1970, 0, 2)), null],
      refs,
      [0, 3, 0, 5, 6],
      noIssues(),
    );
    expect(xml).toBe(
      '<row r="7"><c r="A7" t="inlineStr"><is><t>x</t></is></c><c r="B7" s="3"><v>1.5</v></c>' +
        '<c r="C7" t="b"><v>1</v></c><c r="D7" s="5"><v>25570</v></c></row>',
    );
  });

  it('gives a date in a column not typed as a date its date style', () => {
    const xml = renderRowXml(2, [new Date(Date.UTC(1970, 0, 2)), 'x'], refs, [0, 0], noIssues(), [9, 9]);
    expect(xml).toBe('<row r="2"><c r="A2" s="9"><v>25570</v></c><c r="B2" t="inlineStr"><is><t>x</t></is></c></row>');
  });

  it('keeps formula-like strings as inline text', () => {
    const xml = renderRowXml(2, ['=1+1', '+1', '-1', '@SUM(A1)'], refs, [], noIssues());
    expect(xml).not.toContain('<f>');
    expect(xml.match(/t="inlineStr"/g)).toHaveLength(4);
    expect(xml).toContain('<t>=1+1</t>');
  });

  it('preserves surrounding spaces', () => {
    expect(renderRowXml(2, [' x '], refs, [], noIssues())).toContain('<t xml:space="preserve"> x </t>');
  });

  it('counts and blanks NaN, Infinity and dates Excel cannot show; truncates long text', () => {
    const issues = noIssues();
    const xml = renderRowXml(
      2,
      [Number.NaN, Number.POSITIVE_INFINITY, new Date(Date.UTC(1800, 0, 1)), 'x'.repeat(40_000)],
      refs,
      [],
      issues,
    );
    expect(issues).toEqual({ truncated: 1, nonFinite: 2, unrepresentableDates: 1 });
    expect(xml).not.toMatch(/NaN|Infinity/);
    expect(xml).toContain(`<t>${'x'.repeat(32_767)}</t>`);
    expect(xml).not.toContain('x'.repeat(32_768));
  });
});

describe('createRowRenderer', () => {
  const refs = ['A', 'B', 'C', 'D', 'E', 'F'];
  const styles = [0, 3, 0, 5, 6, 7];
  const dates = [9, 9, 0, 5, 9, 9];
  const rows: unknown[][] = [
    ['x', 1.5, true, new Date(Date.UTC(1970, 0, 2)), null, undefined],
    [' lead', -0.000123, false, new Date(Date.UTC(1800, 0, 1)), '', 'a<b>&"c"'],
    ['bell\u0007', Number.NaN, 'True', 'not a date', 12345678901234, 'keep _x0041_ literal'],
    ['x'.repeat(40_000), Number.NEGATIVE_INFINITY, 1e21, new Date(Number.NaN), 'ünïcödé 日本 😀', 'cr\r\nlf'],
    [new Date(Date.UTC(2026, 10, 27, 12)), 0, -0, 'tail ', 7n, { odd: 'object' }],
  ];

  it.each(rows.map((row, i) => [i, row] as const))('row %i renders exactly as renderRowXml', (i, row) => {
    const expectedIssues = noIssues();
    const actualIssues = noIssues();
    const expected = renderRowXml(i + 2, row, refs, styles, expectedIssues, dates);
    const actual = createRowRenderer(refs, styles, dates)(i + 2, row, actualIssues);
    expect(actual).toBe(expected);
    expect(actualIssues).toEqual(expectedIssues);
  });

  it.each(rows.map((row, i) => [i, row] as const))(
    'row %i: each cell renders through createCellRenderer exactly as renderCellXml',
    (i, row) => {
      refs.forEach((ref, j) => {
        const expectedIssues = noIssues();
        const actualIssues = noIssues();
        const expected = renderCellXml(`${ref}${i + 2}`, row[j], styles[j] ?? 0, dates[j] ?? 0, expectedIssues);
        const actual = createCellRenderer(ref, styles[j] ?? 0, dates[j] ?? 0)(String(i + 2), row[j], actualIssues);
        expect(actual).toBe(expected);
        expect(actualIssues).toEqual(expectedIssues);
      });
    },
  );
});
