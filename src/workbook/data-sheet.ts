/**
 * Data sheets: one view streamed into one Excel table, continued on `Name (2)`, `Name (3)`, ... past the row limit.
 * Any number of rows, with memory flat: rows are rendered as XML and written with the compressor's backpressure.
 */
import type { TableUpdateSummary } from '../contracts/run-report.js';
import type { ColumnSpec, TypedRow } from '../shared/table.js';
import { columnLetter, createRowRenderer, emptyIssueCounts, renderRowXml, type CellIssueCounts } from './cell-xml.js';
import { estimateColumnWidth } from './column-widths.js';
import { DATETIME_FORMAT, formatForColumn } from './number-formats.js';
import { orientationFor, type OpenSheet, type SheetLayout } from './open-sheet.js';
import type { DefinedNames } from './defined-names.js';
import type { RowSink } from './row-sink.js';
import type { SheetTrailer } from './sheet-trailer.js';
import type { SheetNamer } from './sheet-names.js';
import type { StyleCache } from './style-cache.js';
import { toTableColumnNames, type WorkbookNameRegistry } from './table-part.js';
import { throwIfAborted } from './write-errors.js';

const WIDTH_SAMPLE_ROWS = 100;
const PROGRESS_EVERY_ROWS = 10_000;

export interface DataSheetInput {
  /** Wanted tab name; sanitised and made unique. Overflow sheets are named `Name (2)`, `Name (3)`, ... */
  name: string;
  columns: readonly ColumnSpec[];
  rows: AsyncIterable<TypedRow>;
  /** Called about every 10,000 rows and once at the end with the number of data rows written so far. */
  onProgress?: ((rowsWritten: number) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** The Excel table's name (default: the sheet name made into a valid table name). */
  table?: string | undefined;
  /** Update mode: how the rows meet the team's table (ignored when a new workbook is written). */
  update?: DataSheetUpdate | undefined;
}

/** What update mode needs to refresh a team's table with a view. */
export interface DataSheetUpdate {
  /** The view's column that identifies a row, so teammate values follow their rows. */
  readonly key: string | undefined;
  /** The setting that names the key, for messages (`views[0].key`, `metrics.columns.id`). */
  readonly keySetting: string;
  /** The view's columns at the last successful run (a table column among them that the view lost vanished). */
  readonly previousColumns: readonly string[] | undefined;
  /** How many rows `rows` yields (known from the typing pass): the table's new size. */
  readonly rowCount: number;
}

export type { TableUpdateSummary } from '../contracts/run-report.js';

export interface DataSheetResult {
  /** Final tab names: the first, then any overflow sheets. */
  sheetNames: string[];
  /** Data rows written (over all sheets). */
  rows: number;
  /** Text cells cut to Excel's 32,767-character limit. */
  truncatedCells: number;
  warnings: string[];
  /** Update mode: what happened to the team's own cells of the table. */
  update?: TableUpdateSummary | undefined;
}

/** What a data sheet needs from the workbook. */
export interface DataSheetDeps {
  readonly namer: SheetNamer;
  readonly names: WorkbookNameRegistry;
  readonly styles: StyleCache;
  /** Data rows per sheet before continuing on the next one. */
  readonly maxRowsPerSheet: number;
  readonly definedNames: Pick<DefinedNames, 'setPrintTitleRow' | 'setPrintArea'>;
  /** The page footer (Excel header/footer codes), in the workbook's language. */
  readonly printFooter: string;
  openSheet(name: string, layout: SheetLayout): OpenSheet;
  closeSheet(sheet: OpenSheet, trailer: SheetTrailer): void;
  openRowSink(sheet: OpenSheet, signal: AbortSignal | undefined): Promise<RowSink>;
}

/** How every row of one data sheet is rendered (the same for its overflow sheets). */
interface DataSheetColumns {
  readonly columnNames: readonly string[];
  readonly columnRefs: readonly string[];
  readonly styleIds: readonly number[];
  readonly dateStyleIds: readonly number[];
  readonly headerXml: string;
}

/** The rows being read: `exhausted` once the iterator said done (then it needs no `return()`). */
interface RowSource {
  readonly iterator: AsyncIterator<TypedRow>;
  exhausted: boolean;
}

/**
 * Streams `input.rows` into sheets named after `input.name`, each an Excel table with a frozen header, columns as
 * wide as the first 100 rows need. Cells Excel cannot hold are counted and reported as warnings. Throws
 * AbortedError when `input.signal` aborts, or the workbook's write error. The source's iterator is always
 * finished (`return()`) when it was not read to the end.
 */
export async function writeDataSheet(deps: DataSheetDeps, input: DataSheetInput): Promise<DataSheetResult> {
  throwIfAborted(input.signal, input.name);
  const columns = renderDataSheetColumns(deps.styles, input.columns);
  const source: RowSource = { iterator: input.rows[Symbol.asyncIterator](), exhausted: false };
  try {
    const sample = await readSample(source);
    const widths = input.columns.map((c, i) =>
      estimateColumnWidth(
        columns.columnNames[i] ?? '',
        c.type,
        sample.map((row) => row[i]),
      ),
    );
    return await streamDataRows(deps, input, columns, widths, sample, source);
  } finally {
    // Lets the source release its connection or spool file; its own failure must not hide ours.
    if (!source.exhausted) await Promise.resolve(source.iterator.return?.()).catch(() => undefined);
  }
}

function renderDataSheetColumns(styles: StyleCache, columns: readonly ColumnSpec[]): DataSheetColumns {
  const columnNames = toTableColumnNames(columns.map((c) => c.name));
  const columnRefs = columns.map((_, i) => columnLetter(i));
  const styleIds = columns.map((c) => styles.numFmt(formatForColumn(c), c.type === 'date' || c.type === 'datetime'));
  const dateStyleIds = columns.map((c, i) =>
    c.type === 'date' || c.type === 'datetime' ? (styleIds[i] ?? 0) : styles.numFmt(DATETIME_FORMAT, true),
  );
  const headerStyle = styles.header();
  const headerXml = renderRowXml(
    1,
    columnNames,
    columnRefs,
    columnNames.map(() => headerStyle),
    emptyIssueCounts(),
  );
  return { columnNames, columnRefs, styleIds, dateStyleIds, headerXml };
}

/** The first rows, read ahead to size the columns before the sheet is opened. */
async function readSample(source: RowSource): Promise<TypedRow[]> {
  const sample: TypedRow[] = [];
  while (sample.length < WIDTH_SAMPLE_ROWS) {
    const next = await source.iterator.next();
    if (next.done === true) {
      source.exhausted = true;
      break;
    }
    sample.push(next.value);
  }
  return sample;
}

/**
 * The row loop: the sample, then the rest of the source, overflowing onto a new sheet at the row limit. This is
 * the hot path (once per row, up to millions): a row costs its rendered XML and one batched write, and nothing
 * more may be allocated or awaited per row.
 */
async function streamDataRows(
  deps: DataSheetDeps,
  input: DataSheetInput,
  columns: DataSheetColumns,
  widths: readonly number[],
  sample: readonly TypedRow[],
  source: RowSource,
): Promise<DataSheetResult> {
  const { signal } = input;
  const { columnNames, columnRefs, styleIds, dateStyleIds, headerXml } = columns;
  const renderRow = createRowRenderer(columnRefs, styleIds, dateStyleIds);
  const maxRows = deps.maxRowsPerSheet;
  // Printed landscape when wide, one page wide, the header on every page, the table and nothing else.
  const layout: SheetLayout = {
    widths,
    frozenHeaderRow: 1,
    print: { orientation: orientationFor(widths.reduce((sum, w) => sum + w, 0)), footer: deps.printFooter },
  };
  const sheetNames: string[] = [];
  const issues = emptyIssueCounts();
  const firstIssueRow = emptyIssueCounts();
  let total = 0;
  let lastProgress = 0;

  let sheet = deps.openSheet(deps.namer.take(input.name), layout);
  sheetNames.push(sheet.name);
  let sink = await deps.openRowSink(sheet, signal);
  await sink.write(headerXml);
  let rowInSheet = 0;

  const closeCurrent = async (): Promise<void> => {
    await sink.flush();
    deps.definedNames.setPrintTitleRow(sheet.name, 1);
    deps.definedNames.setPrintArea(
      sheet.name,
      `A1:${columnRefs[columnRefs.length - 1] ?? 'A'}${Math.max(1, rowInSheet) + 1}`,
    );
    const tableName = deps.names.takeTableName(sheetNames.length === 1 ? (input.table ?? sheet.name) : sheet.name);
    deps.closeSheet(sheet, { table: { name: tableName, headerRow: 1, dataRows: rowInSheet, columnNames } });
  };

  const nextSheet = async (): Promise<void> => {
    await closeCurrent();
    sheet = deps.openSheet(deps.namer.take(sheetNames[0] ?? input.name), layout);
    sheetNames.push(sheet.name);
    sink = await deps.openRowSink(sheet, signal);
    await sink.write(headerXml);
    rowInSheet = 0;
  };

  // Synchronous for nearly every row: the returned promise (to await) only when a sheet ends or the batch is written.
  const writeRow = (row: TypedRow): Promise<void> | undefined => {
    if (rowInSheet === maxRows) return nextSheet().then(() => writeRow(row));
    rowInSheet += 1;
    total += 1;
    const before = issues.truncated + issues.nonFinite + issues.unrepresentableDates;
    const wait = sink.write(renderRow(rowInSheet + 1, row, issues));
    if (issues.truncated + issues.nonFinite + issues.unrepresentableDates !== before) {
      noteFirstIssue(firstIssueRow, issues, total);
    }
    if (total - lastProgress >= PROGRESS_EVERY_ROWS) {
      lastProgress = total;
      throwIfAborted(signal, input.name);
      input.onProgress?.(total);
    }
    return wait;
  };

  for (const row of sample) await writeRow(row);
  const { iterator } = source;
  while (!source.exhausted) {
    const next = await iterator.next();
    if (next.done === true) {
      source.exhausted = true;
      break;
    }
    const wait = writeRow(next.value);
    if (wait !== undefined) await wait;
  }
  throwIfAborted(signal, input.name);
  await closeCurrent();
  input.onProgress?.(total);

  const warnings = dataSheetWarnings(sheetNames, total, maxRows, issues, firstIssueRow);
  return { sheetNames, rows: total, truncatedCells: issues.truncated, warnings };
}

function noteFirstIssue(first: CellIssueCounts, issues: CellIssueCounts, row: number): void {
  if (issues.truncated > 0 && first.truncated === 0) first.truncated = row;
  if (issues.nonFinite > 0 && first.nonFinite === 0) first.nonFinite = row;
  if (issues.unrepresentableDates > 0 && first.unrepresentableDates === 0) first.unrepresentableDates = row;
}

function dataSheetWarnings(
  sheetNames: readonly string[],
  total: number,
  maxRows: number,
  issues: CellIssueCounts,
  firstRow: CellIssueCounts,
): string[] {
  const first = sheetNames[0] ?? '';
  const warnings: string[] = [];
  if (sheetNames.length > 1) {
    warnings.push(
      `sheet '${first}': ${total.toLocaleString('en-US')} rows exceed Excel's ${maxRows.toLocaleString('en-US')} rows per sheet; ` +
        `continued on ${sheetNames
          .slice(1)
          .map((n) => `'${n}'`)
          .join(', ')}`,
    );
  }
  if (issues.truncated > 0) {
    warnings.push(
      `sheet '${first}': ${issues.truncated} text cell(s) longer than Excel's 32,767 characters were cut (first in data row ${firstRow.truncated})`,
    );
  }
  if (issues.nonFinite > 0) {
    warnings.push(
      `sheet '${first}': ${issues.nonFinite} numeric cell(s) held NaN or Infinity and were left blank (first in data row ${firstRow.nonFinite})`,
    );
  }
  if (issues.unrepresentableDates > 0) {
    warnings.push(
      `sheet '${first}': ${issues.unrepresentableDates} date(s) invalid or before 1900-01-01 (Excel cannot show them) were left blank (first in data row ${firstRow.unrepresentableDates})`,
    );
  }
  return warnings;
}
