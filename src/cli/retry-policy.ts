import type { RetryConfig } from '../config/schema.js';
import type { RetryPolicy } from '../shared/retry.js';

/** The retry section of the config as the HTTP layers take it. */
export function toRetryPolicy(r: RetryConfig): RetryPolicy {
  return {
    maxAttempts: r.attempts,
    baseDelayMs: r.initialDelay,
    maxDelayMs: r.maxDelay,
    maxRetryAfterMs: r.maxRetryAfter,
    maxTotalMs: r.giveUpAfter,
  };
}
