/**
 * The timer seam of the scheduler: a `setTimeout`-like API that tests replace with a fake driven by a fake clock.
 * Handles are opaque: whatever `setTimeout` returns is handed back to `clearTimeout` unchanged.
 */
export interface TimerApi {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's own timers. */
export const realTimers: TimerApi = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  // The handle is exactly what setTimeout above returned; the cast only restores its type.
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};
