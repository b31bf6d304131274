import { describe, expect, it } from 'vitest';
import { columnIndex, columnName, parseRange, rowRelativeForm, shiftFormula } from './cell-refs.js';

describe('A1 references', () => {
  it.each([
    ['A', 0],
    ['Z', 25],
    ['AA', 26],
    ['XFD', 16_383],
  ])('column %s is %i and back', (letters, index) => {
    expect(columnIndex(letters)).toBe(index);
    expect(columnName(index)).toBe(letters);
  });

  it('parses ranges in either order and single cells', () => {
    expect(parseRange('A1:P301')).toEqual({ top: 1, left: 0, bottom: 301, right: 15 });
    expect(parseRange('$C$9:A2')).toEqual({ top: 2, left: 0, bottom: 9, right: 2 });
    expect(parseRange('B7')).toEqual({ top: 7, left: 1, bottom: 7, right: 1 });
    expect(parseRange('Sheet1')).toBeUndefined();
  });
});

describe('shiftFormula (a cell moved like a cut and paste)', () => {
  it.each([
    ['relative references move', 'F2*G2', 3, 'F5*G5'],
    ['$ anchors stay', '$F$2+F$2+$F2', 3, '$F$2+F$2+$F5'],
    ['ranges and whole columns', 'SUM(B2:B10)+SUM(C:C)+SUM(2:3)', 1, 'SUM(B3:B11)+SUM(C:C)+SUM(3:4)'],
    [
      'strings, structured references and names are left alone',
      '"A1 "&T[[#This Row],[A1]]&LOG10(A1)&Tax_B2',
      1,
      '"A1 "&T[[#This Row],[A1]]&LOG10(A2)&Tax_B2',
    ],
    ['sheet-qualified references move too', "'Team notes'!B3+Other!A1", 2, "'Team notes'!B5+Other!A3"],
    ['off the sheet is #REF!', 'A1', -1, '#REF!'],
  ])('%s', (_name, formula, rows, expected) => {
    expect(shiftFormula(formula, rows)).toBe(expected);
  });

  it('gives the same row-independent form to the same formula on different rows', () => {
    expect(rowRelativeForm('F2*G2', 2)).toBe(rowRelativeForm('F9*G9', 9));
    expect(rowRelativeForm('F2*G2', 2)).not.toBe(rowRelativeForm('F2*G3', 2));
    expect(rowRelativeForm('$F$1*G2', 2)).toBe(rowRelativeForm('$F$1*G7', 7));
  });
});
