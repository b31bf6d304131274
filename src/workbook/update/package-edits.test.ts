import { describe, expect, it } from 'vitest';
import { followTableRange, parseDefinedNames, withDefinedNames, withFullCalcOnLoad } from './package-edits.js';

const WORKBOOK = `<?xml version="1.0"?><workbook xmlns="m"><sheets><sheet name="A" sheetId="1" r:id="rId1"/></sheets><definedNames><definedName name="Keep">A!$A$1</definedName><definedName name="WinRate">Summary!$C$4</definedName><definedName name="Table">A!$A$1:$C$10</definedName><definedName name="_xlnm.Print_Titles" localSheetId="0">A!$1:$1</definedName></definedNames><calcPr calcId="1"/></workbook>`;

describe('package edits of workbook.xml', () => {
  it('replaces the owned names, follows a teammate name over the old range, keeps the others', () => {
    const tables = [
      {
        name: 'T',
        sheet: 'A',
        oldRange: { top: 1, left: 0, bottom: 10, right: 2 },
        newRange: { top: 1, left: 0, bottom: 20, right: 3 },
      },
    ];
    const xml = withDefinedNames(
      WORKBOOK,
      '',
      [{ name: 'WinRate', localSheetId: undefined, hidden: false, formula: 'Summary!$C$5' }],
      (f) => followTableRange(f, tables),
    );
    expect(parseDefinedNames(xml)).toEqual([
      { name: 'Keep', localSheetId: undefined, hidden: false, formula: 'A!$A$1' },
      { name: 'Table', localSheetId: undefined, hidden: false, formula: 'A!$A$1:$D$20' },
      { name: '_xlnm.Print_Titles', localSheetId: 0, hidden: false, formula: 'A!$1:$1' },
      { name: 'WinRate', localSheetId: undefined, hidden: false, formula: 'Summary!$C$5' },
    ]);
  });

  it('sets fullCalcOnLoad on calcPr, or adds calcPr in its schema place', () => {
    expect(withFullCalcOnLoad(WORKBOOK, '')).toContain('<calcPr calcId="1" fullCalcOnLoad="1"/>');
    const bare = '<workbook><sheets/><definedNames/><pivotCaches/></workbook>';
    expect(withFullCalcOnLoad(bare, '')).toBe(
      '<workbook><sheets/><definedNames/><calcPr fullCalcOnLoad="1"/><pivotCaches/></workbook>',
    );
  });
});
