/** The errors the workbook writer raises for a failed file write and for an aborted run. */
import { AbortedError, AppError, WorkbookError } from '../shared/errors.js';

/**
 * Throws AbortedError when `signal` is aborted, naming `sheet` when given; the signal's reason is the cause.
 */
export function throwIfAborted(signal: AbortSignal | undefined, sheet: string | undefined): void {
  if (signal?.aborted === true) {
    throw new AbortedError(
      sheet === undefined ? 'workbook writing aborted' : `workbook writing aborted while writing sheet '${sheet}'`,
      {
        cause: signal.reason,
      },
    );
  }
}

/** WORKBOOK_WRITE_FAILED for `filePath`, with a hint for a full disk (ENOSPC) or an unwritable temp folder. */
export function writeFailed(filePath: string, err: Error & { code?: string | undefined }): WorkbookError {
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

/** `err` itself when it is an AppError, else it wrapped by {@link writeFailed}. */
export function toWriteError(filePath: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  return writeFailed(filePath, err instanceof Error ? err : new Error(String(err)));
}
