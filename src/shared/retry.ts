import type { Clock, Sleep } from './clock.js';

/** What a failed attempt means for the retry loop. */
export type RetryDecision =
  | { readonly retry: false }
  /** Retry; `delayMs` overrides the backoff (e.g. from `Retry-After`). */
  | { readonly retry: true; readonly delayMs?: number; readonly reason?: string };

export interface RetryPolicy {
  /** Attempts in total, including the first. */
  readonly maxAttempts: number;
  /** First backoff delay; doubled each attempt. */
  readonly baseDelayMs: number;
  /** Upper bound of one backoff delay (a server's Retry-After is capped by `maxRetryAfterMs`). */
  readonly maxDelayMs: number;
  /** Longest Retry-After we honour. */
  readonly maxRetryAfterMs?: number;
  /** Give up once the next sleep would pass this much time since the first attempt. */
  readonly maxTotalMs: number;
}

export interface RetryDeps {
  readonly sleep: Sleep;
  readonly clock: Clock;
  /** Returns a number in [0, 1): jitter source, injectable for tests. */
  readonly random?: () => number;
  readonly signal?: AbortSignal;
  /** Called before each sleep, for logging. */
  readonly onRetry?: (info: { attempt: number; delayMs: number; error: unknown; reason: string | undefined }) => void;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 300_000,
  maxTotalMs: 10 * 60_000,
};

/**
 * Exponential backoff with "full jitter" (delay uniformly in [d/2, d]) for attempt n (1-based): d = base·2^(n-1),
 * capped at `maxDelayMs`.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/**
 * Runs `fn` until it succeeds, `decide` says the error is final, attempts run out or the total time cap would be
 * passed. Throws the last error.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  decide: (error: unknown, attempt: number) => RetryDecision,
  policy: RetryPolicy,
  deps: RetryDeps,
): Promise<T> {
  const started = deps.clock.now().getTime();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      const decision = decide(error, attempt);
      if (!decision.retry || attempt >= policy.maxAttempts) throw error;
      const cap = policy.maxRetryAfterMs ?? policy.maxDelayMs;
      const delayMs =
        decision.delayMs !== undefined ? Math.min(decision.delayMs, cap) : backoffDelay(attempt, policy, deps.random);
      const elapsed = deps.clock.now().getTime() - started;
      if (elapsed + delayMs > policy.maxTotalMs) throw error;
      deps.onRetry?.({ attempt, delayMs, error, reason: decision.retry ? decision.reason : undefined });
      await deps.sleep(delayMs, deps.signal);
    }
  }
}

/**
 * Parses an HTTP `Retry-After` value: delta-seconds or an HTTP date. Returns milliseconds to wait (≥ 0), or
 * undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  if (value === undefined || value === null) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

/** True for HTTP statuses that are worth retrying in general: 408, 429 and 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
