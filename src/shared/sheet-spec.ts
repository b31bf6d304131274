/**
 * A small, fully materialised sheet (metric sheets, About): what to show, not how exceljs shows it. Built by
 * `transforms/` (pure), rendered by `workbook/`.
 */
import type { CellValue } from './table.js';

/** How a column's values are shown. `days` is a number with a "days" suffix format. */
export type CellFormat = 'text' | 'integer' | 'number' | 'currency' | 'percent' | 'days' | 'date' | 'datetime' | 'boolean';

export interface SheetColumn {
  readonly header: string;
  readonly format: CellFormat;
  /** Characters; the writer picks a sensible width when absent. */
  readonly width?: number;
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
  /** Render as an Excel table with autofilter (default true). */
  readonly asTable?: boolean;
  /** Column indexes (0-based) that get Excel data bars, so e.g. the Funnel reads as a funnel. */
  readonly dataBars?: readonly number[];
  /** Workbook-level defined names pointing at single cells of this sheet (row/column 0-based within `rows`). */
  readonly definedNames?: readonly { readonly name: string; readonly row: number; readonly column: number }[];
  /** Currency code/symbol for `currency` columns (default `$`). */
  readonly currency?: string;
}
