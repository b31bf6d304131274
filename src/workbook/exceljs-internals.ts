/**
 * The one place that reaches into exceljs 4.4.0's streaming writer beyond its public API. exceljs is pinned
 * (package-lock) and `workbook-writer.test.ts` pins every behaviour used here (tab order, table parts, flat
 * memory), so an upgrade that changes them fails the tests instead of producing broken files.
 *
 * What we rely on:
 * - `WorksheetWriter.stream` is a StreamBuf that exceljs appends to the zip; once archiver starts the entry it has
 *   one pipe, a PassThrough whose `writableLength`/`'drain'` give us the backpressure exceljs ignores.
 * - `WorksheetWriter._sheetRelsWriter.addRelationship()` adds a relationship to the sheet's `.rels` part.
 * - `WorksheetWriter.commit()` writes the sheet's trailing elements in schema order through `_write*` methods;
 *   `_writeMergeCells`, `_writeConditionalFormatting` and `_writeCloseWorksheet` are replaced per instance to add
 *   merged ranges, conditional formats, hyperlinks, `<drawing>` and `<tableParts>` at their schema positions
 *   (exceljs's own `mergeCells()` would create row objects for rows we already wrote as XML, and it writes
 *   `<hyperlinks>` before `<conditionalFormatting>`, out of CT_Worksheet's order, so we never give it hyperlinks).
 * - `addWorksheet(name, { pageSetup, headerFooter })` writes `<sheetPr><pageSetUpPr fitToPage>`, `<pageMargins>`,
 *   `<pageSetup>` and `<headerFooter>` (public options, listed because their output is pinned by the tests).
 * - `WorkbookWriter._worksheets` (array indexed by sheet id) is the order of `<sheet>` in workbook.xml, of the
 *   workbook relationships and of app.xml titles; `addContentTypes` writes `[Content_Types].xml` and knows no tables.
 * - `WorkbookWriter._definedNames.model` is what workbook.xml's `<definedNames>` lists (with `localSheetId` for
 *   sheet-scoped names such as `_xlnm.Print_Titles`). Its `add()` re-parses the
 *   address and drops quotes Excel needs (`'2026'!$A$1` becomes `2026!$A$1`), so we supply the model ourselves.
 * - `WorkbookWriter.styles.addStyleModel(style, cellType)` returns the `s` index of a style, cached by object identity;
 *   `addDxfStyle(style)` adds a differential format to `<dxfs>` and returns its `dxfId` (for conditional formats).
 * - `WorkbookWriter.zip` is the archiver instance.
 * - archiver checksums each zip entry through crc32-stream, which calls `require('crc-32').buf(chunk, previous)` at
 *   every chunk; that module's `buf` is replaced by Node's native `zlib.crc32`.
 *
 * The other modules use these through the typed views and functions below (`commitWorksheet`,
 * `replaceContentTypes`, `supplyDefinedNames`, `reorderWorksheets`), never by casting exceljs objects themselves.
 */
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import { crc32 as nativeCrc32 } from 'node:zlib';
import type ExcelJS from 'exceljs';

type WorkbookWriterClass = typeof ExcelJS.stream.xlsx.WorkbookWriter;

/**
 * exceljs's streaming writer module alone: `import 'exceljs'` also loads its readers, the in-memory model's CSV
 * support and their dependencies (unzipper, fast-csv, dayjs...), ≈ 11 MiB of RSS a run never uses (27.7 MiB for the
 * package, 16.8 MiB for this module). The same class `ExcelJS.stream.xlsx.WorkbookWriter` is.
 */
function loadWorkbookWriter(): WorkbookWriterClass {
  const loaded: unknown = createRequire(import.meta.url)('exceljs/lib/stream/xlsx/workbook-writer.js');
  if (typeof loaded !== 'function') {
    throw new Error('exceljs streaming writer module not found; this code is written for exceljs 4.4.0');
  }
  return loaded as WorkbookWriterClass;
}

const WorkbookWriter = loadWorkbookWriter();

/** crc-32's API as crc32-stream uses it: the CRC of `data` continuing from `seed`, as a signed 32-bit integer. */
interface Crc32Module {
  buf(data: Uint8Array, seed?: unknown): number;
}

/**
 * The crc-32 module instance that archiver's zip entries use, resolved along the dependency chain exceljs →
 * archiver → zip-stream → compress-commons → crc32-stream → crc-32 (so a nested copy is found, not a hoisted
 * other one).
 */
function loadArchiverCrc32(): Crc32Module {
  let require = createRequire(import.meta.url);
  for (const step of ['exceljs', 'archiver', 'zip-stream', 'compress-commons', 'crc32-stream']) {
    require = createRequire(require.resolve(`${step}/package.json`));
  }
  const loaded = require('crc-32') as Partial<Crc32Module> | undefined;
  if (typeof loaded?.buf !== 'function') {
    throw new Error("crc-32's buf() not found under crc32-stream; this code is written for exceljs 4.4.0");
  }
  return loaded as Crc32Module;
}

/** The module whose `buf` archiver calls for every chunk of every zip entry. */
export const archiverCrc32 = loadArchiverCrc32();

/**
 * Makes archiver checksum the zip entries with Node's native CRC-32 (zlib's, vectorised) instead of crc-32's
 * JavaScript tables: 0.38 s of main-thread CPU per million rows (15 columns, 790 MB of sheet XML) that ran between
 * rendering rows. Same checksums (`zip-checksums.test.ts`: a reference CRC, and Python's CRC-checking zipfile).
 * crc32-stream passes a 4-byte Buffer as the first seed (crc-32 reads it as 0), then the previous unsigned checksum.
 */
function useNativeCrc32(): void {
  archiverCrc32.buf = (data, seed) => nativeCrc32(data, typeof seed === 'number' ? seed >>> 0 : 0) | 0;
}

useNativeCrc32();

/** exceljs's cell value type for dates (Enums.ValueType.Date), used to pick a default date format. */
export const EXCELJS_DATE_CELL_TYPE = 4;

/**
 * Bytes waiting in one of archiver's PassThrough streams. They come from readable-stream 2.x (via archiver-utils),
 * which predates `writableLength`; its `_writableState.length` is the same number.
 */
export function bufferedBytes(stream: Writable): number {
  if (typeof stream.writableLength === 'number') return stream.writableLength;
  const state = (stream as unknown as { _writableState?: { length?: unknown } })._writableState;
  if (typeof state?.length === 'number') return state.length;
  throw new Error('cannot read the buffered length of the zip entry stream; this code is written for exceljs 4.4.0');
}

export interface StreamBufInternals {
  readonly pipes: Writable[];
  write(data: string | Buffer): unknown;
}

export interface WorksheetInternals {
  readonly id: number;
  readonly name: string;
  readonly committed: boolean;
  readonly stream: StreamBufInternals;
  readonly _sheetRelsWriter: { addRelationship(rel: { Type: string; Target: string }): string };
  _writeMergeCells(): void;
  _writeConditionalFormatting(): void;
  _writeCloseWorksheet(): void;
  commit(): void;
}

interface ZipInternals {
  append(source: string, data: { name: string }): unknown;
  abort(): unknown;
  on(event: 'error' | 'warning', listener: (err: Error) => void): unknown;
}

/** One entry of workbook.xml's `<definedNames>`; `localSheetId` scopes it to the sheet at that position. */
export interface DefinedNameModel {
  name: string;
  ranges: string[];
  localSheetId?: number;
}

export interface WorkbookInternals {
  _worksheets: (WorksheetInternals | undefined)[];
  /** Read once, by `addWorkbook`, as `{ name, ranges }[]` rendered verbatim into `<definedNames>`. */
  _definedNames: { readonly model: readonly DefinedNameModel[] };
  readonly styles: { addStyleModel(style: object, cellType?: number): number; addDxfStyle(style: object): number };
  readonly zip: ZipInternals;
  addContentTypes(): Promise<void>;
}

/** Rendered elements that follow `<sheetData>`, each written where exceljs's commit writes that element. */
export interface WorksheetTrailerXml {
  /** Written in place of exceljs's `<mergeCells>`. */
  readonly mergeCells?: string | undefined;
  /** Written in place of exceljs's `<conditionalFormatting>`. */
  readonly conditionalFormatting?: string | undefined;
  /**
   * The `<hyperlinks>` element, written right after the conditional formats (and exceljs's empty data validations),
   * where CT_Worksheet puts it.
   */
  readonly hyperlinks?: string | undefined;
  /**
   * Rendered just before `</worksheet>`, after every element exceljs writes itself. `addRelationship` adds a
   * relationship to the sheet's `.rels` part and returns its `r:id`.
   */
  readonly closing?: ((addRelationship: (type: string, target: string) => string) => string) | undefined;
}

/** Commits a worksheet writer, writing `trailer` through exceljs's per-element hooks (replaced on this instance). */
export function commitWorksheet(ws: WorksheetInternals, trailer: WorksheetTrailerXml): void {
  const { mergeCells, conditionalFormatting, hyperlinks, closing } = trailer;
  if (mergeCells !== undefined) {
    ws._writeMergeCells = () => {
      ws.stream.write(mergeCells);
    };
  }
  if (conditionalFormatting !== undefined || hyperlinks !== undefined) {
    // exceljs writes <dataValidations> between the two; this sheet has none, so nothing comes between them.
    ws._writeConditionalFormatting = () => {
      ws.stream.write((conditionalFormatting ?? '') + (hyperlinks ?? ''));
    };
  }
  if (closing !== undefined) {
    const original = ws._writeCloseWorksheet.bind(ws);
    ws._writeCloseWorksheet = () => {
      ws.stream.write(closing((Type, Target) => ws._sheetRelsWriter.addRelationship({ Type, Target })));
      original();
    };
  }
  ws.commit();
}

/** Makes exceljs write `render(sheetIds)` as `[Content_Types].xml`, sheet ids in `_worksheets` order. */
export function replaceContentTypes(
  internals: WorkbookInternals,
  render: (sheetIds: readonly number[]) => string,
): void {
  internals.addContentTypes = () => {
    const sheetIds = internals._worksheets
      .filter((ws): ws is WorksheetInternals => ws !== undefined)
      .map((ws) => ws.id);
    internals.zip.append(render(sheetIds), { name: '[Content_Types].xml' });
    return Promise.resolve();
  };
}

/** Makes workbook.xml's `<definedNames>` list `model` as it stands at commit (the caller keeps adding to it). */
export function supplyDefinedNames(internals: WorkbookInternals, model: readonly DefinedNameModel[]): void {
  internals._definedNames = { model };
}

/**
 * Makes `sheets` (every worksheet of the workbook, in the wanted order) the order of `<sheet>` in workbook.xml, of
 * the workbook relationships and of app.xml titles.
 */
export function reorderWorksheets(internals: WorkbookInternals, sheets: readonly WorksheetInternals[]): void {
  // A dense array: exceljs maps over it when committing, and workbook.xml lists <sheet> in this order.
  internals._worksheets.splice(0, internals._worksheets.length, ...sheets);
}

/** The worksheets in `_worksheets` order (workbook.xml's order once the tab order is applied). */
export function presentWorksheets(internals: WorkbookInternals): WorksheetInternals[] {
  return internals._worksheets.filter((ws): ws is WorksheetInternals => ws !== undefined);
}

/** The streaming writer with its internals typed. */
export interface StreamingWorkbook {
  readonly workbook: ExcelJS.stream.xlsx.WorkbookWriter;
  readonly internals: WorkbookInternals;
}

/** Creates exceljs's streaming writer over `stream` and checks the internals we rely on are there. */
export function createStreamingWorkbook(
  options: Partial<ExcelJS.stream.xlsx.WorkbookStreamWriterOptions>,
): StreamingWorkbook {
  const workbook = new WorkbookWriter(options);
  const internals = workbook as unknown as WorkbookInternals;
  if (
    !Array.isArray(internals._worksheets) ||
    typeof internals.styles?.addStyleModel !== 'function' ||
    typeof internals.styles.addDxfStyle !== 'function' ||
    typeof internals.zip?.append !== 'function'
  ) {
    throw new Error('exceljs streaming writer internals changed; this code is written for exceljs 4.4.0');
  }
  return { workbook, internals };
}

/** The worksheet writer's internals (checked). */
export function worksheetInternals(sheet: ExcelJS.Worksheet): WorksheetInternals {
  const internals = sheet as unknown as WorksheetInternals;
  if (
    typeof internals._writeCloseWorksheet !== 'function' ||
    typeof internals._writeMergeCells !== 'function' ||
    typeof internals._writeConditionalFormatting !== 'function' ||
    typeof internals._sheetRelsWriter?.addRelationship !== 'function'
  ) {
    throw new Error('exceljs worksheet writer internals changed; this code is written for exceljs 4.4.0');
  }
  return internals;
}
