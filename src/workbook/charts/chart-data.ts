/**
 * A {@link ChartSpec} resolved against the sheet it is drawn on: the ranges of its categories and series in the
 * table's cells, their cached values, and the number formats of those cells. Pure.
 */
import { WorkbookError } from '../../shared/errors.js';
import type { CellFormat, ChartSpec, SheetSpec } from '../../shared/sheet-spec.js';
import type { CellValue } from '../../shared/table.js';
import { dateToExcelSerial } from '../cell-xml.js';
import { formatForCellFormat } from '../number-formats.js';
import { quoteSheetName } from '../sheet-names.js';
import type { ChartCache, ChartPartInput, ChartRange } from './chart-part.js';

/** Where the table is: the final sheet name, the header row and the first data row (1-based), column letters. */
export interface ChartTablePosition {
  readonly sheetName: string;
  readonly headerRow: number;
  readonly firstDataRow: number;
  readonly columnRefs: readonly string[];
  /** The header texts as written in the header cells (table column names). */
  readonly columnNames: readonly string[];
}

/**
 * True when some series of `chart` has a number other than 0 in some row: only then is a chart worth drawing (a
 * chart of nothing but gaps and zeros says less than the one line that stands in for it).
 */
export function chartHasData(spec: SheetSpec, chart: ChartSpec): boolean {
  return chart.series.some((s) =>
    spec.rows.some((row) => {
      const value = row[s.column];
      return isNumber(value) && value !== 0;
    }),
  );
}

/**
 * The chart part's input for `chart` over `spec`'s table at `position`. Throws WORKBOOK_INVALID_SPEC for a column
 * outside the table, a secondary series without a secondary axis title, or a chart without primary series.
 */
export function resolveChart(spec: SheetSpec, chart: ChartSpec, position: ChartTablePosition): ChartPartInput {
  validateChart(spec, chart);
  const { sheetName, firstDataRow, headerRow, columnRefs, columnNames } = position;
  const lastDataRow = firstDataRow + spec.rows.length - 1;
  const sheet = `'${quoteSheetName(sheetName)}'`;
  const range = (column: number): string => {
    const letter = columnRefs[column] ?? 'A';
    return `${sheet}!$${letter}$${firstDataRow}:$${letter}$${lastDataRow}`;
  };
  const formatCode = (column: number): string =>
    formatForCellFormat(columnFormat(spec, column), spec.currency, spec.currencyDecimals ?? 0) ?? 'General';
  const category = columnFormat(spec, chart.categoryColumn);
  const categoryIsDate = category === 'date' || category === 'month' || category === 'datetime';
  const categories: ChartRange = {
    ref: range(chart.categoryColumn),
    cache: categoryCache(
      spec.rows,
      chart.categoryColumn,
      categoryIsDate ? formatCode(chart.categoryColumn) : undefined,
    ),
  };
  const primary = chart.series.find((s) => s.axis === 'primary');
  const secondary = chart.series.find((s) => s.axis === 'secondary');
  return {
    title: chart.title,
    categories,
    series: chart.series.map((s) => ({
      name: { ref: `${sheet}!$${columnRefs[s.column] ?? 'A'}$${headerRow}`, text: columnNames[s.column] ?? '' },
      values: {
        ref: range(s.column),
        cache: {
          kind: 'number',
          formatCode: formatCode(s.column),
          values: spec.rows.map((row) => numberAt(row, s.column)),
        },
      },
      plot: s.plot,
      axis: s.axis,
      markersOnly: s.markersOnly === true,
      dashed: s.dashed === true,
    })),
    barDirection: chart.barDirection ?? 'column',
    stacked: chart.stacked === true,
    dataLabels: chart.dataLabels === true,
    categoryAxis: {
      title: chart.categoryAxisTitle,
      formatCode: categoryIsDate ? formatCode(chart.categoryColumn) : undefined,
    },
    valueAxis: { title: chart.valueAxisTitle, formatCode: formatCode(primary?.column ?? 0) },
    secondaryAxis:
      secondary === undefined
        ? undefined
        : { title: chart.secondaryAxisTitle ?? '', formatCode: formatCode(secondary.column) },
  };
}

/**
 * Throws WORKBOOK_INVALID_SPEC unless `chart` fits `spec`'s table: its columns inside it, some series on the primary
 * axis, and a title for the secondary axis when a series uses it.
 */
export function validateChart(spec: SheetSpec, chart: ChartSpec): void {
  const fail = (problem: string): never => {
    throw new WorkbookError('WORKBOOK_INVALID_SPEC', `sheet '${spec.name}': chart '${chart.title}' ${problem}`);
  };
  const inside = (column: number): boolean => Number.isInteger(column) && column >= 0 && column < spec.columns.length;
  if (!inside(chart.categoryColumn)) fail(`has its categories in column ${chart.categoryColumn}, outside the table`);
  if (chart.series.length === 0) fail('has no series');
  for (const s of chart.series) if (!inside(s.column)) fail(`has a series in column ${s.column}, outside the table`);
  if (!chart.series.some((s) => s.axis === 'primary')) fail('has no series on the primary axis');
  if (chart.series.some((s) => s.axis === 'secondary') && chart.secondaryAxisTitle === undefined) {
    fail('has a series on the secondary axis but no secondaryAxisTitle');
  }
}

/** The format of a column's cells in a chart: the column's own (per-cell formats are for KPI tables, not charts). */
function columnFormat(spec: SheetSpec, column: number): CellFormat {
  return spec.columns[column]?.format ?? 'text';
}

function isNumber(value: CellValue | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function numberAt(row: readonly CellValue[], column: number): number | null {
  const value = row[column];
  return isNumber(value) ? value : null;
}

/** Categories as Excel serials (for dates) or as the texts the cells show. */
function categoryCache(
  rows: readonly (readonly CellValue[])[],
  column: number,
  dateFormat: string | undefined,
): ChartCache {
  if (dateFormat !== undefined) {
    return {
      kind: 'number',
      formatCode: dateFormat,
      values: rows.map((row) => {
        const value = row[column];
        return value instanceof Date ? (dateToExcelSerial(value) ?? null) : isNumber(value) ? value : null;
      }),
    };
  }
  return {
    kind: 'text',
    values: rows.map((row) => {
      const value = row[column];
      if (value === null || value === undefined) return null;
      return value instanceof Date ? value.toISOString().slice(0, 10) : String(value);
    }),
  };
}
