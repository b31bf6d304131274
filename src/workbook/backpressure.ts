/**
 * Backpressure between a sheet's rows and the zip compressor, which exceljs does not apply: a sheet waits here
 * until the compressor has taken most of what it wrote.
 */
import type { Writable } from 'node:stream';
import { bufferedBytes, type StreamBufInternals } from './exceljs-internals.js';
import type { FailureLatch } from './failure-latch.js';
import { throwIfAborted } from './write-errors.js';

// Uncompressed sheet XML allowed to wait for the compressor before we stop producing rows.
const MAX_BUFFERED_BYTES = 1024 * 1024;
const PIPE_POLL_MS = 2;

/**
 * Waits until the compressor has taken most of what the sheet wrote: exceljs pushes into archiver's PassThrough
 * without looking at `write()`'s result, so without this wait the sheet XML piles up in memory (≈ 53 MiB per 100k
 * rows). Until archiver starts this sheet's entry, the StreamBuf has no pipe and we poll briefly.
 * Rejects with the latch's error once it has failed, and with AbortedError when `signal` is aborted.
 */
export async function waitForRoom(
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
