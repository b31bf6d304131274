/**
 * The .xlsx package being written to one file: exceljs's streaming writer over a file stream, the failure latch
 * both report to, the parts and names exceljs does not manage, the tab order, and committing or abandoning it all.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import type ExcelJS from 'exceljs';
import { AbortedError, WorkbookError } from '../shared/errors.js';
import { PRIVATE_FILE_MODE } from '../shared/private-files.js';
import { createDefinedNames, type DefinedNames } from './defined-names.js';
import {
  createStreamingWorkbook,
  presentWorksheets,
  reorderWorksheets,
  type WorkbookInternals,
} from './exceljs-internals.js';
import { createFailureLatch, type FailureLatch } from './failure-latch.js';
import { createPackageParts, type PackageParts } from './package-parts.js';
import { checkTabOrder, orderTabs } from './tab-order.js';
import { writeFailed } from './write-errors.js';

export interface WorkbookPackageOptions {
  readonly filePath: string;
  /** Deflate level 0-9, already checked. */
  readonly zipLevel: number;
  readonly creator: string;
  /** Creation/modification time recorded in the document properties (default: now). */
  readonly now: Date | undefined;
}

export interface WorkbookPackage {
  readonly workbook: ExcelJS.stream.xlsx.WorkbookWriter;
  /** Fails on the first file or zip error, and on abort. */
  readonly latch: FailureLatch;
  readonly styles: WorkbookInternals['styles'];
  readonly parts: PackageParts;
  readonly definedNames: DefinedNames;
  /** Final tab order by final names. Throws WORKBOOK_UNKNOWN_SHEET for a name that is not a sheet's. */
  setTabOrder(order: readonly string[]): void;
  /**
   * Writes the rest of the package and closes the file; resolves with its size in bytes. Throws WORKBOOK_EMPTY
   * when there is no sheet, and rejects with the latch's error when writing fails.
   */
  commit(): Promise<number>;
  /** Fails the latch with AbortedError, stops the zip (unless committed) and deletes the file; never throws. */
  abort(committed: boolean): Promise<void>;
}

const DEFLATE_CHUNK_BYTES = 128 * 1024;

/** Creates (or overwrites) `options.filePath` and starts the package in it. */
export function createWorkbookPackage(options: WorkbookPackageOptions): WorkbookPackage {
  const { filePath } = options;
  const latch = createFailureLatch();
  // Pipeline data until delivered: this user only (the destination gives the delivered copy its own mode).
  const fileStream = createWriteStream(filePath, { mode: PRIVATE_FILE_MODE });
  fileStream.on('error', (err: NodeJS.ErrnoException) => latch.fail(writeFailed(filePath, err)));

  const { workbook, internals } = createStreamingWorkbook({
    stream: fileStream,
    useStyles: true,
    useSharedStrings: false,
    // Output room for a whole batch of rows (64 KiB in, at most a little more out even when it does not compress):
    // one deflate job per batch, so one turn of the event loop moves it on (see row-sink.ts).
    zip: { zlib: { level: options.zipLevel, chunkSize: DEFLATE_CHUNK_BYTES } },
  });
  const now = options.now ?? new Date();
  workbook.creator = options.creator;
  workbook.lastModifiedBy = workbook.creator;
  workbook.created = now;
  workbook.modified = now;
  internals.zip.on('error', (err) => latch.fail(writeFailed(filePath, err)));

  const definedNames = createDefinedNames(internals);
  const parts = createPackageParts(internals);
  let tabOrder: readonly string[] = [];

  return {
    workbook,
    latch,
    styles: internals.styles,
    parts,
    definedNames,
    setTabOrder(order) {
      checkTabOrder(order, new Set(presentWorksheets(internals).map((ws) => ws.name)), filePath);
      tabOrder = [...order];
    },
    async commit() {
      if (presentWorksheets(internals).length === 0) {
        throw new WorkbookError(
          'WORKBOOK_EMPTY',
          `workbook '${filePath}' has no sheets; add at least one sheet before commit`,
        );
      }
      reorderWorksheets(internals, orderTabs(presentWorksheets(internals), tabOrder));
      definedNames.addPrintTitles();
      const closed = new Promise<void>((resolve) => fileStream.once('close', resolve));
      await Promise.race([workbook.commit(), latch.failed]);
      await Promise.race([closed, latch.failed]);
      const { size } = await stat(filePath);
      return size;
    },
    async abort(committed) {
      // Wakes a sheet that is waiting for the compressor, so it stops instead of waiting forever.
      latch.fail(new AbortedError(`workbook writing to '${filePath}' aborted`));
      try {
        if (!committed) internals.zip.abort();
      } catch {
        // Best effort: the stream below is destroyed either way.
      }
      await closeQuietly(fileStream);
      await unlink(filePath).catch(() => undefined);
    },
  };
}

function closeQuietly(stream: WriteStream): Promise<void> {
  if (stream.closed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('close', () => resolve());
    stream.destroy();
  });
}
