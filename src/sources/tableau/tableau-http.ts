/**
 * The one HTTP layer of the Tableau client (axios, streamed responses). It owns timeouts (connect, then idle while
 * waiting for headers and between body chunks), retries with backoff + jitter + Retry-After, error mapping, and
 * streaming downloads to disk with a size cap and truncation detection. It knows nothing about sessions.
 */
import http from 'node:http';
import https from 'node:https';
import { createWriteStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import axios, { type AxiosResponse } from 'axios';
import { AbortedError, AppError, SourceError } from '../../shared/errors.js';
import type { Clock, Sleep } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import { withRetry, type RetryDecision, type RetryPolicy } from '../../shared/retry.js';
import { errorFromResponse, errorFromTransport, type ErrorContext } from './tableau-errors.js';

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

/** Largest XML answer we accept (a 1000-item views page is a few MB). */
const MAX_XML_BYTES = 64 * 1024 * 1024;
/** How much of an error body we keep. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

interface OpenExchange {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Raw body, passed through the idle watchdog; decode with {@link decoders}. */
  readonly body: Readable;
  /** Raw bytes received so far. */
  received(): number;
  /** Set when we aborted the exchange ourselves (timeout, caller abort); prefer it over the stream's error. */
  failure(): AppError | undefined;
  /** Clears timers and listeners. */
  finish(): void;
}

function flattenHeaders(headers: AxiosResponse['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof v === 'string') out[k.toLowerCase()] = v;
    else if (typeof v === 'number') out[k.toLowerCase()] = String(v);
    else if (Array.isArray(v)) out[k.toLowerCase()] = v.map(String).join(', ');
  }
  return out;
}

function decoders(headers: Readonly<Record<string, string | undefined>>): Transform[] {
  switch ((headers['content-encoding'] ?? '').trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return [createGunzip()];
    case 'deflate':
      return [createInflate()];
    case 'br':
      return [createBrotliDecompress()];
    default:
      return [];
  }
}

/** Creates the HTTP layer. One instance per source; it keeps a keep-alive agent with the configured CA. */
export function createTableauHttp(options: TableauHttpOptions, deps: TableauHttpDeps): TableauHttp {
  const httpsAgent = new https.Agent({
    keepAlive: true,
    ...(options.ca === undefined ? {} : { ca: [...options.ca] }),
  });
  const httpAgent = new http.Agent({ keepAlive: true });
  const client = axios.create({ httpsAgent, httpAgent });

  const timeoutError = (spec: RequestSpec, phase: string, ms: number): SourceError =>
    new SourceError('TABLEAU_TIMEOUT', `${spec.error.what} failed: no answer for ${ms} ms while ${phase}`, {
      retryable: true,
      hint:
        phase === 'connecting'
          ? 'check tableau.serverUrl, the network path and any proxy; raise tableau.connectTimeoutMs if the link is slow'
          : 'the server stalled; raise tableau.idleTimeoutMs for views that take long to compute',
      details: { phase, timeoutMs: ms },
    });

  async function openExchange(spec: RequestSpec): Promise<OpenExchange> {
    if (spec.signal.aborted) throw new AbortedError(`${spec.error.what}: aborted`, { cause: spec.signal.reason });
    const controller = new AbortController();
    let failure: AppError | undefined;
    let bodyStream: Readable | undefined = undefined;
    let timer: NodeJS.Timeout | undefined;
    let received = 0;
    const abortWith = (err: AppError): void => {
      failure ??= err;
      controller.abort(err);
      bodyStream?.destroy(err);
    };
    const arm = (ms: number, phase: string): void => {
      clearTimeout(timer);
      timer = setTimeout(() => abortWith(timeoutError(spec, phase, ms)), ms);
    };
    const onOuterAbort = (): void =>
      abortWith(new AbortedError(`${spec.error.what}: aborted`, { cause: spec.signal.reason }));
    spec.signal.addEventListener('abort', onOuterAbort, { once: true });
    const finish = (): void => {
      clearTimeout(timer);
      spec.signal.removeEventListener('abort', onOuterAbort);
      // A body we stopped reading early must not keep its socket.
      if (bodyStream !== undefined && !bodyStream.readableEnded) bodyStream.destroy();
    };

    let connected = false;
    const onConnected = (): void => {
      if (connected) return;
      connected = true;
      arm(options.idleTimeoutMs, 'waiting for the response');
    };
    arm(options.connectTimeoutMs, 'connecting');
    // A thin transport so the connect timeout covers exactly TCP + TLS, not the server's think time.
    const transport = {
      request(reqOptions: https.RequestOptions, callback: (res: http.IncomingMessage) => void): http.ClientRequest {
        const isHttp = reqOptions.protocol === 'http:';
        const req = isHttp ? http.request(reqOptions, callback) : https.request(reqOptions, callback);
        req.once('socket', (socket) => {
          if (!socket.connecting) onConnected();
          else socket.once(isHttp ? 'connect' : 'secureConnect', onConnected);
        });
        return req;
      },
    };

    let res: AxiosResponse<Readable>;
    try {
      res = await client.request<Readable>({
        url: spec.url,
        method: spec.method,
        headers: {
          'User-Agent': options.userAgent,
          'Accept-Encoding': 'gzip, deflate, br',
          ...spec.headers,
        },
        ...(spec.body === undefined ? {} : { data: spec.body }),
        responseType: 'stream',
        validateStatus: () => true,
        maxRedirects: 0,
        decompress: false,
        maxContentLength: -1,
        maxBodyLength: -1,
        transport,
        signal: controller.signal,
      });
    } catch (err) {
      finish();
      throw failure ?? errorFromTransport(err, spec.error, spec.signal);
    }
    onConnected();
    arm(options.idleTimeoutMs, 'receiving the response body');
    const watchdog = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        arm(options.idleTimeoutMs, 'receiving the response body');
        callback(null, chunk);
      },
    });
    const raw = res.data;
    bodyStream = raw;
    const cut = (err: Error): void => {
      if (!watchdog.destroyed) watchdog.destroy(err);
    };
    raw.on('error', cut);
    // A peer that closes before the announced end must surface as an error, never as a short, clean body.
    raw.on('aborted', () => cut(new Error('response aborted by the server')));
    raw.on('close', () => {
      if (!raw.readableEnded) cut(new Error('connection closed before the end of the response'));
    });
    raw.pipe(watchdog);
    if (failure !== undefined) watchdog.destroy(failure);
    return {
      status: res.status,
      headers: flattenHeaders(res.headers),
      body: watchdog,
      received: () => received,
      failure: () => failure,
      finish,
    };
  }

  /** Reads at most `cap` decoded bytes; past it, fails unless `truncate` (then keeps the start). */
  async function readText(ex: OpenExchange, spec: RequestSpec, cap: number, truncate: boolean): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    const stages = decoders(ex.headers);
    const source: Readable = stages.reduce<Readable>((s, d) => s.pipe(d), ex.body);
    for (const d of stages) ex.body.on('error', (e) => d.destroy(e));
    try {
      for await (const chunk of source) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
        size += buf.length;
        if (size > cap) {
          if (truncate) {
            chunks.push(buf.subarray(0, Math.max(0, buf.length - (size - cap))));
            break;
          }
          throw new SourceError(
            'TABLEAU_BAD_RESPONSE',
            `${spec.error.what}: the response is larger than ${cap} bytes`,
            {
              hint: 'lower tableau.pageSize',
            },
          );
        }
        chunks.push(buf);
      }
    } catch (err) {
      const failure = ex.failure();
      if (failure !== undefined) throw failure;
      if (err instanceof AppError) throw err;
      throw new SourceError(
        'TABLEAU_TRUNCATED',
        `${spec.error.what} failed: the response was cut short (${String(err)})`,
        {
          retryable: true,
          cause: err,
        },
      );
    } finally {
      ex.body.destroy();
      ex.finish();
    }
    // Tableau sends UTF-8; we never trust a charset guess.
    return Buffer.concat(chunks).toString('utf8');
  }

  const decide = (error: unknown): RetryDecision => {
    if (!(error instanceof AppError) || !error.retryable) return { retry: false };
    const retryAfter = error.details['retryAfterMs'];
    return typeof retryAfter === 'number'
      ? { retry: true, delayMs: retryAfter, reason: error.code }
      : { retry: true, reason: error.code };
  };

  function retrying<T>(spec: RetryContext & { readonly retry?: boolean }, attempt: () => Promise<T>): Promise<T> {
    if (spec.retry === false) return attempt();
    const logger = spec.logger ?? deps.logger;
    return withRetry(attempt, decide, options.retry, {
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

  function logExchange(spec: RequestSpec, status: number, started: number): void {
    (spec.logger ?? deps.logger).debug(
      { method: spec.method, url: deps.redactor.redact(spec.url), status, ms: deps.clock.now().getTime() - started },
      'tableau request',
    );
  }

  async function requestOnce(spec: RequestSpec): Promise<HttpResponse> {
    const started = deps.clock.now().getTime();
    const ex = await openExchange(spec);
    const ok = ex.status >= 200 && ex.status < 300;
    const redirect = ex.status >= 300 && ex.status < 400 && spec.acceptRedirects === true;
    const text = await readText(ex, spec, ok ? MAX_XML_BYTES : MAX_ERROR_BODY_BYTES, !ok);
    logExchange(spec, ex.status, started);
    if (ok || redirect) return { status: ex.status, headers: ex.headers, text };
    throw errorFromResponse({ status: ex.status, headers: ex.headers, text }, spec.error, deps.clock.now());
  }

  async function downloadOnce(spec: RequestSpec, file: string, maxBytes: number): Promise<DownloadResult> {
    const started = deps.clock.now().getTime();
    const ex = await openExchange(spec);
    if (ex.status < 200 || ex.status >= 300) {
      const text = await readText(ex, spec, MAX_ERROR_BODY_BYTES, true);
      logExchange(spec, ex.status, started);
      throw errorFromResponse({ status: ex.status, headers: ex.headers, text }, spec.error, deps.clock.now());
    }
    let written = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        written += chunk.length;
        if (written > maxBytes) {
          callback(
            new SourceError(
              'TABLEAU_TOO_LARGE',
              `${spec.error.what}: the export is larger than the ${maxBytes}-byte cap`,
              {
                hint: 'add filters to the view request, or raise tableau.maxBytes',
                details: { maxBytes },
              },
            ),
          );
          return;
        }
        callback(null, chunk);
      },
    });
    const expected = ex.headers['content-length'] === undefined ? undefined : Number(ex.headers['content-length']);
    try {
      await pipeline([ex.body, ...decoders(ex.headers), cap, createWriteStream(file, { flags: 'w' })]);
    } catch (err) {
      const failure = ex.failure();
      if (failure !== undefined) throw failure;
      if (err instanceof AppError) throw err;
      throw new SourceError(
        'TABLEAU_TRUNCATED',
        `${spec.error.what} failed: the download was cut after ${ex.received()} bytes${expected === undefined ? '' : ` of ${expected}`} (${err instanceof Error ? err.message : String(err)})`,
        { retryable: true, cause: err, details: { received: ex.received(), expected } },
      );
    } finally {
      ex.finish();
    }
    logExchange(spec, ex.status, started);
    if (expected !== undefined && Number.isFinite(expected) && ex.received() !== expected) {
      throw new SourceError(
        'TABLEAU_TRUNCATED',
        `${spec.error.what} failed: received ${ex.received()} bytes but the server announced ${expected}`,
        { retryable: true, details: { received: ex.received(), expected } },
      );
    }
    return { bytes: written, contentType: ex.headers['content-type'] };
  }

  return {
    request: (spec) => retrying(spec, () => requestOnce(spec)),
    download: (spec, file, limits) => retrying(spec, () => downloadOnce(spec, file, limits.maxBytes)),
    withRetries: (context, attempt) => retrying(context, attempt),
  };
}
