/**
 * What the Graph simulator answers: a reply (status, JSON body, headers), the errors a route throws to answer one
 * (`HttpFault`), Graph's nested error body, and the reply of an injected fault.
 */
import { randomUUID } from 'node:crypto';
import type { FaultRule } from './faults.js';

export interface Reply {
  readonly status: number;
  /** A JSON body. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** A file body, streamed from disk (content downloads); `cutAtHalf` drops the connection half-way (a fault). */
  readonly file?: { readonly path: string; readonly cutAtHalf?: boolean };
}

/** Thrown by a route to answer with a Graph error: `codes` is the code chain, outermost first. */
export class HttpFault extends Error {
  constructor(
    readonly status: number,
    readonly codes: readonly string[],
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Graph's error body for a code chain; `requestId` is echoed in the innermost error (a fresh id by default). */
export function errorBody(codes: readonly string[], message: string, requestId: string = randomUUID()): unknown {
  // Nest the codes like Graph: {"error":{"code":"notAllowed","innerError":{"code":"resourceLocked",...}}}.
  let inner: Record<string, unknown> = { date: new Date().toISOString(), 'request-id': requestId };
  for (const code of [...codes].slice(1).reverse()) inner = { code, innerError: inner };
  return { error: { code: codes[0] ?? 'generalException', message, innerError: inner } };
}

/** The reply of a `respond` fault rule (default 500 generalException), with its Retry-After. */
export function faultReply(rule: FaultRule): Reply {
  const codes = rule.codes ?? ['generalException'];
  return {
    status: rule.status ?? 500,
    body: errorBody(codes, rule.message ?? 'Injected fault'),
    headers: rule.retryAfter === undefined ? {} : { 'retry-after': rule.retryAfter },
  };
}
