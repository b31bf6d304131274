/**
 * The errors of update mode that every destination raises the same way: a workbook too large to download and
 * patch, a workbook a teammate saved after this run read it, and a file that appeared where none was. The caller
 * (the pipeline) tells them apart by code: DESTINATION_CHANGED means "read it again and redo", never "retry the write".
 */
import { DestinationError, type AppErrorOptions } from '../shared/errors.js';

/** The setting a user raises when the workbook is too large. */
export const MAX_BYTES_SETTING = 'destination.update.maxBytes';

/**
 * The refusal to download a workbook over the update-mode cap, naming the file, its size, the cap and the setting.
 * `size` is what the destination reported, or the bytes received so far when it grew while downloading.
 */
export function fileTooLargeError(
  location: string,
  size: number,
  maxBytes: number,
  options: { readonly whileDownloading?: boolean; readonly cause?: unknown } = {},
): DestinationError {
  const what =
    options.whileDownloading === true
      ? `grew past ${formatBytes(maxBytes)} while it was downloaded (${formatBytes(size)} received so far)`
      : `is ${formatBytes(size)}, over the update-mode limit of ${formatBytes(maxBytes)}`;
  return new DestinationError('DESTINATION_TOO_LARGE', `'${location}' ${what}; it was not updated and is untouched`, {
    hint: `raise ${MAX_BYTES_SETTING} (in bytes) above ${size}, or make the workbook smaller (e.g. move old data to another file)`,
    details: { location, bytes: size, maxBytes, setting: MAX_BYTES_SETTING },
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  });
}

/**
 * A conditional write refused because the workbook changed after it was read (OneDrive 412, or a local fingerprint
 * that differs). Nothing was written; the teammate's version stays as it is.
 */
export function fileChangedError(location: string, evidence: string, options: AppErrorOptions = {}): DestinationError {
  return new DestinationError(
    'DESTINATION_CHANGED',
    `'${location}' was saved by a teammate after this run read it (${evidence}); nothing was written and their version is untouched`,
    {
      hint: 'the run reads the workbook again and redoes its update, up to destination.update.conflictRetries times; if it keeps happening, schedule the export when nobody edits the workbook',
      ...options,
      details: { location, ...options.details },
    },
  );
}

/** A create-only write refused because a file appeared at the target after this run found none there. */
export function fileAppearedError(location: string, evidence: string, options: AppErrorOptions = {}): DestinationError {
  return new DestinationError(
    'DESTINATION_CHANGED',
    `'${location}' did not exist when this run looked, but a file appeared there before the write (${evidence}); nothing was written and that file is untouched`,
    {
      hint: 'the run reads the new file and updates it instead, up to destination.update.conflictRetries times',
      ...options,
      details: { location, ...options.details },
    },
  );
}

/** `312.5 MiB (327680000 bytes)`: readable, and exact for the setting. */
function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  const readable = mib >= 1 ? `${Math.round(mib * 10) / 10} MiB` : `${Math.round(bytes / 102.4) / 10} KiB`;
  return `${readable} (${bytes} bytes)`;
}
