/**
 * Small in-process concurrency primitives, owned by one source instance (never module-level): a counting semaphore
 * for the per-site export cap, and a keyed mutex so one PAT never holds two sessions at once.
 */
import { AbortedError } from '../../shared/errors.js';

/** Releases a permit; calling it twice is harmless. */
export type Release = () => void;

export interface Semaphore {
  /** Waits for a permit; rejects with AbortedError when `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<Release>;
  readonly active: number;
  readonly waiting: number;
}

/** A FIFO counting semaphore with `limit` permits (≥ 1). */
export function createSemaphore(limit: number): Semaphore {
  const max = Math.max(1, Math.floor(limit));
  let active = 0;
  const queue: { grant: () => void }[] = [];

  const makeRelease = (): Release => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = queue.shift();
      if (next !== undefined) next.grant();
      else active--;
    };
  };

  const acquire = (signal?: AbortSignal): Promise<Release> => {
    if (signal?.aborted) return Promise.reject(new AbortedError('aborted while waiting', { cause: signal.reason }));
    if (active < max) {
      active++;
      return Promise.resolve(makeRelease());
    }
    return new Promise<Release>((resolve, reject) => {
      const entry = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(makeRelease());
        },
      };
      const onAbort = (): void => {
        const i = queue.indexOf(entry);
        if (i >= 0) queue.splice(i, 1);
        reject(new AbortedError('aborted while waiting', { cause: signal?.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(entry);
    });
  };

  return {
    acquire,
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
  };
}

export interface KeyedMutex {
  /** Waits until no one else holds `key`. */
  acquire(key: string, signal?: AbortSignal): Promise<Release>;
  /** True while someone holds `key`. */
  isHeld(key: string): boolean;
}

/** One mutex per key, created on first use. */
export function createKeyedMutex(): KeyedMutex {
  const locks = new Map<string, Semaphore>();
  const lockFor = (key: string): Semaphore => {
    let lock = locks.get(key);
    if (lock === undefined) {
      lock = createSemaphore(1);
      locks.set(key, lock);
    }
    return lock;
  };
  return {
    acquire: (key, signal) => lockFor(key).acquire(signal),
    isHeld: (key) => (locks.get(key)?.active ?? 0) > 0,
  };
}
