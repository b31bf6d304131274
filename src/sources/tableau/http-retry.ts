/**
 * The retry policy of the Tableau client: whether a failure is retried is decided by its type (an AppError marked
 * `retryable`), the delay by the server's Retry-After when it sent one, else by backoff + jitter; each retry is logged,
 * redacted.
 */
import type { Clock, Sleep } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import { withRetry, type RetryDecision, type RetryPolicy } from '../../shared/retry.js';

export interface TableauRetryDeps {
  readonly policy: RetryPolicy;
  /** Used when the attempt has no run-scoped logger. */
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly random?: (() => number) | undefined;
}

export interface RetryAttempt {
  readonly error: { readonly what: string };
  readonly signal: AbortSignal;
  readonly logger?: Logger | undefined;
  /** `false` runs the attempt once. */
  readonly retry?: boolean;
}

/** Retryable AppErrors are retried, after their `retryAfterMs` detail when they carry one. */
export function decideRetry(error: unknown): RetryDecision {
  if (!(error instanceof AppError) || !error.retryable) return { retry: false };
  const retryAfter = error.details['retryAfterMs'];
  return typeof retryAfter === 'number'
    ? { retry: true, delayMs: retryAfter, reason: error.code }
    : { retry: true, reason: error.code };
}

/**
 * Runs `attempt` until it succeeds, fails for good ({@link decideRetry}) or `deps.policy` runs out, logging a
 * redacted warning before each retry. Rejects with the last error; `spec.signal` cuts a wait short.
 */
export function runWithRetries<T>(spec: RetryAttempt, attempt: () => Promise<T>, deps: TableauRetryDeps): Promise<T> {
  if (spec.retry === false) return attempt();
  const logger = spec.logger ?? deps.logger;
  return withRetry(attempt, decideRetry, deps.policy, {
    sleep: deps.sleep,
    clock: deps.clock,
    signal: spec.signal,
    ...(deps.random === undefined ? {} : { random: deps.random }),
    onRetry: ({ attempt: n, delayMs, error }) =>
      logger.warn(
        { attempt: n, delayMs, code: error instanceof AppError ? error.code : undefined },
        deps.redactor.redact(
          `${spec.error.what}: retrying in ${delayMs} ms after: ${error instanceof Error ? error.message : String(error)}`,
        ),
      ),
  });
}
