import { AbortedError } from '../shared/errors.js';

/** Throws AbortedError when the run's signal fired (shutdown, cancellation). */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new AbortedError('run aborted (service shutting down or cancelled)');
}
