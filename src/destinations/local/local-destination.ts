/**
 * Delivers a finished workbook into a local folder atomically: the file is copied next to the target under a
 * hidden temp name, flushed to disk, then renamed over the target. A reader (or Excel opening the file) sees
 * either the old workbook or the new one, never a half-written file; on failure the old file is untouched.
 *
 * Update mode: `fetchCurrent` copies the workbook out with a fingerprint (local-version.ts); `deliver` with
 * `ifMatch` checks that fingerprint again just before the rename, and with `ifAbsent` creates the file only if
 * none is there (a hard link, which fails atomically when the name is taken).
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, link, lstat, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LOCAL_FILE_NAME_HINT, localFileNameProblem } from '../../shared/local-file-name.js';
import { AbortedError, AppError, DestinationError } from '../../shared/errors.js';
import type {
  CurrentFile,
  DeliveryContext,
  DeliveryResult,
  Destination,
  FetchCurrentContext,
  FinishedFile,
} from '../../contracts/ports.js';
import { skipWhenUnchanged, type HoldsPrevious } from '../skip-unchanged.js';
import { fileAppearedError, fileChangedError } from '../update-mode-errors.js';
import { copyWithFingerprint, hasFingerprint } from './local-version.js';

export interface LocalDestinationOptions {
  /** Folder to write into; created when missing. Relative paths resolve against the working directory. */
  readonly dir: string;
  /** File name inside `dir`, e.g. `Sales Pipeline.xlsx`. */
  readonly fileName: string;
  /** Write nothing when the data is unchanged and the previous file is still there (default false). */
  readonly skipUnchanged?: boolean | undefined;
  /**
   * `update`: the file is the team's workbook, so "still holds the previous delivery" (skipUnchanged) means a file
   * is still at the path, whatever its size. Default `replace`: the same path with the same size.
   */
  readonly mode?: 'replace' | 'update' | undefined;
  /**
   * Permissions of the delivered workbook (default 0o640: the owner writes, the group reads, nobody else): it
   * holds the pipeline, so it is never world-readable unless asked for.
   */
  readonly fileMode?: number | undefined;
}

/** Default permissions of a delivered workbook. */
export const DEFAULT_WORKBOOK_FILE_MODE = 0o640;

/** A local destination, and its evidence that a previous delivery is still in place. */
export interface LocalDestination extends Destination {
  readonly holds: HoldsPrevious;
  fetchCurrent: NonNullable<Destination['fetchCurrent']>;
}

/**
 * Creates a destination writing `options.fileName` into `options.dir`. Throws DestinationError
 * (`DESTINATION_INVALID_FILE_NAME`) at once when the file name is not a plain `.xlsx` name. `deliver` throws
 * `DESTINATION_CHANGED` when an update-mode condition is refused (the target untouched, the temp file removed);
 * `fetchCurrent` throws `DESTINATION_TOO_LARGE` over `maxBytes`, before copying.
 */
export function createLocalDestination(options: LocalDestinationOptions): LocalDestination {
  validateFileName(options.fileName);
  const dir = resolve(options.dir);
  const target = join(dir, options.fileName);

  const holds: HoldsPrevious = async (previous) => {
    // Local files have no item id or eTag: the same path with the same size is the best evidence available. In
    // update mode teammates' edits change the size; the file being there is what counts.
    if (resolve(previous.location) !== target) return false;
    try {
      const info = await stat(target);
      return info.isFile() && (options.mode === 'update' || info.size === previous.bytes);
    } catch {
      return false;
    }
  };
  const fetchCurrent = async (ctx: FetchCurrentContext): Promise<CurrentFile | undefined> => {
    throwIfAborted(ctx.signal, target);
    const path = join(ctx.tempDir, `current-${randomBytes(6).toString('hex')}.xlsx`);
    let copied;
    try {
      copied = await copyWithFingerprint(target, path, ctx.maxBytes, ctx.signal);
    } catch (err) {
      throw toReadError(err, target, ctx.signal);
    }
    if (copied === undefined) return undefined;
    ctx.logger.debug({ location: target, bytes: copied.bytes }, 'copied the local workbook to update it');
    return { path, bytes: copied.bytes, version: copied.version, location: target };
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
        // Set before the file gets its name: no reader ever sees it with other rights.
        await chmod(temp, options.fileMode ?? DEFAULT_WORKBOOK_FILE_MODE);
        await flushToDisk(temp);
        const { size } = await stat(temp);
        if (size !== file.bytes) {
          throw new DestinationError(
            'DESTINATION_WRITE_FAILED',
            `copy of '${file.path}' to '${temp}' has ${size} bytes, expected ${file.bytes}; the source changed while it was delivered`,
          );
        }
        throwIfAborted(ctx.signal, target);
        await putInPlace(temp, target, ctx);
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
  const skipping = skipWhenUnchanged({ ...destination, fetchCurrent }, holds, options.skipUnchanged ?? false);
  return { ...skipping, fetchCurrent: skipping.fetchCurrent ?? fetchCurrent, holds };
}

/**
 * Moves the flushed temp file to the target: over it (checking `ctx.ifMatch` first), or create-only (`ifAbsent`).
 * @throws DestinationError `DESTINATION_CHANGED` when the target changed since it was read, or appeared.
 */
async function putInPlace(temp: string, target: string, ctx: DeliveryContext): Promise<void> {
  if (ctx.ifAbsent === true) {
    if (ctx.ifMatch !== undefined) {
      throw new AppError('INTERNAL', 'a delivery cannot require both a version (ifMatch) and no file (ifAbsent)');
    }
    await createOnly(temp, target);
    return;
  }
  // Checked as late as possible: what is left is the instant between this check and the rename, which a local
  // filesystem cannot close (rename has no condition).
  if (ctx.ifMatch !== undefined && !(await hasFingerprint(target, ctx.ifMatch))) {
    throw fileChangedError(target, 'its size, modification time or content differ from when it was read');
  }
  await rename(temp, target);
}

/** Links the temp file under the target name, which fails with EEXIST if a file took the name, then drops the temp. */
async function createOnly(temp: string, target: string): Promise<void> {
  try {
    await link(temp, target);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'EEXIST') throw fileAppearedError(target, 'a file with that name now exists');
    // Some mounted shares (SMB, FAT) have no hard links: check, then rename; the window is that instant.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    if (await exists(target)) throw fileAppearedError(target, 'a file with that name now exists');
    await rename(temp, target);
    return;
  }
  // Delivered: the target is its own link now. A temp name left behind is only clutter, not a failed delivery.
  await unlink(temp).catch(() => undefined);
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return false;
    throw err;
  }
}

/** A failure to read the workbook for update mode, named and with the fix. */
function toReadError(err: unknown, target: string, signal: AbortSignal): AppError {
  if (err instanceof AppError) return err;
  if (signal.aborted) return new AbortedError(`reading '${target}' aborted`, { cause: err });
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return new DestinationError('DESTINATION_WRITE_FAILED', `could not read '${target}' to update it: ${message}`, {
    cause: err,
    hint:
      code === 'EACCES' || code === 'EPERM'
        ? 'make the workbook readable for the service user'
        : code === 'ENOSPC'
          ? 'free disk space in the state directory (temp files)'
          : 'check the destination folder and the state directory',
    details: { target, ...(typeof code === 'string' ? { errno: code } : {}) },
  });
}

function validateFileName(fileName: string): void {
  const problem = localFileNameProblem(fileName);
  if (problem !== undefined) {
    throw new DestinationError(
      'DESTINATION_INVALID_FILE_NAME',
      `local destination file name '${fileName}' ${problem}`,
      { hint: LOCAL_FILE_NAME_HINT },
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
