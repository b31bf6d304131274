/** Where a sheet's rendered rows go: batched into large writes, with the compressor's backpressure between them. */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { waitForRoom } from './backpressure.js';
import type { StreamBufInternals } from './exceljs-internals.js';
import type { FailureLatch } from './failure-latch.js';
import { createUtf8Batch } from './utf8-batch.js';

// Rows are encoded into one Buffer of this size, then written in one piece (one zlib round trip per batch).
const WRITE_BATCH_BYTES = 64 * 1024;

export interface RowSink {
  /**
   * Adds rendered XML; writes the batch (and waits for room) once it is full. Returns undefined when the XML only
   * went into the batch (nearly every row: awaiting nothing costs a microtask hop per row), else the wait to await.
   */
  write(xml: string): Promise<void> | undefined;
  /** Writes what is batched and waits for room. Call before the sheet is closed. */
  flush(): Promise<void>;
}

/**
 * Opens a sink over a sheet's stream, once there is room in it. Writes reject with the latch's error once it has
 * failed, and with AbortedError when `signal` is aborted.
 */
export async function openRowSink(
  stream: StreamBufInternals,
  latch: FailureLatch,
  signal: AbortSignal | undefined,
): Promise<RowSink> {
  const batch = createUtf8Batch(WRITE_BATCH_BYTES);
  const flush = async (): Promise<void> => {
    const pending = batch.take();
    if (pending !== undefined) stream.write(pending);
    await waitForRoom(stream, latch, signal);
  };
  await waitForRoom(stream, latch, signal);
  const written = async (ready: readonly Buffer[]): Promise<void> => {
    for (const bytes of ready) stream.write(bytes);
    // One turn of the event loop per batch: the compressor's callback (a finished deflate job on libuv's thread
    // pool) runs and hands zlib the next batch while we render the following rows. Without it the rows' loop never
    // leaves the microtask queue until the 1 MiB limit below, and rendering and deflate take turns instead of
    // overlapping (measured: the main thread idle 30 % of the write at 1M rows, waiting for deflate).
    await nextTurn();
    await waitForRoom(stream, latch, signal);
  };
  return {
    write(xml) {
      const ready = batch.add(xml);
      return ready === undefined ? undefined : written(ready);
    },
    flush,
  };
}
