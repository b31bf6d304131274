/** Where a sheet's rendered rows go: batched into large writes, with the compressor's backpressure between them. */
import { waitForRoom } from './backpressure.js';
import type { StreamBufInternals } from './exceljs-internals.js';
import type { FailureLatch } from './failure-latch.js';

// Rows are serialised into one string until it reaches this size, then written in one piece.
const WRITE_BATCH_CHARS = 64 * 1024;

export interface RowSink {
  /** Adds rendered XML; writes the batch (and waits for room) once it is large enough. */
  write(xml: string): Promise<void>;
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
  let pending = '';
  const flush = async (): Promise<void> => {
    if (pending !== '') {
      stream.write(pending);
      pending = '';
    }
    await waitForRoom(stream, latch, signal);
  };
  await waitForRoom(stream, latch, signal);
  return {
    async write(xml) {
      pending += xml;
      if (pending.length >= WRITE_BATCH_CHARS) await flush();
    },
    flush,
  };
}
