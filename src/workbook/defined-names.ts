/**
 * The workbook's `<definedNames>`: names pointing at cells of spec sheets, and the `_xlnm.Print_Titles` that repeat
 * each spec sheet's header row at the top of every printed page.
 */
import {
  presentWorksheets,
  supplyDefinedNames,
  type DefinedNameModel,
  type WorkbookInternals,
  type WorksheetInternals,
} from './exceljs-internals.js';
import { quoteSheetName } from './sheet-names.js';

export interface DefinedNames {
  /** A workbook-level name for `address` (a quoted absolute reference); the name must already be taken. */
  add(name: string, address: string): void;
  /** Repeats 1-based `row` of sheet `sheetName` at the top of every printed page. */
  setPrintTitleRow(sheetName: string, row: number): void;
  /** Adds the print titles. Call once, at commit, after the tab order is applied: they name sheet positions. */
  addPrintTitles(): void;
}

/** Creates the list that exceljs renders into workbook.xml (we supply it: see `exceljs-internals.ts`). */
export function createDefinedNames(internals: WorkbookInternals): DefinedNames {
  const definedNames: DefinedNameModel[] = [];
  /** Spec sheets' header rows, repeated at the top of every printed page (added at commit, once tab order is final). */
  const printTitleRows = new Map<string, number>();
  supplyDefinedNames(internals, definedNames);
  return {
    add(name, address) {
      definedNames.push({ name, ranges: [address] });
    },
    setPrintTitleRow(sheetName, row) {
      printTitleRows.set(sheetName, row);
    },
    addPrintTitles() {
      definedNames.push(...printTitleNames(presentWorksheets(internals), printTitleRows));
    },
  };
}

/**
 * `_xlnm.Print_Titles` names repeating each spec sheet's header row on every printed page. `localSheetId` is the
 * sheet's position in workbook.xml, so this runs after the tab order is applied.
 */
function printTitleNames(
  sheets: readonly WorksheetInternals[],
  headerRows: ReadonlyMap<string, number>,
): DefinedNameModel[] {
  return sheets.flatMap((ws, index) => {
    const row = headerRows.get(ws.name);
    if (row === undefined) return [];
    return [
      { name: '_xlnm.Print_Titles', localSheetId: index, ranges: [`'${quoteSheetName(ws.name)}'!$${row}:$${row}`] },
    ];
  });
}
