/**
 * Streams a workbook to a file: data sheets (one Excel table each, any number of rows, memory flat) and small
 * metric/About sheets from {@link SheetSpec}s. exceljs's streaming WorkbookWriter provides the package (styles,
 * workbook.xml, relationships, zip); this module wires the pieces that write the rows (`data-sheet.ts`,
 * `spec-sheet.ts`), the styles (`style-cache.ts`), the tables, conditional formats and merges (`sheet-trailer.ts`)
 * and the package around them with the backpressure that exceljs lacks (`workbook-package.ts`), and keeps the
 * writer's one-sheet-at-a-time state. Private exceljs details are confined to `exceljs-internals.ts`.
 */
import { WorkbookError } from '../shared/errors.js';
import type { SheetSpec } from '../shared/sheet-spec.js';
import { writeDataSheet, type DataSheetDeps, type DataSheetInput, type DataSheetResult } from './data-sheet.js';
import { openRowSink } from './row-sink.js';
import { DEFAULT_PRINT_FOOTER, openSheet } from './open-sheet.js';
import { closeSheet } from './sheet-trailer.js';
import { createSheetNamer } from './sheet-names.js';
import { writeSpecSheet, type SpecSheetDeps } from './spec-sheet.js';
import { createStyleCache } from './style-cache.js';
import { createWorkbookNameRegistry } from './table-part.js';
import { createWorkbookPackage } from './workbook-package.js';
import { toWriteError } from './write-errors.js';

export type { DataSheetInput, DataSheetResult, DataSheetUpdate, TableUpdateSummary } from './data-sheet.js';

/** Excel's last row is 1,048,576; one is the header. */
export const EXCEL_MAX_DATA_ROWS = 1_048_575;
/**
 * Default deflate level. Measured at 1M rows × 15 columns: level 1 writes in ≈ 0.55× the time of level 6 for a
 * file ≈ 1.27× larger, which is still ≈ the size of exceljs's own default output (its `t="str"` cells and per-cell
 * styles are bigger than what we write). Deflate is most of the writing time, so speed wins.
 */
export const DEFAULT_ZIP_LEVEL = 1;

/** Update mode: what of the team's workbook was copied as it was. */
export interface KeptParts {
  /** Parts of the package copied as their stored bytes. */
  readonly parts: number;
  /** The team's own sheets (the ones the export does not write). */
  readonly sheets: readonly string[];
}

export interface WorkbookWriter {
  /** Streams one view into one or more sheets (each an Excel table). Throws AbortedError or WorkbookError. */
  addDataSheet(input: DataSheetInput): Promise<DataSheetResult>;
  /** Renders a small sheet; returns its final tab name. Throws WorkbookError for an invalid spec. */
  addSpecSheet(spec: SheetSpec): Promise<string>;
  /** Optional final tab order by final names (names not listed keep their relative order after the listed ones). */
  setTabOrder(names: readonly string[]): void;
  /** Finishes the file. `warnings` holds what spec sheets could not show (data-sheet warnings are in their results). */
  commit(): Promise<{ bytes: number; warnings: string[]; kept?: KeptParts | undefined }>;
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
  /**
   * The footer of every printed page, in Excel's header/footer codes and the workbook's language (default
   * `&L&A&RPage &P of &N`: the sheet name on the left, "Page 1 of 5" on the right).
   */
  printFooter?: string | undefined;
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
    printFooter: options.printFooter ?? DEFAULT_PRINT_FOOTER,
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
