/**
 * Streams a workbook to a file: data sheets (one Excel table each, any number of rows, memory flat) and small
 * metric/About sheets from {@link SheetSpec}s. exceljs's streaming WorkbookWriter provides the package (styles,
 * workbook.xml, relationships, zip); this module renders spec sheets and wires the pieces that write data sheets
 * (`data-sheet.ts`), the styles (`style-cache.ts`), the tables, conditional formats and merges (`sheet-trailer.ts`)
 * and the package around them with the backpressure that exceljs lacks (`workbook-package.ts`), and keeps the
 * writer's one-sheet-at-a-time state. Private exceljs details are confined to `exceljs-internals.ts`.
 */
import { WorkbookError } from '../shared/errors.js';
import type { CellFormat, SheetColumn, SheetSpec } from '../shared/sheet-spec.js';
import { columnLetter, emptyIssueCounts, renderRowXml, type CellIssueCounts } from './cell-xml.js';
import { estimateColumnWidth, type WidthKind } from './column-widths.js';
import { writeDataSheet, type DataSheetDeps, type DataSheetInput, type DataSheetResult } from './data-sheet.js';
import type { DefinedNames } from './defined-names.js';
import { DATETIME_FORMAT, formatForCellFormat } from './number-formats.js';
import { openSheet, type OpenSheet, type PrintLayout, type SheetLayout } from './open-sheet.js';
import { openRowSink, type RowSink } from './row-sink.js';
import { closeSheet, renderMergeCellsXml, type SheetTrailer } from './sheet-trailer.js';
import { createSheetNamer, quoteSheetName, type SheetNamer } from './sheet-names.js';
import { createStyleCache, type StyleCache } from './style-cache.js';
import { createWorkbookNameRegistry, toTableColumnNames, type WorkbookNameRegistry } from './table-part.js';
import { createWorkbookPackage } from './workbook-package.js';
import { toWriteError } from './write-errors.js';

export type { DataSheetInput, DataSheetResult } from './data-sheet.js';

/** Excel's last row is 1,048,576; one is the header. */
export const EXCEL_MAX_DATA_ROWS = 1_048_575;
/**
 * Default deflate level. Measured at 1M rows × 15 columns: level 1 writes in ≈ 0.55× the time of level 6 for a
 * file ≈ 1.27× larger, which is still ≈ the size of exceljs's own default output (its `t="str"` cells and per-cell
 * styles are bigger than what we write). Deflate is most of the writing time, so speed wins.
 */
export const DEFAULT_ZIP_LEVEL = 1;

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

/**
 * Creates a writer streaming to `options.filePath`. Call `addDataSheet`/`addSpecSheet` one at a time, then
 * `commit()`; on any failure call `abort()`, which removes the partial file. Throws WORKBOOK_INVALID_OPTIONS for
 * a `maxRowsPerSheet` or `zipLevel` out of range, before the file is created.
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
  const pkg = createWorkbookPackage({
    filePath,
    zipLevel,
    creator: options.creator ?? 'tableau-excel-export',
    now: options.now,
  });
  const sheets: DataSheetDeps & SpecSheetDeps = {
    namer: createSheetNamer(),
    names: createWorkbookNameRegistry(),
    styles: createStyleCache(pkg.styles),
    definedNames: pkg.definedNames,
    maxRowsPerSheet: maxRows,
    openSheet: (name, layout) => openSheet(pkg.workbook, name, layout),
    closeSheet: (sheet, trailer) => closeSheet(sheet, trailer, pkg.parts),
    openRowSink: (sheet, signal) => openRowSink(sheet.internals.stream, pkg.latch, signal),
  };
  const specWarnings: string[] = [];
  let state: 'open' | 'busy' | 'committed' | 'failed' | 'aborted' = 'open';

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
      throw pkg.latch.error ?? err;
    }
  }

  return {
    addDataSheet: (input) => guarded(() => writeDataSheet(sheets, input)),
    addSpecSheet: (spec) =>
      guarded(async () => {
        const { name, warnings } = await writeSpecSheet(sheets, spec);
        specWarnings.push(...warnings);
        return name;
      }),

    setTabOrder(order) {
      pkg.setTabOrder(order);
    },

    async commit() {
      if (state !== 'open') {
        throw (
          pkg.latch.error ??
          new WorkbookError(
            'WORKBOOK_WRITER_STATE',
            `workbook writer for '${filePath}' is ${state}; it cannot be committed`,
          )
        );
      }
      state = 'busy';
      try {
        const bytes = await pkg.commit();
        state = 'committed';
        return { bytes, warnings: [...specWarnings] };
      } catch (err) {
        state = 'failed';
        throw pkg.latch.error ?? toWriteError(filePath, err);
      }
    },

    async abort() {
      if (state === 'aborted') return;
      const wasCommitted = state === 'committed';
      state = 'aborted';
      await pkg.abort(wasCommitted);
    },
  };
}

const DATA_BAR_COLOR = 'FF638EC6';

/** What a spec sheet needs from the workbook. */
interface SpecSheetDeps {
  readonly namer: SheetNamer;
  readonly names: WorkbookNameRegistry;
  readonly styles: StyleCache;
  readonly definedNames: Pick<DefinedNames, 'add' | 'setPrintTitleRow'>;
  openSheet(name: string, layout: SheetLayout): OpenSheet;
  closeSheet(sheet: OpenSheet, trailer: SheetTrailer): void;
  openRowSink(sheet: OpenSheet, signal: AbortSignal | undefined): Promise<RowSink>;
}

interface SpecSheetResult {
  /** Final tab name. */
  readonly name: string;
  /** What the sheet could not show (cells cut or left blank). */
  readonly warnings: string[];
}

/** Renders `spec` as one sheet. Throws WORKBOOK_INVALID_SPEC for an invalid spec, or the workbook's write error. */
async function writeSpecSheet(deps: SpecSheetDeps, spec: SheetSpec): Promise<SpecSheetResult> {
  const sheetName = deps.namer.take(spec.name);
  const layout = planSpecSheetLayout(spec, sheetName);
  // Defined names first: they share the workbook namespace with table names.
  addDefinedNames(deps, spec, layout);
  const cellStyles = createSpecCellStyles(deps.styles, spec);
  // Spec headers wrap, so a narrow numeric column can carry a long header ("Lead Generation value") on two lines.
  const headerStyle = deps.styles.header(true);
  const issues = emptyIssueCounts();

  const sheet = deps.openSheet(sheetName, {
    widths: layout.widths,
    frozenHeaderRow: layout.asTable ? layout.headerRow : undefined,
    print: layout.print,
  });
  deps.definedNames.setPrintTitleRow(sheetName, layout.headerRow);
  const sink = await deps.openRowSink(sheet, undefined);
  const ctx: SpecRowsContext = { spec, layout, sink, styles: deps.styles, issues };
  if (spec.title !== undefined) await writeTitleRow(ctx, spec.title);
  await writeHeaderRow(ctx, headerStyle);
  await writeDataRows(ctx, cellStyles);
  const merges = await writeNoteRows(ctx);
  await sink.flush();

  deps.closeSheet(sheet, buildSpecTrailer(deps.names, spec, layout, merges));
  return { name: sheetName, warnings: specSheetWarnings(sheetName, issues) };
}

function addDefinedNames(deps: SpecSheetDeps, spec: SheetSpec, layout: SpecSheetLayout): void {
  for (const defined of spec.definedNames ?? []) {
    validateDefinedName(spec, defined);
    if (!deps.names.tryTakeExact(defined.name)) {
      throw new WorkbookError(
        'WORKBOOK_INVALID_SPEC',
        `defined name '${defined.name}' of sheet '${spec.name}' is already used by a table or another defined name`,
        { hint: 'give each defined name a unique name' },
      );
    }
    // Always quoted: names such as `2026` or `A1` must be, and quoting is valid for every name.
    const address = `'${quoteSheetName(layout.sheetName)}'!$${columnLetter(defined.column)}$${layout.firstDataRow + defined.row}`;
    deps.definedNames.add(defined.name, address);
  }
}

/**
 * What the sheet writes after its rows: data bars, merged note rows and its table. A new feature of spec sheets
 * (such as native charts) adds its piece here, from the spec and the layout.
 */
function buildSpecTrailer(
  names: WorkbookNameRegistry,
  spec: SheetSpec,
  layout: SpecSheetLayout,
  merges: readonly string[],
): SheetTrailer {
  const conditionalFormatting = renderDataBars(spec, layout);
  const trailer: SheetTrailer = {};
  if (conditionalFormatting !== '') trailer.conditionalFormatting = conditionalFormatting;
  if (merges.length > 0) trailer.mergeCells = renderMergeCellsXml(merges);
  if (layout.asTable) {
    trailer.table = {
      name: names.takeTableName(layout.sheetName),
      headerRow: layout.headerRow,
      dataRows: spec.rows.length,
      columnNames: layout.columnNames,
    };
  }
  return trailer;
}

/** `<conditionalFormatting>` with a data bar over the data rows of each `dataBars` column ('' for none). */
function renderDataBars(spec: SheetSpec, layout: SpecSheetLayout): string {
  if (spec.rows.length === 0) return '';
  const { columnRefs, firstDataRow } = layout;
  const lastDataRow = firstDataRow + spec.rows.length - 1;
  return (spec.dataBars ?? [])
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
}

function renderDataBarXml(sqref: string, priority: number): string {
  return (
    `<conditionalFormatting sqref="${sqref}"><cfRule type="dataBar" priority="${priority}">` +
    `<dataBar><cfvo type="min"/><cfvo type="max"/><color rgb="${DATA_BAR_COLOR}"/></dataBar>` +
    '</cfRule></conditionalFormatting>'
  );
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

// Column widths (characters) that fit across a portrait page at 100 %; wider spec sheets print landscape. Either
// way they are scaled to one page wide.
const PORTRAIT_MAX_WIDTH = 100;

interface SpecSheetLayout {
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
function planSpecSheetLayout(spec: SheetSpec, sheetName: string): SpecSheetLayout {
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

// Characters of a table header cell covered by its filter button.
const FILTER_BUTTON_WIDTH = 3;

/** Everything the rows of one spec sheet are written with. Cells Excel cannot hold are counted in `issues`. */
interface SpecRowsContext {
  readonly spec: SheetSpec;
  readonly layout: SpecSheetLayout;
  readonly sink: RowSink;
  readonly styles: StyleCache;
  readonly issues: CellIssueCounts;
}

/** The bold title in A1. */
async function writeTitleRow(ctx: SpecRowsContext, title: string): Promise<void> {
  const titleStyle = ctx.styles.title();
  await ctx.sink.write(renderRowXml(1, [title], ['A'], [titleStyle], ctx.issues));
}

/** The header row, as tall as its longest wrapped header needs. */
async function writeHeaderRow(ctx: SpecRowsContext, headerStyle: number): Promise<void> {
  const { asTable, columnNames, columnRefs, headerRow, widths } = ctx.layout;
  const headerLines = Math.max(
    1,
    ...columnNames.map((name, i) => estimateWrappedLines(name, (widths[i] ?? 0) - (asTable ? FILTER_BUTTON_WIDTH : 0))),
  );
  await ctx.sink.write(
    withRowHeight(
      renderRowXml(
        headerRow,
        columnNames,
        columnRefs,
        columnNames.map(() => headerStyle),
        ctx.issues,
      ),
      heightForLines(headerLines),
    ),
  );
}

/** The data rows, each in its cells' styles. */
async function writeDataRows(ctx: SpecRowsContext, cellStyles: SpecCellStyles): Promise<void> {
  const { spec, sink, issues } = ctx;
  const { columnRefs, firstDataRow, widths } = ctx.layout;
  // Readers do not grow a row to fit its wrapped text when opening a file (LibreOffice does not; Excel only once
  // the cell is edited), so a row with wrapped text gets the height its estimated line count needs.
  const wrapped = spec.columns.flatMap((c, i) => (c.wrap === true ? [i] : []));
  const rowHeight = (row: readonly unknown[]): number | undefined => {
    let lines = 1;
    for (const i of wrapped) {
      const value = row[i];
      if (typeof value === 'string') lines = Math.max(lines, estimateWrappedLines(value, widths[i] ?? 0));
    }
    return heightForLines(lines);
  };
  for (const [index, row] of spec.rows.entries()) {
    const { styles, dates } = cellStyles.forRow(index);
    await sink.write(
      withRowHeight(renderRowXml(firstDataRow + index, row, columnRefs, styles, issues, dates), rowHeight(row)),
    );
  }
}

/** The notes under the data rows (one blank row between); returns the ranges to merge (`A7:F7`). */
async function writeNoteRows(ctx: SpecRowsContext): Promise<string[]> {
  const { spec, sink, issues } = ctx;
  const { asTable, columnRefs, firstDataRow, lastColumnRef, totalWidth } = ctx.layout;
  // Notes span the table's width and wrap, so they print whole; merged cells never grow to fit their text, so
  // each gets the height its estimated line count needs.
  const notes = spec.notes ?? [];
  const merges: string[] = [];
  if (notes.length === 0) return merges;
  const noteStyle = ctx.styles.note();
  const firstNoteRow = firstDataRow + Math.max(spec.rows.length, asTable ? 1 : 0) + 1;
  for (const [index, note] of notes.entries()) {
    const rowNumber = firstNoteRow + index;
    const lines = estimateWrappedLines(note, totalWidth);
    await sink.write(withRowHeight(renderRowXml(rowNumber, [note], ['A'], [noteStyle], issues), heightForLines(lines)));
    if (columnRefs.length > 1) merges.push(`A${rowNumber}:${lastColumnRef}${rowNumber}`);
  }
  return merges;
}

interface RowStyles {
  /** Style id of each column's cell. */
  readonly styles: readonly number[];
  /** Style id of each column's cell when it holds a Date. */
  readonly dates: readonly number[];
}

interface SpecCellStyles {
  /** The styles of row `rowIndex` (0-based within `spec.rows`). */
  forRow(rowIndex: number): RowStyles;
}

/** Registers the columns' styles now; a row's overriding styles when it is asked for. */
function createSpecCellStyles(styles: StyleCache, spec: SheetSpec): SpecCellStyles {
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

/** Throws unless `cellFormats` has no more rows than `rows`, and no row more entries than `columns`. */
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

/** Throws unless `defined.name` is a valid Excel name and its row and column are inside the sheet. */
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

// Points per line of 11-pt text: Excel's default row height.
const LINE_HEIGHT_POINTS = 15;
// Characters of prose per unit of column width, with a margin (see estimateWrappedLines).
const PROSE_CHARS_PER_WIDTH = 1.15;

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

/** The height in points of a row `lines` lines tall; undefined for one line (the reader's default). */
function heightForLines(lines: number): number | undefined {
  return lines > 1 ? lines * LINE_HEIGHT_POINTS : undefined;
}

/** Gives a rendered `<row>` a fixed height in points (undefined: leave it to the reader). */
function withRowHeight(rowXml: string, heightPoints: number | undefined): string {
  if (heightPoints === undefined) return rowXml;
  return rowXml.replace(/^<row r="(\d+)">/, `<row r="$1" ht="${heightPoints}" customHeight="1">`);
}
