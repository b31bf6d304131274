/**
 * A small, fully materialised sheet (metric sheets, About): what to show, not how exceljs shows it. Built by
 * `transforms/` (pure), rendered by `workbook/`.
 *
 * Reading order on the sheet: the title (and a subtitle), the blocks `before` the table (e.g. the refresh time and
 * "since the last refresh"), the chart, the table, the blocks `after` it (e.g. "Not configured"), then the notes.
 */
import type { CellValue } from './table.js';

/**
 * How a value is shown. `days` is a whole number of days (the header or the unit says "days"); `month` is a date
 * shown as its month (`mmm yyyy`, in the reader's own language).
 */
export type CellFormat =
  'text' | 'integer' | 'number' | 'currency' | 'percent' | 'days' | 'date' | 'month' | 'datetime' | 'boolean';

export type CellAlign = 'left' | 'center' | 'right';

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
  readonly align?: CellAlign;
  /** Left indent (in Excel's indent steps, about one character each): a gap after a right-aligned number. */
  readonly indent?: number;
}

/** Per-cell formats aligned with rows (same row and column indexes); `undefined` keeps the column's format. */
export type CellFormats = readonly (readonly (CellFormat | undefined)[] | undefined)[];

/** A cell (0-based row and column within its rows) that links to the top of another sheet of the workbook. */
export interface SheetLink {
  readonly row: number;
  readonly column: number;
  /** The wanted name of the target sheet, as given in its spec (the writer resolves the final tab name). */
  readonly sheet: string;
}

/**
 * A few rows on the sheet's columns above or below its table, such as "Since the last refresh" or "Not configured".
 * Not an Excel table: a header row styled like the table's (when given), then the rows, then a blank row.
 */
export interface SheetBlock {
  /** Header cells aligned with the sheet's columns (null: an empty header cell). */
  readonly header?: readonly (string | null)[];
  readonly rows: readonly (readonly CellValue[])[];
  /** Per-cell formats of `rows`; otherwise a cell takes its column's format (or {@link columns}'). */
  readonly cellFormats?: CellFormats;
  /** Per-column overrides of the sheet's formats and alignment inside this block. */
  readonly columns?: readonly (Partial<Pick<SheetColumn, 'format' | 'align' | 'wrap' | 'indent'>> | undefined)[];
  /** The cell at this column spans to the sheet's last column (merged, wrapped), in the header and every row. */
  readonly spanFrom?: number;
  readonly links?: readonly SheetLink[];
  /** Row indexes (0-based within `rows`) shown bold, e.g. a label column's key lines. */
  readonly boldRows?: readonly number[];
}

/** One series of a chart: the values of one column of the table, named by its header. */
export interface ChartSeries {
  /** 0-based column of the values. */
  readonly column: number;
  readonly plot: 'bar' | 'line';
  /** The secondary axis is drawn on the right, e.g. growth in % over revenue in currency. */
  readonly axis: 'primary' | 'secondary';
  /** A line series drawn as markers only, for categories that are no sequence (one point per rep). */
  readonly markersOnly?: boolean;
  /** A dashed line, e.g. a target against the actual. */
  readonly dashed?: boolean;
}

/**
 * A native Excel chart over the sheet's table: its series reference the table's cells (so it follows a filter or an
 * edit), drawn above the table. A chart with no number to draw is never written: {@link emptyNote} is shown instead.
 */
export interface ChartSpec {
  readonly title: string;
  /** 0-based column of the category labels (stages, weeks, months, reps). */
  readonly categoryColumn: number;
  readonly categoryAxisTitle: string;
  readonly valueAxisTitle: string;
  /** Title of the secondary (right) axis; required when a series uses it. */
  readonly secondaryAxisTitle?: string;
  /** Bars: `bar` = horizontal (first category at the top, like a funnel), `column` = vertical (default). */
  readonly barDirection?: 'bar' | 'column';
  /** Bars stacked on each other (e.g. pipeline value per stage per week). */
  readonly stacked?: boolean;
  /** Print each bar's value on it. */
  readonly dataLabels?: boolean;
  readonly series: readonly ChartSeries[];
  /** One line shown in the chart's place when its data is empty or all n/a. */
  readonly emptyNote: string;
}

export interface SheetSpec {
  /** Tab name (the writer sanitises and de-duplicates it). */
  readonly name: string;
  /** Optional bold title line above the table, and lines of notes under it. */
  readonly title?: string;
  /** A line under the title, e.g. the period the sheet covers. */
  readonly subtitle?: string;
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
  readonly cellFormats?: CellFormats;
  /** Blocks between the title and the table. */
  readonly before?: readonly SheetBlock[];
  /** Blocks between the table and the notes. */
  readonly after?: readonly SheetBlock[];
  /** A chart over the table, drawn between the blocks before it and the table. */
  readonly chart?: ChartSpec;
  /** Render as an Excel table with autofilter (default true). */
  readonly asTable?: boolean;
  /** Column indexes (0-based) that get Excel data bars, so e.g. the Funnel reads as a funnel. */
  readonly dataBars?: readonly number[];
  /** Column indexes (0-based) whose negative numbers show in red: a conditional format, so it follows edits. */
  readonly negativeRed?: readonly number[];
  /** Workbook-level defined names pointing at single cells of this sheet (row/column 0-based within `rows`). */
  readonly definedNames?: readonly { readonly name: string; readonly row: number; readonly column: number }[];
  /** Currency code/symbol for `currency` cells (default `$`). */
  readonly currency?: string;
  /** Decimals of `currency` cells: 0 (whole units, the default) or 2 (cents, when the source has cents). */
  readonly currencyDecimals?: 0 | 2;
  /** Print on a single page (scaled to fit both ways), e.g. the Summary; by default one page wide. */
  readonly printOnOnePage?: boolean;
}
