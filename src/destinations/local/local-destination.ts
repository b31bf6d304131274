/**
 * Delivers a finished workbook into a local folder atomically: the file is copied next to the target under a
 * hidden temp name, flushed to disk, then renamed over the target. A reader (or Excel opening the file) sees
 * either the old workbook or the new one, never a half-written file; on failure the old file is untouched.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { AbortedError, AppError, DestinationError } from '../../shared/errors.js';
import type { DeliveryContext, DeliveryResult, Destination, FinishedFile } from '../../contracts/ports.js';
import { skipWhenUnchanged, type HoldsPrevious } from '../skip-unchanged.js';

export interface LocalDestinationOptions {
  /** Folder to write into; created when missing. Relative paths resolve against the working directory. */
  readonly dir: string;
  /** File name inside `dir`, e.g. `Sales Pipeline.xlsx`. */
  readonly fileName: string;
  /** Write nothing when the data is unchanged and the previous file is still there (default false). */
  readonly skipUnchanged?: boolean | undefined;
}

/** A local destination, and its evidence that a previous delivery is still in place. */
export interface LocalDestination extends Destination {
  readonly holds: HoldsPrevious;
}

/**
 * Creates a destination writing `options.fileName` into `options.dir`. Throws DestinationError
 * (`DESTINATION_INVALID_FILE_NAME`) at once when the file name is not a plain `.xlsx` name.
 */
export function createLocalDestination(options: LocalDestinationOptions): LocalDestination {
  validateFileName(options.fileName);
  const dir = resolve(options.dir);
  const target = join(dir, options.fileName);

  const holds: HoldsPrevious = async (previous) => {
    // Local files have no item id or eTag: the same path with the same size is the best evidence available.
    if (resolve(previous.location) !== target) return false;
    try {
      const info = await stat(target);
      return info.isFile() && info.size === previous.bytes;
    } catch {
      return false;
    }
  };
  const destination: Destination = {
    describe: () => `local file ${target}`,

    async deliver(file: FinishedFile, ctx: DeliveryContext): Promise<DeliveryResult> {
      throwIfAborted(ctx.signal, target);
      const temp = join(dir, `.${options.fileName}.${randomBytes(6).toString('hex')}.tmp`);
      try {
        await mkdir(dir, { recursive: true });
        // COPYFILE_EXCL: the random temp name must be ours alone.
        await copyFile(file.path, temp, constants.COPYFILE_EXCL);
        await flushToDisk(temp);
        const { size } = await stat(temp);
        if (size !== file.bytes) {
          throw new DestinationError(
            'DESTINATION_WRITE_FAILED',
            `copy of '${file.path}' to '${temp}' has ${size} bytes, expected ${file.bytes}; the source changed while it was delivered`,
          );
        }
        throwIfAborted(ctx.signal, target);
        await rename(temp, target);
      } catch (err) {
        await unlink(temp).catch(() => undefined);
        throw toDestinationError(err, file.path, target);
      }
      // Makes the rename itself durable; not every platform can fsync a directory, and the file is in place anyway.
      await flushToDisk(dir).catch(() => undefined);
      ctx.logger.debug({ location: target, bytes: file.bytes }, 'workbook delivered to local folder');
      return { location: target, warnings: [] };
    },
  };
  return { ...skipWhenUnchanged(destination, holds, options.skipUnchanged ?? false), holds };
}

function validateFileName(fileName: string): void {
  const problem =
    fileName.trim() === ''
      ? 'is empty'
      : /[/\\]/.test(fileName) || basename(fileName) !== fileName
        ? 'contains a path separator'
        : // eslint-disable-next-line no-control-regex -- control characters are exactly what this pattern is about
          /[\u0000-\u001f]/.test(fileName)
          ? 'contains control characters'
          : !/\.xlsx$/i.test(fileName) || fileName.length <= '.xlsx'.length
            ? 'does not end with .xlsx'
            : undefined;
  if (problem !== undefined) {
    throw new DestinationError(
      'DESTINATION_INVALID_FILE_NAME',
      `local destination file name '${fileName}' ${problem}`,
      {
        hint: "use a plain file name such as 'Sales Pipeline.xlsx' and put the folder in 'dir'",
      },
    );
  }
}

async function flushToDisk(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function throwIfAborted(signal: AbortSignal, target: string): void {
  if (signal.aborted) throw new AbortedError(`delivery to '${target}' aborted`, { cause: signal.reason });
}

function toDestinationError(err: unknown, source: string, target: string): AppError {
  if (err instanceof AppError) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  const hint =
    code === 'ENOSPC'
      ? 'free disk space in the destination folder'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'make the destination folder writable for the service user'
        : code === 'EISDIR'
          ? 'a folder has the target file name; rename or remove it'
          : 'check the destination folder and the workbook temp file';
  return new DestinationError('DESTINATION_WRITE_FAILED', `could not deliver '${source}' to '${target}': ${message}`, {
    cause: err,
    hint,
    details: { target, ...(typeof code === 'string' ? { errno: code } : {}) },
  });
}
