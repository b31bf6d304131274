/**
 * Streams a workbook to a file: data sheets (one Excel table each, any number of rows, memory flat) and small
 * metric/About sheets from {@link SheetSpec}s. exceljs's streaming WorkbookWriter provides the package (styles,
 * workbook.xml, relationships, zip); this module writes the rows, the tables, the conditional formats and the
 * backpressure that exceljs lacks. Private exceljs details are confined to `exceljs-internals.ts`.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type ExcelJS from 'exceljs';
import { AbortedError, AppError, WorkbookError } from '../shared/errors.js';
import type { CellFormat, SheetColumn, SheetSpec } from '../shared/sheet-spec.js';
import type { ColumnSpec, TypedRow } from '../shared/table.js';
import { columnLetter, renderRowXml, type CellIssueCounts } from './cell-xml.js';
import { estimateColumnWidth, type WidthKind } from './column-widths.js';
import {
  createStreamingWorkbook,
  EXCELJS_DATE_CELL_TYPE,
  worksheetInternals,
  bufferedBytes,
  type StreamBufInternals,
  type WorksheetInternals,
} from './exceljs-internals.js';
import { DATETIME_FORMAT, formatForCellFormat, formatForColumn } from './number-formats.js';
import { createSheetNamer } from './sheet-names.js';
import { createWorkbookNameRegistry, renderTablePartXml, toTableColumnNames } from './table-part.js';

/** Excel's last row is 1,048,576; one is the header. */
export const EXCEL_MAX_DATA_ROWS = 1_048_575;
/**
 * Default deflate level. Measured at 1M rows × 15 columns: level 1 writes in ≈ 0.55× the time of level 6 for a
 * file ≈ 1.27× larger, which is still ≈ the size of exceljs's own default output (its `t="str"` cells and per-cell
 * styles are bigger than what we write). Deflate is most of the writing time, so speed wins.
 */
export const DEFAULT_ZIP_LEVEL = 1;

// Rows are serialised into one string until it reaches this size, then written in one piece.
const WRITE_BATCH_CHARS = 64 * 1024;
// Uncompressed sheet XML allowed to wait for the compressor before we stop producing rows.
const MAX_BUFFERED_BYTES = 1024 * 1024;
const WIDTH_SAMPLE_ROWS = 100;
const PROGRESS_EVERY_ROWS = 10_000;
const PIPE_POLL_MS = 2;

// Column widths (characters) that fit across a portrait page at 100 %; wider spec sheets print landscape. Either
// way they are scaled to one page wide.
const PORTRAIT_MAX_WIDTH = 100;
// Points per line of 11-pt text: Excel's default row height.
const LINE_HEIGHT_POINTS = 15;
// Characters of prose per unit of column width, with a margin (see estimateWrappedLines).
const PROSE_CHARS_PER_WIDTH = 1.15;
// Characters of a table header cell covered by its filter button.
const FILTER_BUTTON_WIDTH = 3;

const TABLE_REL_TYPE = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/table';
const DATA_BAR_COLOR = 'FF638EC6';

export interface DataSheetInput {
  /** Wanted tab name; sanitised and made unique. Overflow sheets are named `Name (2)`, `Name (3)`, ... */
  name: string;
  columns: readonly ColumnSpec[];
  rows: AsyncIterable<TypedRow>;
  /** Called about every 10,000 rows and once at the end with the number of data rows written so far. */
  onProgress?: ((rowsWritten: number) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface DataSheetResult {
  /** Final tab names: the first, then any overflow sheets. */
  sheetNames: string[];
  /** Data rows written (over all sheets). */
  rows: number;
  /** Text cells cut to Excel's 32,767-character limit. */
  truncatedCells: number;
  warnings: string[];
}

export interface WorkbookWriter {
  /** Streams one view into one or more sheets (each an Excel table). Throws AbortedError or WorkbookError. */
  addDataSheet(input: DataSheetInput): Promise<DataSheetResult>;
  /** Renders a small sheet; returns its final tab name. Throws WorkbookError for an invalid spec. */
  addSpecSheet(spec: SheetSpec): Promise<string>;
  /** Optional final tab order by final names (names not listed keep their relative order after the listed ones). */
  setTabOrder(names: readonly string[]): void;
  /** Finishes the file. `warnings` holds what spec sheets could not show (data-sheet warnings are in their results). */
  commit(): Promise<{ bytes: number; warnings: string[] }>;
  /**
   * Stops writing and deletes the partial file; never throws. Safe to call at any time, also while a sheet is
   * being written (that call then rejects with AbortedError) and after commit (the file is then deleted too).
   */
  abort(): Promise<void>;
}

export interface WorkbookWriterOptions {
  /** Where the .xlsx is written (the pipeline passes a temp path). Created or overwritten. */
  filePath: string;
  /** Deflate level 0-9 (default {@link DEFAULT_ZIP_LEVEL}). */
  zipLevel?: number | undefined;
  creator?: string | undefined;
  /** Creation/modification time recorded in the document properties. */
  now?: Date | undefined;
  /** Data rows per sheet before continuing on `Name (2)` (default and maximum: Excel's 1,048,575). */
  maxRowsPerSheet?: number | undefined;
}

interface FailureLatch {
  readonly error: AppError | undefined;
  fail(error: AppError): void;
  /** Rejects with the first failure; never resolves. */
  readonly failed: Promise<never>;
  /** Calls `listener` once on failure; returns the unsubscribe function. */
  onFail(listener: (error: AppError) => void): () => void;
}

interface PrintLayout {
  readonly orientation: 'portrait' | 'landscape';
}

interface OpenSheet {
  readonly name: string;
  readonly internals: WorksheetInternals;
}

interface SheetTrailer {
  /** `<conditionalFormatting>` elements, already rendered. */
  conditionalFormatting?: string;
  /** The `<mergeCells>` element, already rendered. */
  mergeCells?: string;
  table?: { name: string; headerRow: number; dataRows: number; columnNames: readonly string[] };
}

/**
 * Creates a writer streaming to `options.filePath`. Call `addDataSheet`/`addSpecSheet` one at a time, then
 * `commit()`; on any failure call `abort()`, which removes the partial file.
 */
export function createWorkbookWriter(options: WorkbookWriterOptions): WorkbookWriter {
  const { filePath } = options;
  const maxRows = Math.min(options.maxRowsPerSheet ?? EXCEL_MAX_DATA_ROWS, EXCEL_MAX_DATA_ROWS);
  if (!Number.isInteger(maxRows) || maxRows < 1) {
    throw new WorkbookError('WORKBOOK_INVALID_OPTIONS', `maxRowsPerSheet must be a positive integer, got ${maxRows}`);
  }
  const zipLevel = options.zipLevel ?? DEFAULT_ZIP_LEVEL;
  if (!Number.isInteger(zipLevel) || zipLevel < 0 || zipLevel > 9) {
    throw new WorkbookError('WORKBOOK_INVALID_OPTIONS', `zipLevel must be an integer from 0 to 9, got ${zipLevel}`);
  }
  const latch = createFailureLatch();
  const fileStream = createWriteStream(filePath);
  fileStream.on('error', (err: NodeJS.ErrnoException) => latch.fail(writeFailed(filePath, err)));

  const { workbook, internals } = createStreamingWorkbook({
    stream: fileStream,
    useStyles: true,
    useSharedStrings: false,
    zip: { zlib: { level: zipLevel } },
  });
  const now = options.now ?? new Date();
  workbook.creator = options.creator ?? 'tableau-excel-export';
  workbook.lastModifiedBy = workbook.creator;
  workbook.created = now;
  workbook.modified = now;
  internals.zip.on('error', (err) => latch.fail(writeFailed(filePath, err)));

  const namer = createSheetNamer();
  const names = createWorkbookNameRegistry();
  const tableIds: number[] = [];
  const definedNames: { name: string; ranges: string[]; localSheetId?: number }[] = [];
  /** Spec sheets' header rows, repeated at the top of every printed page (added at commit, once tab order is final). */
  const printTitleRows = new Map<string, number>();
  internals._definedNames = { model: definedNames };
  const specWarnings: string[] = [];
  let tabOrder: readonly string[] = [];
  let state: 'open' | 'busy' | 'committed' | 'failed' | 'aborted' = 'open';

  // exceljs's [Content_Types].xml has no entry for table parts; without one Excel reports the file as corrupt.
  internals.addContentTypes = () => {
    const sheetIds = internals._worksheets
      .filter((ws): ws is WorksheetInternals => ws !== undefined)
      .map((ws) => ws.id);
    internals.zip.append(renderContentTypesXml(sheetIds, tableIds), { name: '[Content_Types].xml' });
    return Promise.resolve();
  };

  const styleIdCache = new Map<string, number>();
  /** One style object per distinct style: exceljs caches the `s` index by object identity. */
  const styleId = (key: string, style: object, cellType?: number): number => {
    const cached = styleIdCache.get(key);
    if (cached !== undefined) return cached;
    const id = internals.styles.addStyleModel(Object.freeze(style), cellType);
    styleIdCache.set(key, id);
    return id;
  };
  const numFmtStyleId = (numFmt: string | undefined, isDate: boolean): number =>
    numFmt === undefined ? 0 : styleId(`fmt:${numFmt}`, { numFmt }, isDate ? EXCELJS_DATE_CELL_TYPE : undefined);
  /**
   * White bold text on the theme's accent colour: what the tables' TableStyleMedium2 shows for headers in Excel,
   * written as a cell style so that readers without table styles (LibreOffice, PDF, previews) show it too, and so
   * the header font colour cannot be read as an override of the table style's white.
   */
  const headerStyleId = (wrap = false): number =>
    styleId(wrap ? 'header:wrap' : 'header', {
      font: font({ bold: true, color: { theme: 0 } }),
      fill: { type: 'pattern', pattern: 'solid', fgColor: { theme: 4 } },
      alignment: wrap ? { vertical: 'bottom', wrapText: true } : { vertical: 'middle' },
    });
  /**
   * A spec-sheet cell style: number format plus the column's alignment and wrapping (one cached style per mix).
   * Top-aligned, so a row made taller by wrapped text still reads across as one line.
   */
  const specCellStyleId = (numFmt: string | undefined, isDate: boolean, column: SheetColumn): number => {
    const wrap = column.wrap === true;
    const alignment: Partial<ExcelJS.Alignment> = {
      vertical: 'top',
      ...(wrap ? { wrapText: true } : {}),
      ...(column.align === undefined ? {} : { horizontal: column.align }),
    };
    return styleId(
      `cell:${numFmt ?? ''}|${column.align ?? ''}|${wrap}`,
      { ...(numFmt === undefined ? {} : { numFmt }), alignment },
      isDate ? EXCELJS_DATE_CELL_TYPE : undefined,
    );
  };

  function openSheet(
    name: string,
    widths: readonly number[],
    frozenHeaderRow: number | undefined,
    print?: PrintLayout,
  ): OpenSheet {
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
              // One page wide, as many pages tall as needed (0 = automatic).
              fitToPage: true,
              fitToWidth: 1,
              fitToHeight: 0,
              margins: { left: 0.4, right: 0.4, top: 0.6, bottom: 0.6, header: 0.3, footer: 0.3 },
            },
            headerFooter: { oddFooter: '&L&A&RPage &P of &N' },
          }),
    });
    sheet.columns = widths.map((width) => ({ width }));
    // An empty committed row makes exceljs write <cols> and open <sheetData>; our rows follow as XML.
    sheet.addRow([]).commit();
    return { name, internals: worksheetInternals(sheet) };
  }

  /** Commits a sheet, adding its conditional formats and table part at their schema positions. */
  function closeSheet(sheet: OpenSheet, trailer: SheetTrailer): void {
    const ws = sheet.internals;
    const { table, conditionalFormatting, mergeCells } = trailer;
    if (mergeCells !== undefined) {
      ws._writeMergeCells = () => {
        ws.stream.write(mergeCells);
      };
    }
    if (conditionalFormatting !== undefined) {
      ws._writeConditionalFormatting = () => {
        ws.stream.write(conditionalFormatting);
      };
    }
    if (table !== undefined) {
      const id = tableIds.length + 1;
      tableIds.push(id);
      const original = ws._writeCloseWorksheet.bind(ws);
      ws._writeCloseWorksheet = () => {
        const rId = ws._sheetRelsWriter.addRelationship({ Type: TABLE_REL_TYPE, Target: `../tables/table${id}.xml` });
        // <tableParts> is the last child of <worksheet> before <extLst>; exceljs writes no extLst here.
        ws.stream.write(`<tableParts count="1"><tablePart r:id="${rId}"/></tableParts>`);
        original();
      };
      internals.zip.append(renderTablePartXml({ id, ...table }), { name: `xl/tables/table${id}.xml` });
    }
    (ws as unknown as { commit(): void }).commit();
  }

  async function streamRows(
    sheet: OpenSheet,
    signal: AbortSignal | undefined,
  ): Promise<{ write(xml: string): Promise<void>; flush(): Promise<void> }> {
    let pending = '';
    const flush = async (): Promise<void> => {
      if (pending !== '') {
        sheet.internals.stream.write(pending);
        pending = '';
      }
      await waitForRoom(sheet.internals.stream, latch, signal);
    };
    await waitForRoom(sheet.internals.stream, latch, signal);
    return {
      async write(xml) {
        pending += xml;
        if (pending.length >= WRITE_BATCH_CHARS) await flush();
      },
      flush,
    };
  }

  // A function, so TypeScript does not narrow `state` across the awaits in which abort() may run.
  const isAborted = (): boolean => state === 'aborted';

  async function guarded<T>(work: () => Promise<T>): Promise<T> {
    if (state !== 'open') {
      throw new WorkbookError(
        'WORKBOOK_WRITER_STATE',
        `workbook writer for '${filePath}' is ${state}; no more sheets can be added`,
      );
    }
    state = 'busy';
    try {
      const result = await work();
      state = 'open';
      return result;
    } catch (err) {
      if (!isAborted()) state = 'failed';
      throw latch.error ?? err;
    }
  }

  async function writeDataSheet(input: DataSheetInput): Promise<DataSheetResult> {
    const { signal } = input;
    throwIfAborted(signal, input.name);
    const columnNames = toTableColumnNames(input.columns.map((c) => c.name));
    const columnRefs = input.columns.map((_, i) => columnLetter(i));
    const styleIds = input.columns.map((c) =>
      numFmtStyleId(formatForColumn(c), c.type === 'date' || c.type === 'datetime'),
    );
    const dateStyleIds = input.columns.map((c, i) =>
      c.type === 'date' || c.type === 'datetime' ? (styleIds[i] ?? 0) : numFmtStyleId(DATETIME_FORMAT, true),
    );
    const headerStyle = headerStyleId();
    const headerXml = renderRowXml(
      1,
      columnNames,
      columnRefs,
      columnNames.map(() => headerStyle),
      emptyIssues(),
    );

    const iterator = input.rows[Symbol.asyncIterator]();
    let exhausted = false;
    try {
      const sample: TypedRow[] = [];
      while (sample.length < WIDTH_SAMPLE_ROWS) {
        const next = await iterator.next();
        if (next.done === true) {
          exhausted = true;
          break;
        }
        sample.push(next.value);
      }
      const widths = input.columns.map((c, i) =>
        estimateColumnWidth(
          columnNames[i] ?? '',
          c.type,
          sample.map((row) => row[i]),
        ),
      );

      const sheetNames: string[] = [];
      const issues = emptyIssues();
      const firstIssueRow = { truncated: 0, nonFinite: 0, unrepresentableDates: 0 };
      let total = 0;
      let lastProgress = 0;

      let sheet = openSheet(namer.take(input.name), widths, 1);
      sheetNames.push(sheet.name);
      let sink = await streamRows(sheet, signal);
      await sink.write(headerXml);
      let rowInSheet = 0;

      const closeCurrent = async (): Promise<void> => {
        await sink.flush();
        const tableName = names.takeTableName(sheet.name);
        closeSheet(sheet, { table: { name: tableName, headerRow: 1, dataRows: rowInSheet, columnNames } });
      };

      const writeRow = async (row: TypedRow): Promise<void> => {
        if (rowInSheet === maxRows) {
          await closeCurrent();
          sheet = openSheet(namer.take(sheetNames[0] ?? input.name), widths, 1);
          sheetNames.push(sheet.name);
          sink = await streamRows(sheet, signal);
          await sink.write(headerXml);
          rowInSheet = 0;
        }
        rowInSheet += 1;
        total += 1;
        const before = issues.truncated + issues.nonFinite + issues.unrepresentableDates;
        await sink.write(renderRowXml(rowInSheet + 1, row, columnRefs, styleIds, issues, dateStyleIds));
        if (issues.truncated + issues.nonFinite + issues.unrepresentableDates !== before) {
          noteFirstIssue(firstIssueRow, issues, total);
        }
        if (total - lastProgress >= PROGRESS_EVERY_ROWS) {
          lastProgress = total;
          throwIfAborted(signal, input.name);
          input.onProgress?.(total);
        }
      };

      for (const row of sample) await writeRow(row);
      while (!exhausted) {
        const next = await iterator.next();
        if (next.done === true) {
          exhausted = true;
          break;
        }
        await writeRow(next.value);
      }
      throwIfAborted(signal, input.name);
      await closeCurrent();
      input.onProgress?.(total);

      const warnings = dataSheetWarnings(sheetNames, total, maxRows, issues, firstIssueRow);
      return { sheetNames, rows: total, truncatedCells: issues.truncated, warnings };
    } finally {
      // Lets the source release its connection or spool file; its own failure must not hide ours.
      if (!exhausted) await Promise.resolve(iterator.return?.()).catch(() => undefined);
    }
  }

  async function writeSpecSheet(spec: SheetSpec): Promise<string> {
    const sheetName = namer.take(spec.name);
    const asTable = spec.asTable !== false;
    const headerRow = spec.title === undefined ? 1 : 3;
    const firstDataRow = headerRow + 1;
    const columnRefs = spec.columns.map((_, i) => columnLetter(i));
    const lastColumnRef = columnRefs[columnRefs.length - 1];
    if (lastColumnRef === undefined) {
      throw new WorkbookError(
        'WORKBOOK_INVALID_SPEC',
        `sheet '${spec.name}' has no columns; a sheet needs at least one column`,
      );
    }
    validateCellFormats(spec);

    // Defined names first: they share the workbook namespace with table names.
    for (const defined of spec.definedNames ?? []) {
      validateDefinedName(spec, defined);
      if (!names.tryTakeExact(defined.name)) {
        throw new WorkbookError(
          'WORKBOOK_INVALID_SPEC',
          `defined name '${defined.name}' of sheet '${spec.name}' is already used by a table or another defined name`,
          { hint: 'give each defined name a unique name' },
        );
      }
      // Always quoted: names such as `2026` or `A1` must be, and quoting is valid for every name.
      const address = `'${quoteSheetName(sheetName)}'!$${columnLetter(defined.column)}$${firstDataRow + defined.row}`;
      definedNames.push({ name: defined.name, ranges: [address] });
    }

    const formatAt = (row: number, column: number): CellFormat | undefined =>
      spec.cellFormats?.[row]?.[column] ?? spec.columns[column]?.format;
    const columnNames = asTable
      ? toTableColumnNames(spec.columns.map((c) => c.header))
      : spec.columns.map((c) => c.header);
    const widths = spec.columns.map((c, i) => {
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
    const isDateFormat = (f: CellFormat): boolean => f === 'date' || f === 'datetime';
    const cellStyle = (format: CellFormat, column: SheetColumn): number =>
      specCellStyleId(formatForCellFormat(format, spec.currency), isDateFormat(format), column);
    // A Date in a column or cell not formatted as a date still shows as a date.
    const dateStyle = (format: CellFormat, column: SheetColumn): number =>
      isDateFormat(format) ? cellStyle(format, column) : specCellStyleId(DATETIME_FORMAT, true, column);
    const styleIds = spec.columns.map((c) => cellStyle(c.format, c));
    const dateStyleIds = spec.columns.map((c) => dateStyle(c.format, c));
    const rowStyles = (rowIndex: number): { styles: readonly number[]; dates: readonly number[] } => {
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
    };
    // Spec headers wrap, so a narrow numeric column can carry a long header ("Lead Generation value") on two lines.
    const headerStyle = headerStyleId(true);
    const issues = emptyIssues();
    const totalWidth = widths.reduce((sum, w) => sum + w, 0);

    const sheet = openSheet(sheetName, widths, asTable ? headerRow : undefined, {
      orientation: totalWidth > PORTRAIT_MAX_WIDTH ? 'landscape' : 'portrait',
    });
    printTitleRows.set(sheetName, headerRow);
    const sink = await streamRows(sheet, undefined);
    if (spec.title !== undefined) {
      const titleStyle = styleId('title', { font: font({ bold: true, size: 14 }) });
      await sink.write(renderRowXml(1, [spec.title], ['A'], [titleStyle], issues));
    }
    const headerLines = Math.max(
      1,
      ...columnNames.map((name, i) =>
        estimateWrappedLines(name, (widths[i] ?? 0) - (asTable ? FILTER_BUTTON_WIDTH : 0)),
      ),
    );
    await sink.write(
      withRowHeight(
        renderRowXml(
          headerRow,
          columnNames,
          columnRefs,
          columnNames.map(() => headerStyle),
          issues,
        ),
        headerLines > 1 ? headerLines * LINE_HEIGHT_POINTS : undefined,
      ),
    );
    // Readers do not grow a row to fit its wrapped text when opening a file (LibreOffice does not; Excel only once
    // the cell is edited), so a row with wrapped text gets the height its estimated line count needs.
    const wrapped = spec.columns.flatMap((c, i) => (c.wrap === true ? [i] : []));
    const rowHeight = (row: readonly unknown[]): number | undefined => {
      let lines = 1;
      for (const i of wrapped) {
        const value = row[i];
        if (typeof value === 'string') lines = Math.max(lines, estimateWrappedLines(value, widths[i] ?? 0));
      }
      return lines > 1 ? lines * LINE_HEIGHT_POINTS : undefined;
    };
    for (const [index, row] of spec.rows.entries()) {
      const { styles, dates } = rowStyles(index);
      await sink.write(
        withRowHeight(renderRowXml(firstDataRow + index, row, columnRefs, styles, issues, dates), rowHeight(row)),
      );
    }
    // Notes span the table's width and wrap, so they print whole; merged cells never grow to fit their text, so
    // each gets the height its estimated line count needs.
    const notes = spec.notes ?? [];
    const merges: string[] = [];
    if (notes.length > 0) {
      const noteStyle = styleId('note', {
        font: font({ italic: true }),
        alignment: { wrapText: true, vertical: 'top' },
      });
      const firstNoteRow = firstDataRow + Math.max(spec.rows.length, asTable ? 1 : 0) + 1;
      for (const [index, note] of notes.entries()) {
        const rowNumber = firstNoteRow + index;
        const lines = estimateWrappedLines(note, totalWidth);
        await sink.write(
          withRowHeight(
            renderRowXml(rowNumber, [note], ['A'], [noteStyle], issues),
            lines > 1 ? lines * LINE_HEIGHT_POINTS : undefined,
          ),
        );
        if (columnRefs.length > 1) merges.push(`A${rowNumber}:${lastColumnRef}${rowNumber}`);
      }
    }
    await sink.flush();

    const lastDataRow = firstDataRow + spec.rows.length - 1;
    const conditionalFormatting =
      spec.rows.length === 0
        ? ''
        : (spec.dataBars ?? [])
            .map((column, i) => {
              const ref = columnRefs[column];
              if (ref === undefined) {
                throw new WorkbookError(
                  'WORKBOOK_INVALID_SPEC',
                  `sheet '${spec.name}': dataBars column ${column} does not exist (the sheet has ${spec.columns.length} columns)`,
                );
              }
              return renderDataBarXml(`${ref}${firstDataRow}:${ref}${lastDataRow}`, i + 1);
            })
            .join('');
    const trailer: SheetTrailer = {};
    if (conditionalFormatting !== '') trailer.conditionalFormatting = conditionalFormatting;
    if (merges.length > 0) {
      trailer.mergeCells = `<mergeCells count="${merges.length}">${merges.map((ref) => `<mergeCell ref="${ref}"/>`).join('')}</mergeCells>`;
    }
    if (asTable) {
      trailer.table = { name: names.takeTableName(sheetName), headerRow, dataRows: spec.rows.length, columnNames };
    }
    closeSheet(sheet, trailer);
    specWarnings.push(...specSheetWarnings(sheetName, issues));
    return sheetName;
  }

  return {
    addDataSheet: (input) => guarded(() => writeDataSheet(input)),
    addSpecSheet: (spec) => guarded(() => writeSpecSheet(spec)),

    setTabOrder(order) {
      const known = new Set(internals._worksheets.filter((ws) => ws !== undefined).map((ws) => ws.name));
      const unknown = order.filter((name) => !known.has(name));
      if (unknown.length > 0) {
        throw new WorkbookError(
          'WORKBOOK_UNKNOWN_SHEET',
          `cannot order tabs: no sheet named ${unknown.map((n) => `'${n}'`).join(', ')} in '${filePath}'; sheets are ${[...known].map((n) => `'${n}'`).join(', ')}`,
          { hint: 'use the final names returned by addDataSheet/addSpecSheet' },
        );
      }
      tabOrder = [...order];
    },

    async commit() {
      if (state !== 'open') {
        throw (
          latch.error ??
          new WorkbookError(
            'WORKBOOK_WRITER_STATE',
            `workbook writer for '${filePath}' is ${state}; it cannot be committed`,
          )
        );
      }
      state = 'busy';
      try {
        if (internals._worksheets.every((ws) => ws === undefined)) {
          throw new WorkbookError(
            'WORKBOOK_EMPTY',
            `workbook '${filePath}' has no sheets; add at least one sheet before commit`,
          );
        }
        applyTabOrder(internals._worksheets, tabOrder);
        definedNames.push(...printTitleNames(internals._worksheets, printTitleRows));
        const closed = new Promise<void>((resolve) => fileStream.once('close', resolve));
        await Promise.race([workbook.commit(), latch.failed]);
        await Promise.race([closed, latch.failed]);
        const { size } = await stat(filePath);
        state = 'committed';
        return { bytes: size, warnings: [...specWarnings] };
      } catch (err) {
        state = 'failed';
        throw latch.error ?? toWriteError(filePath, err);
      }
    },

    async abort() {
      if (state === 'aborted') return;
      const wasCommitted = state === 'committed';
      state = 'aborted';
      // Wakes a sheet that is waiting for the compressor, so it stops instead of waiting forever.
      latch.fail(new AbortedError(`workbook writing to '${filePath}' aborted`));
      try {
        if (!wasCommitted) internals.zip.abort();
      } catch {
        // Best effort: the stream below is destroyed either way.
      }
      await closeQuietly(fileStream);
      await unlink(filePath).catch(() => undefined);
    },
  };
}

/** A complete font: a `<font>` with only `<b/>` leaves size and face to the reader's guess. */
function font(overrides: Partial<ExcelJS.Font>): Partial<ExcelJS.Font> {
  return { name: 'Calibri', family: 2, scheme: 'minor', size: 11, color: { theme: 1 }, ...overrides };
}

function createFailureLatch(): FailureLatch {
  let error: AppError | undefined;
  let reject: (err: AppError) => void = () => undefined;
  const listeners = new Set<(error: AppError) => void>();
  const failed = new Promise<never>((_, rej) => {
    reject = rej;
  });
  // Nobody may be racing against it when it fails; that is not an unhandled rejection.
  failed.catch(() => undefined);
  return {
    get error() {
      return error;
    },
    fail(err) {
      if (error !== undefined) return;
      error = err;
      reject(err);
      for (const listener of [...listeners]) listener(err);
      listeners.clear();
    },
    failed,
    onFail(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * Waits until the compressor has taken most of what the sheet wrote: exceljs pushes into archiver's PassThrough
 * without looking at `write()`'s result, so without this wait the sheet XML piles up in memory (≈ 53 MiB per 100k
 * rows). Until archiver starts this sheet's entry, the StreamBuf has no pipe and we poll briefly.
 */
async function waitForRoom(
  stream: StreamBufInternals,
  latch: FailureLatch,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (;;) {
    if (latch.error !== undefined) throw latch.error;
    throwIfAborted(signal, undefined);
    const pipe = stream.pipes[0];
    if (pipe !== undefined && bufferedBytes(pipe) < MAX_BUFFERED_BYTES) return;
    await waitForEvent(pipe, latch, signal);
  }
}

function waitForEvent(pipe: Writable | undefined, latch: FailureLatch, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      unsubscribe();
      pipe?.off('drain', done);
      pipe?.off('close', done);
      signal?.removeEventListener('abort', done);
    };
    const done = (): void => {
      cleanup();
      resolve();
    };
    // No pipe yet: poll. With a pipe: 'drain' (needDrain is set, since writableLength passed its highWaterMark).
    const timer = setTimeout(done, pipe === undefined ? PIPE_POLL_MS : 1_000);
    pipe?.once('drain', done);
    pipe?.once('close', done);
    signal?.addEventListener('abort', done, { once: true });
    const unsubscribe = latch.onFail((err) => {
      cleanup();
      reject(err);
    });
  });
}

function throwIfAborted(signal: AbortSignal | undefined, sheet: string | undefined): void {
  if (signal?.aborted === true) {
    throw new AbortedError(
      sheet === undefined ? 'workbook writing aborted' : `workbook writing aborted while writing sheet '${sheet}'`,
      {
        cause: signal.reason,
      },
    );
  }
}

function writeFailed(filePath: string, err: Error & { code?: string | undefined }): WorkbookError {
  const code = err.code;
  const hint =
    code === 'ENOSPC'
      ? 'free disk space in the temp folder (stateDir) and run again'
      : 'check that the temp folder (stateDir) exists, is writable and has free space';
  return new WorkbookError('WORKBOOK_WRITE_FAILED', `could not write workbook file '${filePath}': ${err.message}`, {
    cause: err,
    hint,
    retryable: false,
    details: { path: filePath, ...(code === undefined ? {} : { errno: code }) },
  });
}

function toWriteError(filePath: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  return writeFailed(filePath, err instanceof Error ? err : new Error(String(err)));
}

function closeQuietly(stream: WriteStream): Promise<void> {
  if (stream.closed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('close', () => resolve());
    stream.destroy();
  });
}

/** Puts listed sheets first in the given order, the rest after them in their current order. */
function applyTabOrder(sheets: (WorksheetInternals | undefined)[], order: readonly string[]): void {
  const present = sheets.filter((ws): ws is WorksheetInternals => ws !== undefined);
  const listed = order
    .map((name) => present.find((ws) => ws.name === name))
    .filter((ws): ws is WorksheetInternals => ws !== undefined);
  const rest = present.filter((ws) => !listed.includes(ws));
  // A dense array: exceljs maps over it when committing, and workbook.xml lists <sheet> in this order.
  sheets.splice(0, sheets.length, ...listed, ...rest);
}

function renderContentTypesXml(sheetIds: readonly number[], tableIds: readonly number[]): string {
  const override = (part: string, type: string): string =>
    `<Override PartName="${part}" ContentType="application/vnd.openxmlformats-${type}"/>`;
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
    '<Default Extension="xml" ContentType="application/xml"/>' +
    override('/xl/workbook.xml', 'officedocument.spreadsheetml.sheet.main+xml') +
    sheetIds
      .map((id) => override(`/xl/worksheets/sheet${id}.xml`, 'officedocument.spreadsheetml.worksheet+xml'))
      .join('') +
    override('/xl/theme/theme1.xml', 'officedocument.theme+xml') +
    override('/xl/styles.xml', 'officedocument.spreadsheetml.styles+xml') +
    tableIds.map((id) => override(`/xl/tables/table${id}.xml`, 'officedocument.spreadsheetml.table+xml')).join('') +
    override('/docProps/core.xml', 'package.core-properties+xml') +
    override('/docProps/app.xml', 'officedocument.extended-properties+xml') +
    '</Types>'
  );
}

function renderDataBarXml(sqref: string, priority: number): string {
  return (
    `<conditionalFormatting sqref="${sqref}"><cfRule type="dataBar" priority="${priority}">` +
    `<dataBar><cfvo type="min"/><cfvo type="max"/><color rgb="${DATA_BAR_COLOR}"/></dataBar>` +
    '</cfRule></conditionalFormatting>'
  );
}

function validateDefinedName(spec: SheetSpec, defined: { name: string; row: number; column: number }): void {
  const valid =
    /^[\p{L}_\\][\p{L}\p{N}_.\\]*$/u.test(defined.name) &&
    defined.name.length <= 255 &&
    !/^[A-Za-z]{1,3}\d+$/.test(defined.name) &&
    !/^[Rr]\d*[Cc]\d*$/.test(defined.name);
  if (!valid) {
    throw new WorkbookError(
      'WORKBOOK_INVALID_SPEC',
      `defined name '${defined.name}' of sheet '${spec.name}' is not a valid Excel name`,
      {
        hint: 'start with a letter or underscore, use letters, digits, _ and . only, and do not use a cell reference like A1',
      },
    );
  }
  if (
    !Number.isInteger(defined.row) ||
    defined.row < 0 ||
    defined.row >= spec.rows.length ||
    !Number.isInteger(defined.column) ||
    defined.column < 0 ||
    defined.column >= spec.columns.length
  ) {
    throw new WorkbookError(
      'WORKBOOK_INVALID_SPEC',
      `defined name '${defined.name}' points at row ${defined.row}, column ${defined.column}, outside sheet '${spec.name}' (${spec.rows.length} rows × ${spec.columns.length} columns, 0-based)`,
    );
  }
}

/** A sheet name inside a quoted reference (`'Rep''s deals'!$A$1`). */
function quoteSheetName(name: string): string {
  return name.replace(/'/g, "''");
}

/**
 * `_xlnm.Print_Titles` names repeating each spec sheet's header row on every printed page. `localSheetId` is the
 * sheet's position in workbook.xml, so this runs after the tab order is applied (`sheets` is then dense).
 */
function printTitleNames(
  sheets: readonly (WorksheetInternals | undefined)[],
  headerRows: ReadonlyMap<string, number>,
): { name: string; ranges: string[]; localSheetId: number }[] {
  return sheets.flatMap((ws, index) => {
    const row = ws === undefined ? undefined : headerRows.get(ws.name);
    if (ws === undefined || row === undefined) return [];
    return [
      { name: '_xlnm.Print_Titles', localSheetId: index, ranges: [`'${quoteSheetName(ws.name)}'!$${row}:$${row}`] },
    ];
  });
}

function validateCellFormats(spec: SheetSpec): void {
  const formats = spec.cellFormats;
  if (formats === undefined) return;
  if (formats.length > spec.rows.length) {
    throw new WorkbookError(
      'WORKBOOK_INVALID_SPEC',
      `sheet '${spec.name}': cellFormats has ${formats.length} rows but the sheet has ${spec.rows.length}; cellFormats must be aligned with rows`,
    );
  }
  const wide = formats.findIndex((row) => row !== undefined && row.length > spec.columns.length);
  if (wide !== -1) {
    throw new WorkbookError(
      'WORKBOOK_INVALID_SPEC',
      `sheet '${spec.name}': cellFormats row ${wide} has ${formats[wide]?.length ?? 0} entries but the sheet has ${spec.columns.length} columns`,
    );
  }
}

/**
 * Lines `text` takes when wrapped in a column `width` characters wide. Excel's width unit is one digit of the
 * default font; prose averages narrower (≈ 1.25 characters per unit in Calibri 11, measured on the rendered
 * Summary), and 1.15 keeps a margin so the estimate errs towards a line too many rather than cutting text off.
 */
function estimateWrappedLines(text: string, width: number): number {
  const perLine = Math.max(1, Math.floor(width * PROSE_CHARS_PER_WIDTH));
  let lines = 0;
  for (const paragraph of text.split('\n')) {
    lines += 1;
    let used = 0;
    for (const word of paragraph.split(/\s+/).filter((w) => w !== '')) {
      if (used > 0 && used + 1 + word.length <= perLine) {
        used += 1 + word.length;
        continue;
      }
      if (used > 0) lines += 1;
      // A word longer than a line is broken across lines.
      const extra = Math.ceil(word.length / perLine) - 1;
      lines += extra;
      used = word.length - extra * perLine;
    }
  }
  return lines;
}

/** Gives a rendered `<row>` a fixed height in points (undefined: leave it to the reader). */
function withRowHeight(rowXml: string, heightPoints: number | undefined): string {
  if (heightPoints === undefined) return rowXml;
  return rowXml.replace(/^<row r="(\d+)">/, `<row r="$1" ht="${heightPoints}" customHeight="1">`);
}

function widthKind(format: CellFormat): WidthKind {
  return format;
}

function emptyIssues(): CellIssueCounts {
  return { truncated: 0, nonFinite: 0, unrepresentableDates: 0 };
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

function specSheetWarnings(sheetName: string, issues: CellIssueCounts): string[] {
  const warnings: string[] = [];
  if (issues.truncated > 0)
    warnings.push(`sheet '${sheetName}': ${issues.truncated} text cell(s) cut to 32,767 characters`);
  if (issues.nonFinite > 0)
    warnings.push(`sheet '${sheetName}': ${issues.nonFinite} cell(s) held NaN or Infinity and were left blank`);
  if (issues.unrepresentableDates > 0) {
    warnings.push(`sheet '${sheetName}': ${issues.unrepresentableDates} date(s) Excel cannot show were left blank`);
  }
  return warnings;
}
