/**
 * A small, fully materialised sheet (metric sheets, About): what to show, not how exceljs shows it. Built by
 * `transforms/` (pure), rendered by `workbook/`.
 */
import type { CellValue } from './table.js';

/** How a value is shown. `days` is a number with a "days" suffix format. */
export type CellFormat =
  'text' | 'integer' | 'number' | 'currency' | 'percent' | 'days' | 'date' | 'datetime' | 'boolean';

export interface SheetColumn {
  readonly header: string;
  /** The format of the column's cells, unless {@link SheetSpec.cellFormats} gives one for a cell. */
  readonly format: CellFormat;
  /** Characters; the writer picks a sensible width when absent. With `wrap`, the width text wraps at. */
  readonly width?: number;
  /**
   * Wrap long text onto more lines within the column width (the row grows to fit) instead of letting it run into
   * the next cell or be cut off. For prose such as definitions.
   */
  readonly wrap?: boolean;
  /** Horizontal alignment; by default numbers go right and text left. */
  readonly align?: 'left' | 'center' | 'right';
}

export interface SheetSpec {
  /** Tab name (the writer sanitises and de-duplicates it). */
  readonly name: string;
  /** Optional bold title line above the table, and lines of notes under it. */
  readonly title?: string;
  readonly notes?: readonly string[];
  readonly columns: readonly SheetColumn[];
  /**
   * Rows of cells aligned with `columns`. A string in a numeric column is shown as text, which is how "n/a (no won
   * deals)" is written: never NaN or Infinity.
   */
  readonly rows: readonly (readonly CellValue[])[];
  /**
   * Per-cell formats aligned with `rows` (same row and column indexes), overriding the column's format where given;
   * a missing row, a short row or `undefined` keeps the column's. Lets one column hold values of different kinds,
   * e.g. a KPI table's single Value column with currency, percent, days and counts. Meant for small sheets: data
   * sheets keep one style per column.
   */
  readonly cellFormats?: readonly (readonly (CellFormat | undefined)[] | undefined)[];
  /** Render as an Excel table with autofilter (default true). */
  readonly asTable?: boolean;
  /** Column indexes (0-based) that get Excel data bars, so e.g. the Funnel reads as a funnel. */
  readonly dataBars?: readonly number[];
  /** Workbook-level defined names pointing at single cells of this sheet (row/column 0-based within `rows`). */
  readonly definedNames?: readonly { readonly name: string; readonly row: number; readonly column: number }[];
  /** Currency code/symbol for `currency` cells (default `$`). */
  readonly currency?: string;
}
