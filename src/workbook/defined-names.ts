/**
 * The workbook's `<definedNames>`: names pointing at cells of spec sheets, the `_xlnm.Print_Titles` that repeat each
 * sheet's header row at the top of every printed page, and the `_xlnm.Print_Area` that says what a sheet prints.
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
  /** Prints `range` (e.g. `A1:H40`) of sheet `sheetName`, and nothing else of it. */
  setPrintArea(sheetName: string, range: string): void;
  /** Adds the print titles and areas. Call once, at commit, after the tab order is applied: they name sheet positions. */
  addPrintTitles(): void;
}

/** Creates the list that exceljs renders into workbook.xml (we supply it: see `exceljs-internals.ts`). */
export function createDefinedNames(internals: WorkbookInternals): DefinedNames {
  const definedNames: DefinedNameModel[] = [];
  /** Spec sheets' header rows, repeated at the top of every printed page (added at commit, once tab order is final). */
  const printTitleRows = new Map<string, number>();
  const printAreas = new Map<string, string>();
  supplyDefinedNames(internals, definedNames);
  return {
    add(name, address) {
      definedNames.push({ name, ranges: [address] });
    },
    setPrintTitleRow(sheetName, row) {
      printTitleRows.set(sheetName, row);
    },
    setPrintArea(sheetName, range) {
      printAreas.set(sheetName, range);
    },
    addPrintTitles() {
      const sheets = presentWorksheets(internals);
      definedNames.push(...printTitleNames(sheets, printTitleRows), ...printAreaNames(sheets, printAreas));
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

/** `_xlnm.Print_Area` names, scoped like the print titles; `$A$1:$H$40` from `A1:H40`. */
function printAreaNames(sheets: readonly WorksheetInternals[], areas: ReadonlyMap<string, string>): DefinedNameModel[] {
  return sheets.flatMap((ws, index) => {
    const area = areas.get(ws.name);
    if (area === undefined) return [];
    const absolute = area.replace(/([A-Z]+)(\d+)/g, '$$$1$$$2');
    return [{ name: '_xlnm.Print_Area', localSheetId: index, ranges: [`'${quoteSheetName(ws.name)}'!${absolute}`] }];
  });
}
