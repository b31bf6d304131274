/** Opening a worksheet for rows written as XML: its columns, frozen header and print layout. */
import type ExcelJS from 'exceljs';
import { worksheetInternals, type WorksheetInternals } from './exceljs-internals.js';

export interface PrintLayout {
  readonly orientation: 'portrait' | 'landscape';
  /** Scaled to fit one page both ways (a summary); otherwise one page wide and as many pages tall as needed. */
  readonly onePage?: boolean;
  /** The page footer in Excel's header/footer codes, e.g. `&L&A&RPage &P of &N` (sheet name left, page right). */
  readonly footer: string;
}

/** The footer printed on every page unless the writer is given one in the workbook's language. */
export const DEFAULT_PRINT_FOOTER = '&L&A&RPage &P of &N';

/**
 * Orientation for a sheet whose columns add up to `totalWidth` characters: wider than a portrait page holds at 100 %
 * prints landscape. Either way the sheet is scaled to one page wide.
 */
export function orientationFor(totalWidth: number): PrintLayout['orientation'] {
  return totalWidth > PORTRAIT_MAX_WIDTH ? 'landscape' : 'portrait';
}

// Column widths (characters) that fit across a portrait page at 100 %.
const PORTRAIT_MAX_WIDTH = 100;

export interface SheetLayout {
  /** Column widths in Excel's character units, from column A. */
  readonly widths: readonly number[];
  /** 1-based row frozen at the top (with every row above it); undefined: nothing frozen. */
  readonly frozenHeaderRow: number | undefined;
  /** Page setup for printing; undefined: the reader's defaults. */
  readonly print?: PrintLayout;
}

export interface OpenSheet {
  readonly name: string;
  readonly internals: WorksheetInternals;
}

/**
 * Adds worksheet `name` (already valid and unique) to `workbook` and opens its `<sheetData>`, so that the caller's
 * rows can follow as XML from row 1.
 */
export function openSheet(workbook: ExcelJS.stream.xlsx.WorkbookWriter, name: string, layout: SheetLayout): OpenSheet {
  const { frozenHeaderRow, print } = layout;
  const views: Partial<ExcelJS.WorksheetView>[] =
    frozenHeaderRow === undefined
      ? []
      : [{ state: 'frozen', xSplit: 0, ySplit: frozenHeaderRow, topLeftCell: `A${frozenHeaderRow + 1}` }];
  const sheet = workbook.addWorksheet(name, {
    views,
    ...(print === undefined
      ? {}
      : {
          pageSetup: {
            orientation: print.orientation,
            // One page wide, as many pages tall as needed (0 = automatic), or one page altogether.
            fitToPage: true,
            fitToWidth: 1,
            fitToHeight: print.onePage === true ? 1 : 0,
            margins: { left: 0.4, right: 0.4, top: 0.6, bottom: 0.6, header: 0.3, footer: 0.3 },
          },
          headerFooter: { oddFooter: print.footer },
        }),
  });
  sheet.columns = layout.widths.map((width) => ({ width }));
  // An empty committed row makes exceljs write <cols> and open <sheetData>; our rows follow as XML.
  sheet.addRow([]).commit();
  return { name, internals: worksheetInternals(sheet) };
}
