/**
 * Backoff for failed admin logins, per remote address: after `limit` failures within `windowMs`, every request from
 * that address is refused (429 with Retry-After) for `windowMs`, then twice as long at each further block, up to
 * `maxBlockMs`. A success resets nothing, not even for its own address: behind one NAT, an admin's dashboard polling
 * with a good token must not wipe the failures of someone guessing next to it. Failures simply age out of the window.
 *
 * Memory is bounded: at most `maxAddresses` addresses are tracked (each with at most `limit` timestamps); the one
 * touched least recently is forgotten first. An address quiet for `maxBlockMs` after its last failure starts afresh.
 */
import type { Clock } from '../shared/clock.js';

export interface LoginThrottleOptions {
  readonly clock: Clock;
  /** Failures within the window that trigger a block (default 10). */
  readonly limit?: number;
  /** The window, and the first block's length (ms, default 60 000). */
  readonly windowMs?: number;
  /** Longest block (ms, default 15 minutes). */
  readonly maxBlockMs?: number;
  /** Most addresses tracked at once (default 10 000). */
  readonly maxAddresses?: number;
}

export interface LoginThrottle {
  /** Seconds the address must still wait (for Retry-After), or undefined when it may try. */
  blockedFor(address: string): number | undefined;
  /** Records a failed login; returns the block it started (ms), if this failure started one. */
  failed(address: string): { readonly blockedMs: number; readonly failures: number } | undefined;
  /** How many addresses are tracked (for tests and metrics). */
  size(): number;
}

interface AddressState {
  /** Times (ms) of the failures since the last block, oldest first; at most `limit`. */
  failures: number[];
  blockedUntil: number;
  /** Blocks so far: each one doubles the next. */
  blocks: number;
  lastFailure: number;
}

export const DEFAULT_LOGIN_LIMIT = 10;
export const DEFAULT_LOGIN_WINDOW_MS = 60_000;
export const DEFAULT_MAX_BLOCK_MS = 15 * 60_000;
const DEFAULT_MAX_ADDRESSES = 10_000;

export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const limit = options.limit ?? DEFAULT_LOGIN_LIMIT;
  const windowMs = options.windowMs ?? DEFAULT_LOGIN_WINDOW_MS;
  const maxBlockMs = Math.max(options.maxBlockMs ?? DEFAULT_MAX_BLOCK_MS, windowMs);
  const maxAddresses = options.maxAddresses ?? DEFAULT_MAX_ADDRESSES;
  // Map order is the order of last touch (entries are re-inserted on every update): the first key is the stalest.
  const states = new Map<string, AddressState>();
  const now = (): number => options.clock.now().getTime();

  const current = (address: string, at: number): AddressState | undefined => {
    const state = states.get(address);
    if (state === undefined) return undefined;
    if (at >= state.blockedUntil && at - state.lastFailure >= maxBlockMs) {
      states.delete(address);
      return undefined;
    }
    return state;
  };

  return {
    blockedFor(address) {
      const at = now();
      const state = current(address, at);
      if (state === undefined || at >= state.blockedUntil) return undefined;
      return Math.max(1, Math.ceil((state.blockedUntil - at) / 1000));
    },
    failed(address) {
      const at = now();
      const state = current(address, at) ?? { failures: [], blockedUntil: 0, blocks: 0, lastFailure: at };
      state.lastFailure = at;
      state.failures = [...state.failures.filter((t) => at - t < windowMs), at].slice(-limit);
      states.delete(address);
      states.set(address, state);
      while (states.size > maxAddresses) {
        const stalest = states.keys().next().value;
        if (stalest === undefined) break;
        states.delete(stalest);
      }
      if (state.failures.length < limit) return undefined;
      const failures = state.failures.length;
      const blockedMs = Math.min(windowMs * 2 ** state.blocks, maxBlockMs);
      state.blocks += 1;
      state.blockedUntil = at + blockedMs;
      state.failures = [];
      return { blockedMs, failures };
    },
    size: () => states.size,
  };
}
