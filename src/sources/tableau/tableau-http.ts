/**
 * The one HTTP layer of the Tableau client (axios, streamed responses). It owns timeouts (connect, then idle while
 * waiting for headers and between body chunks), retries with backoff + jitter + Retry-After, error mapping, and
 * streaming downloads to disk with a size cap and truncation detection. It knows nothing about sessions.
 *
 * This file is the interface and the wiring: opening one exchange (request building, timeouts, abort) is in
 * `http-exchange.ts`, reading bodies (decoding, caps, truncation) in `http-body.ts`, the retry policy in
 * `http-retry.ts`; error mapping of answers and transport failures is `tableau-errors.ts`.
 */
import type { Clock, Sleep } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import type { RetryPolicy } from '../../shared/retry.js';
import { checkAnnouncedLength, MAX_ERROR_BODY_BYTES, MAX_XML_BYTES, readText, writeBodyToFile } from './http-body.js';
import { createAxiosClient, openExchange, type ExchangeSettings } from './http-exchange.js';
import { runWithRetries, type TableauRetryDeps } from './http-retry.js';
import { errorFromResponse, type ErrorContext } from './tableau-errors.js';

export interface TableauHttpOptions {
  /** The whole trust store (PEM certificates: Node's public roots plus the caFile, see loadCaBundle); default roots when absent. */
  readonly ca?: readonly string[] | undefined;
  /** TCP + TLS connect. */
  readonly connectTimeoutMs: number;
  /** Longest silence once connected: waiting for the headers (Tableau computes a view first) and between chunks. */
  readonly idleTimeoutMs: number;
  readonly retry: RetryPolicy;
  readonly userAgent: string;
}

export interface TableauHttpDeps {
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly random?: (() => number) | undefined;
}

export interface RequestSpec {
  readonly method: 'GET' | 'POST';
  /** Absolute URL. */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal: AbortSignal;
  readonly error: ErrorContext;
  /** Run-scoped logger; the factory's logger otherwise. */
  readonly logger?: Logger | undefined;
  /** Return 3xx answers instead of failing (sign-in follows them itself, re-POSTing the body). */
  readonly acceptRedirects?: boolean;
  /** Retry transient failures (default true). */
  readonly retry?: boolean;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly text: string;
}

export interface DownloadResult {
  /** Bytes written to the file (after content decoding). */
  readonly bytes: number;
  readonly contentType: string | undefined;
}

export interface TableauHttp {
  /** Sends a request (with retries unless `retry: false`) and returns the text of a 2xx (or 3xx if accepted). */
  request(spec: RequestSpec): Promise<HttpResponse>;
  /**
   * Streams a 2xx body to `file` (overwritten on each attempt), never holding it in memory. Retries transient
   * failures, including a body cut short. Throws `TABLEAU_TOO_LARGE` past `maxBytes`.
   */
  download(spec: RequestSpec, file: string, limits: { readonly maxBytes: number }): Promise<DownloadResult>;
  /** Runs a multi-request attempt (e.g. sign-in with its redirects) under the same retry policy. */
  withRetries<T>(context: RetryContext, attempt: () => Promise<T>): Promise<T>;
}

export interface RetryContext {
  readonly error: ErrorContext;
  readonly signal: AbortSignal;
  readonly logger?: Logger | undefined;
}

/** Creates the HTTP layer. One instance per source; it keeps a keep-alive agent with the configured CA. */
export function createTableauHttp(options: TableauHttpOptions, deps: TableauHttpDeps): TableauHttp {
  const exchange: ExchangeSettings = {
    client: createAxiosClient(options.ca),
    connectTimeoutMs: options.connectTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    userAgent: options.userAgent,
  };
  const retryDeps: TableauRetryDeps = { ...deps, policy: options.retry };

  async function requestOnce(spec: RequestSpec): Promise<HttpResponse> {
    const started = deps.clock.now().getTime();
    const ex = await openExchange(spec, exchange);
    const ok = isSuccess(ex.status);
    const redirect = ex.status >= 300 && ex.status < 400 && spec.acceptRedirects === true;
    const text = await readText(ex, spec.error.what, ok ? MAX_XML_BYTES : MAX_ERROR_BODY_BYTES, !ok);
    logExchange(spec, ex.status, started, deps);
    if (ok || redirect) return { status: ex.status, headers: ex.headers, text };
    throw errorFromResponse({ status: ex.status, headers: ex.headers, text }, spec.error, deps.clock.now());
  }

  async function downloadOnce(spec: RequestSpec, file: string, maxBytes: number): Promise<DownloadResult> {
    const started = deps.clock.now().getTime();
    const ex = await openExchange(spec, exchange);
    if (!isSuccess(ex.status)) {
      const text = await readText(ex, spec.error.what, MAX_ERROR_BODY_BYTES, true);
      logExchange(spec, ex.status, started, deps);
      throw errorFromResponse({ status: ex.status, headers: ex.headers, text }, spec.error, deps.clock.now());
    }
    const written = await writeBodyToFile(ex, spec.error.what, file, maxBytes);
    logExchange(spec, ex.status, started, deps);
    checkAnnouncedLength(ex, spec.error.what);
    return { bytes: written, contentType: ex.headers['content-type'] };
  }

  return {
    request: (spec) => runWithRetries(spec, () => requestOnce(spec), retryDeps),
    download: (spec, file, limits) => runWithRetries(spec, () => downloadOnce(spec, file, limits.maxBytes), retryDeps),
    withRetries: (context, attempt) => runWithRetries(context, attempt, retryDeps),
  };
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** One debug line per exchange, its URL redacted. */
function logExchange(spec: RequestSpec, status: number, started: number, deps: TableauHttpDeps): void {
  (spec.logger ?? deps.logger).debug(
    { method: spec.method, url: deps.redactor.redact(spec.url), status, ms: deps.clock.now().getTime() - started },
    'tableau request',
  );
}
