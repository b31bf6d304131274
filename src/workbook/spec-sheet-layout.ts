/** Where a spec sheet's parts go: its rows, columns, widths and print orientation, decided before it is written. */
import { WorkbookError } from '../shared/errors.js';
import type { CellFormat, SheetSpec } from '../shared/sheet-spec.js';
import { columnLetter } from './cell-xml.js';
import { estimateColumnWidth, type WidthKind } from './column-widths.js';
import type { PrintLayout } from './open-sheet.js';
import { validateCellFormats } from './spec-sheet-validation.js';
import { toTableColumnNames } from './table-part.js';

// Column widths (characters) that fit across a portrait page at 100 %; wider spec sheets print landscape. Either
// way they are scaled to one page wide.
const PORTRAIT_MAX_WIDTH = 100;

export interface SpecSheetLayout {
  readonly sheetName: string;
  readonly asTable: boolean;
  /** 1-based row of the header: 1, or 3 under a title and a blank row. */
  readonly headerRow: number;
  readonly firstDataRow: number;
  /** Column letters, from `A`. */
  readonly columnRefs: readonly string[];
  readonly lastColumnRef: string;
  /** Header texts; valid table column names when the sheet is a table. */
  readonly columnNames: readonly string[];
  readonly widths: readonly number[];
  readonly totalWidth: number;
  readonly print: PrintLayout;
}

/** Lays out `spec` as sheet `sheetName`. Throws WORKBOOK_INVALID_SPEC for no columns or misaligned cellFormats. */
export function planSpecSheetLayout(spec: SheetSpec, sheetName: string): SpecSheetLayout {
  const asTable = spec.asTable !== false;
  const headerRow = spec.title === undefined ? 1 : 3;
  const columnRefs = spec.columns.map((_, i) => columnLetter(i));
  const lastColumnRef = columnRefs[columnRefs.length - 1];
  if (lastColumnRef === undefined) {
    throw new WorkbookError(
      'WORKBOOK_INVALID_SPEC',
      `sheet '${spec.name}' has no columns; a sheet needs at least one column`,
    );
  }
  validateCellFormats(spec);
  const columnNames = asTable
    ? toTableColumnNames(spec.columns.map((c) => c.header))
    : spec.columns.map((c) => c.header);
  const widths = specColumnWidths(spec, columnNames);
  const totalWidth = widths.reduce((sum, w) => sum + w, 0);
  return {
    sheetName,
    asTable,
    headerRow,
    firstDataRow: headerRow + 1,
    columnRefs,
    lastColumnRef,
    columnNames,
    widths,
    totalWidth,
    print: { orientation: totalWidth > PORTRAIT_MAX_WIDTH ? 'landscape' : 'portrait' },
  };
}

function specColumnWidths(spec: SheetSpec, columnNames: readonly string[]): number[] {
  const formatAt = (row: number, column: number): CellFormat | undefined =>
    spec.cellFormats?.[row]?.[column] ?? spec.columns[column]?.format;
  return spec.columns.map((c, i) => {
    if (c.width !== undefined) return c.width;
    const header = columnNames[i] ?? '';
    if (spec.cellFormats === undefined)
      return estimateColumnWidth(
        header,
        widthKind(c.format),
        spec.rows.map((row) => row[i]),
      );
    // Each value measured as its own format shows it.
    return spec.rows.reduce(
      (widest, row, r) =>
        Math.max(widest, estimateColumnWidth(header, widthKind(formatAt(r, i) ?? c.format), [row[i]])),
      estimateColumnWidth(header, widthKind(c.format), []),
    );
  });
}

function widthKind(format: CellFormat): WidthKind {
  return format;
}
