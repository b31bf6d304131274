/** The styles of a spec sheet's cells: each column's format, and the per-cell formats that override it. */
import type { CellFormat, SheetColumn, SheetSpec } from '../shared/sheet-spec.js';
import { DATETIME_FORMAT, formatForCellFormat } from './number-formats.js';
import type { StyleCache } from './style-cache.js';

export interface RowStyles {
  /** Style id of each column's cell. */
  readonly styles: readonly number[];
  /** Style id of each column's cell when it holds a Date. */
  readonly dates: readonly number[];
}

export interface SpecCellStyles {
  /** The styles of row `rowIndex` (0-based within `spec.rows`). */
  forRow(rowIndex: number): RowStyles;
}

/** Registers the columns' styles now; a row's overriding styles when it is asked for. */
export function createSpecCellStyles(styles: StyleCache, spec: SheetSpec): SpecCellStyles {
  const isDateFormat = (f: CellFormat): boolean => f === 'date' || f === 'datetime';
  const cellStyle = (format: CellFormat, column: SheetColumn): number =>
    styles.specCell(formatForCellFormat(format, spec.currency), isDateFormat(format), column);
  // A Date in a column or cell not formatted as a date still shows as a date.
  const dateStyle = (format: CellFormat, column: SheetColumn): number =>
    isDateFormat(format) ? cellStyle(format, column) : styles.specCell(DATETIME_FORMAT, true, column);
  const styleIds = spec.columns.map((c) => cellStyle(c.format, c));
  const dateStyleIds = spec.columns.map((c) => dateStyle(c.format, c));
  return {
    forRow(rowIndex) {
      const formats = spec.cellFormats?.[rowIndex];
      if (formats === undefined || formats.every((f) => f === undefined))
        return { styles: styleIds, dates: dateStyleIds };
      return {
        styles: spec.columns.map((c, i) => {
          const f = formats[i];
          return f === undefined ? (styleIds[i] ?? 0) : cellStyle(f, c);
        }),
        dates: spec.columns.map((c, i) => {
          const f = formats[i];
          return f === undefined ? (dateStyleIds[i] ?? 0) : dateStyle(f, c);
        }),
      };
    },
  };
}
