/**
 * The first failure of a workbook being written (file stream, zip, abort), kept so that every later step, and a
 * sheet waiting for the compressor, fails with it instead of a consequence of it.
 */
import type { AppError } from '../shared/errors.js';

export interface FailureLatch {
  readonly error: AppError | undefined;
  fail(error: AppError): void;
  /** Rejects with the first failure; never resolves. */
  readonly failed: Promise<never>;
  /** Calls `listener` once on failure; returns the unsubscribe function. */
  onFail(listener: (error: AppError) => void): () => void;
}

/** Creates a latch that has not failed. Later failures after the first are ignored. */
export function createFailureLatch(): FailureLatch {
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
