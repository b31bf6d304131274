/** The styles of a spec sheet's cells: each column's format, and the per-cell formats that override it. */
import type { CellFormat, CellFormats, SheetBlock, SheetColumn, SheetSpec } from '../shared/sheet-spec.js';
import { DATETIME_FORMAT, formatForCellFormat } from './number-formats.js';
import type { StyleCache } from './style-cache.js';

export interface RowStyles {
  /** Style id of each column's cell. */
  readonly styles: readonly number[];
  /** Style id of each column's cell when it holds a Date. */
  readonly dates: readonly number[];
}

export interface SpecCellStyles {
  /** The styles of row `rowIndex` (0-based within the rows these styles were made for). */
  forRow(rowIndex: number): RowStyles;
}

const isDateFormat = (f: CellFormat): boolean => f === 'date' || f === 'month' || f === 'datetime';

/** Registers the columns' styles of the sheet's table now; a row's overriding styles when it is asked for. */
export function createSpecCellStyles(styles: StyleCache, spec: SheetSpec): SpecCellStyles {
  return createCellStyles(styles, spec, spec.columns, spec.cellFormats);
}

/**
 * The styles of a block's rows: the sheet's columns with the block's overrides (format, alignment, wrapping), and
 * `bold` rows in a bold variant.
 */
export function createBlockCellStyles(
  styles: StyleCache,
  spec: SheetSpec,
  block: SheetBlock,
): SpecCellStyles & { readonly columns: readonly SheetColumn[] } {
  const columns = spec.columns.map((c, i) => ({ ...c, ...block.columns?.[i] }));
  const plain = createCellStyles(styles, spec, columns, block.cellFormats);
  const bold = createCellStyles(styles, spec, columns, block.cellFormats, true);
  const boldRows = new Set(block.boldRows ?? []);
  return {
    columns,
    forRow: (rowIndex) => (boldRows.has(rowIndex) ? bold : plain).forRow(rowIndex),
  };
}

function createCellStyles(
  styles: StyleCache,
  spec: SheetSpec,
  columns: readonly SheetColumn[],
  cellFormats: CellFormats | undefined,
  bold = false,
): SpecCellStyles {
  const cellStyle = (format: CellFormat, column: SheetColumn): number =>
    styles.specCell(
      formatForCellFormat(format, spec.currency, spec.currencyDecimals ?? 0),
      isDateFormat(format),
      column,
      bold,
    );
  // A Date in a column or cell not formatted as a date still shows as a date.
  const dateStyle = (format: CellFormat, column: SheetColumn): number =>
    isDateFormat(format) ? cellStyle(format, column) : styles.specCell(DATETIME_FORMAT, true, column, bold);
  const styleIds = columns.map((c) => cellStyle(c.format, c));
  const dateStyleIds = columns.map((c) => dateStyle(c.format, c));
  return {
    forRow(rowIndex) {
      const formats = cellFormats?.[rowIndex];
      if (formats === undefined || formats.every((f) => f === undefined))
        return { styles: styleIds, dates: dateStyleIds };
      return {
        styles: columns.map((c, i) => {
          const f = formats[i];
          return f === undefined ? (styleIds[i] ?? 0) : cellStyle(f, c);
        }),
        dates: columns.map((c, i) => {
          const f = formats[i];
          return f === undefined ? (dateStyleIds[i] ?? 0) : dateStyle(f, c);
        }),
      };
    },
  };
}
