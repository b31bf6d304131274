/**
 * Where a spec sheet's parts go: its rows (title, blocks, chart, table, blocks, notes), columns, widths, chart
 * anchor and print layout, decided before it is written.
 */
import { WorkbookError } from '../shared/errors.js';
import type { CellFormat, SheetBlock, SheetSpec } from '../shared/sheet-spec.js';
import { columnLetter } from './cell-xml.js';
import { chartHasData, validateChart } from './charts/chart-data.js';
import type { ChartAnchor } from './charts/drawing-part.js';
import { estimateColumnWidth, type WidthKind } from './column-widths.js';
import { validateBlocks, validateCellFormats } from './spec-sheet-validation.js';
import { orientationFor } from './open-sheet.js';
import { toTableColumnNames } from './table-part.js';

/** Rows a chart takes (at the default 15 pt: 300 pt, about 10.6 cm) and its width in characters, within bounds. */
export const CHART_ROWS = 20;
const CHART_MIN_WIDTH = 90;
const CHART_MAX_WIDTH = 130;
// Excel's default column width (Calibri 11), for columns right of the table that a chart spans.
const DEFAULT_COLUMN_WIDTH = 8.43;

/** A block's rows: its header row (when it has one) and its first row, 1-based. */
export interface BlockLayout {
  readonly block: SheetBlock;
  readonly headerRow: number | undefined;
  readonly firstRow: number;
}

/** The chart's place: drawn over rows, or a one-line note in its place when there is nothing to draw. */
export type ChartPlace =
  | { readonly kind: 'chart'; readonly anchor: ChartAnchor }
  | { readonly kind: 'note'; readonly row: number; readonly text: string };

export interface SpecSheetLayout {
  readonly sheetName: string;
  readonly asTable: boolean;
  readonly titleRow: number | undefined;
  readonly subtitleRow: number | undefined;
  readonly before: readonly BlockLayout[];
  readonly chart: ChartPlace | undefined;
  /** 1-based row of the table's header. */
  readonly headerRow: number;
  readonly firstDataRow: number;
  readonly after: readonly BlockLayout[];
  readonly firstNoteRow: number;
  /** The last row with content (the last note, block row, data row or the chart's last row). */
  readonly lastRow: number;
  /** Column letters, from `A`. */
  readonly columnRefs: readonly string[];
  readonly lastColumnRef: string;
  /** Header texts; valid table column names when the sheet is a table. */
  readonly columnNames: readonly string[];
  readonly widths: readonly number[];
  readonly totalWidth: number;
  /** The header row, frozen with the rows above it when no chart or block sits there; else nothing is frozen. */
  readonly frozenHeaderRow: number | undefined;
  readonly print: {
    /** The last printed column (the table's, or the chart's when it is wider) and the printed width in characters. */
    readonly lastColumnRef: string;
    readonly width: number;
    readonly orientation: 'portrait' | 'landscape';
    readonly onePage: boolean;
    /** The printed range, e.g. `A1:H40`: the table, its blocks, notes and chart. */
    readonly area: string;
  };
}

/**
 * Lays out `spec` as sheet `sheetName`. Throws WORKBOOK_INVALID_SPEC for no columns, misaligned cellFormats or
 * blocks wider than the sheet.
 */
export function planSpecSheetLayout(spec: SheetSpec, sheetName: string): SpecSheetLayout {
  const asTable = spec.asTable !== false;
  const columnRefs = spec.columns.map((_, i) => columnLetter(i));
  const lastColumnRef = columnRefs[columnRefs.length - 1];
  if (lastColumnRef === undefined) {
    throw new WorkbookError(
      'WORKBOOK_INVALID_SPEC',
      `sheet '${spec.name}' has no columns; a sheet needs at least one column`,
    );
  }
  validateCellFormats(spec);
  validateBlocks(spec);
  const columnNames = asTable
    ? toTableColumnNames(spec.columns.map((c) => c.header))
    : spec.columns.map((c) => c.header);
  const widths = specColumnWidths(spec, columnNames);
  const totalWidth = widths.reduce((sum, w) => sum + w, 0);

  let row = 1;
  const titleRow = spec.title === undefined ? undefined : row++;
  const subtitleRow = spec.subtitle === undefined ? undefined : row++;
  if (titleRow !== undefined || subtitleRow !== undefined) row += 1;
  const placeBlocks = (blocks: readonly SheetBlock[] | undefined): BlockLayout[] =>
    (blocks ?? []).map((block) => {
      const headerRow = block.header === undefined ? undefined : row++;
      const placed = { block, headerRow, firstRow: row };
      row += block.rows.length + 1;
      return placed;
    });
  const before = placeBlocks(spec.before);
  let chart: ChartPlace | undefined;
  let chartColumns = 0;
  if (spec.chart !== undefined) {
    validateChart(spec, spec.chart);
    if (chartHasData(spec, spec.chart)) {
      const toColumn = chartEndColumn(widths, totalWidth);
      chartColumns = toColumn;
      chart = { kind: 'chart', anchor: { fromColumn: 0, fromRow: row - 1, toColumn, toRow: row - 1 + CHART_ROWS } };
      row += CHART_ROWS + 1;
    } else {
      chart = { kind: 'note', row, text: spec.chart.emptyNote };
      row += 2;
    }
  }
  const headerRow = row;
  const firstDataRow = headerRow + 1;
  const lastTableRow = firstDataRow + Math.max(spec.rows.length, asTable ? 1 : 0) - 1;
  row = lastTableRow + 2;
  const after = placeBlocks(spec.after);
  const firstNoteRow = after.length > 0 ? row : lastTableRow + 2;
  const notes = spec.notes?.length ?? 0;
  const lastRow = notes > 0 ? firstNoteRow + notes - 1 : after.length > 0 ? row - 2 : lastTableRow;

  const printColumns = Math.max(columnRefs.length, chartColumns);
  const printWidth = chartColumns > columnRefs.length ? chartWidthOf(widths, chartColumns) : totalWidth;
  return {
    sheetName,
    asTable,
    titleRow,
    subtitleRow,
    before,
    chart,
    headerRow,
    firstDataRow,
    after,
    firstNoteRow,
    lastRow,
    columnRefs,
    lastColumnRef,
    columnNames,
    widths,
    totalWidth,
    // Frozen only when nothing tall sits above the header: a frozen chart or block would fill the screen.
    frozenHeaderRow: asTable && before.length === 0 && chart?.kind !== 'chart' ? headerRow : undefined,
    print: {
      lastColumnRef: columnLetter(printColumns - 1),
      width: printWidth,
      orientation: orientationFor(printWidth),
      onePage: spec.printOnOnePage === true,
      area: `A1:${columnLetter(printColumns - 1)}${lastRow}`,
    },
  };
}

/** The 0-based column just past a chart as wide as the table, within bounds (columns past the table: default width). */
function chartEndColumn(widths: readonly number[], totalWidth: number): number {
  const target = Math.min(CHART_MAX_WIDTH, Math.max(CHART_MIN_WIDTH, totalWidth));
  let covered = 0;
  let column = 0;
  while (covered < target) {
    covered += widths[column] ?? DEFAULT_COLUMN_WIDTH;
    column += 1;
  }
  return column;
}

function chartWidthOf(widths: readonly number[], columns: number): number {
  let width = 0;
  for (let i = 0; i < columns; i += 1) width += widths[i] ?? DEFAULT_COLUMN_WIDTH;
  return width;
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
  return format === 'month' ? 'date' : format;
}
