/**
 * One HTTP exchange of the Tableau client, opened but not yet read: the axios request as we build it (streamed, no
 * redirects followed, no automatic decoding), the connect timeout (TCP + TLS only), then the idle timeout while waiting
 * for the headers and between body chunks, and the caller's abort signal. The body is handed out raw, passed through
 * a watchdog; reading and decoding it is `http-body.ts`'s job.
 */
import http from 'node:http';
import https from 'node:https';
import { Transform, type Readable } from 'node:stream';
import axios, { type AxiosInstance, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import { AbortedError, SourceError, type AppError } from '../../shared/errors.js';
import { errorFromTransport, type ErrorContext } from './tableau-errors.js';

/** What an exchange needs of a request (a `RequestSpec` is one). */
export interface ExchangeRequest {
  readonly method: 'GET' | 'POST';
  /** Absolute URL. */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal: AbortSignal;
  readonly error: ErrorContext;
}

export interface ExchangeSettings {
  /** From {@link createAxiosClient}. */
  readonly client: AxiosInstance;
  /** TCP + TLS connect. */
  readonly connectTimeoutMs: number;
  /** Longest silence once connected: waiting for the headers and between chunks. */
  readonly idleTimeoutMs: number;
  readonly userAgent: string;
}

export interface OpenExchange {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Raw body, passed through the idle watchdog; decode with `decoders` (http-body.ts). */
  readonly body: Readable;
  /** Raw bytes received so far. */
  received(): number;
  /** Set when we aborted the exchange ourselves (timeout, caller abort); prefer it over the stream's error. */
  failure(): AppError | undefined;
  /** Clears timers and listeners. */
  finish(): void;
}

/** An axios instance with keep-alive agents; `ca` is the whole trust store when given (see TableauHttpOptions). */
export function createAxiosClient(ca: readonly string[] | undefined): AxiosInstance {
  const httpsAgent = new https.Agent({
    keepAlive: true,
    ...(ca === undefined ? {} : { ca: [...ca] }),
  });
  const httpAgent = new http.Agent({ keepAlive: true });
  return axios.create({ httpsAgent, httpAgent });
}

/**
 * Sends the request and resolves once the status and headers are in, whatever the status.
 *
 * @throws AbortedError when `request.signal` aborts (before or during); SourceError `TABLEAU_TIMEOUT` (retryable)
 *   when connecting or the first answer takes too long; the mapped transport error (`errorFromTransport`) otherwise.
 *   Later timeouts and aborts destroy the body with that error and are reported by {@link OpenExchange.failure}.
 */
export async function openExchange(request: ExchangeRequest, settings: ExchangeSettings): Promise<OpenExchange> {
  if (request.signal.aborted)
    throw new AbortedError(`${request.error.what}: aborted`, { cause: request.signal.reason });
  const watch = watchExchange(request, settings);
  let res: AxiosResponse<Readable>;
  try {
    res = await settings.client.request<Readable>(
      buildAxiosRequest(request, settings.userAgent, connectTimingTransport(watch.connected), watch.signal),
    );
  } catch (err) {
    watch.finish();
    throw watch.failure() ?? errorFromTransport(err, request.error, request.signal);
  }
  watch.connected();
  watch.arm(settings.idleTimeoutMs, 'receiving the response body');
  let received = 0;
  const raw = res.data;
  watch.attachBody(raw);
  const body = pipeThroughWatchdog(raw, (bytes) => {
    received += bytes;
    watch.arm(settings.idleTimeoutMs, 'receiving the response body');
  });
  const failure = watch.failure();
  if (failure !== undefined) body.destroy(failure);
  return {
    status: res.status,
    headers: flattenHeaders(res.headers),
    body,
    received: () => received,
    failure: () => watch.failure(),
    finish: () => watch.finish(),
  };
}

/** The timers and cancellation of one exchange. */
interface ExchangeWatch {
  /** Aborts the axios request on a timeout or the caller's abort. */
  readonly signal: AbortSignal;
  /** (Re)starts the one timer: `phase` names what we were waiting for, in the timeout message. */
  arm(ms: number, phase: string): void;
  /** The socket is connected: from now on the idle timeout applies (only the first call counts). */
  readonly connected: () => void;
  /** The body to destroy on a later timeout or abort. */
  attachBody(stream: Readable): void;
  failure(): AppError | undefined;
  finish(): void;
}

function watchExchange(request: ExchangeRequest, settings: ExchangeSettings): ExchangeWatch {
  const controller = new AbortController();
  let failure: AppError | undefined;
  let bodyStream: Readable | undefined = undefined;
  let timer: NodeJS.Timeout | undefined;
  let connected = false;
  const abortWith = (err: AppError): void => {
    failure ??= err;
    controller.abort(err);
    bodyStream?.destroy(err);
  };
  const arm = (ms: number, phase: string): void => {
    clearTimeout(timer);
    timer = setTimeout(() => abortWith(timeoutError(request.error.what, phase, ms)), ms);
  };
  const onOuterAbort = (): void =>
    abortWith(new AbortedError(`${request.error.what}: aborted`, { cause: request.signal.reason }));
  request.signal.addEventListener('abort', onOuterAbort, { once: true });
  arm(settings.connectTimeoutMs, 'connecting');
  return {
    signal: controller.signal,
    arm,
    connected: () => {
      if (connected) return;
      connected = true;
      arm(settings.idleTimeoutMs, 'waiting for the response');
    },
    attachBody: (stream) => {
      bodyStream = stream;
    },
    failure: () => failure,
    finish: () => {
      clearTimeout(timer);
      request.signal.removeEventListener('abort', onOuterAbort);
      // A body we stopped reading early must not keep its socket.
      if (bodyStream !== undefined && !bodyStream.readableEnded) bodyStream.destroy();
    },
  };
}

function timeoutError(what: string, phase: string, ms: number): SourceError {
  return new SourceError('TABLEAU_TIMEOUT', `${what} failed: no answer for ${ms} ms while ${phase}`, {
    retryable: true,
    hint:
      phase === 'connecting'
        ? 'check tableau.serverUrl, the network path and any proxy; raise tableau.connectTimeoutMs if the link is slow'
        : 'the server stalled; raise tableau.idleTimeoutMs for views that take long to compute',
    details: { phase, timeoutMs: ms },
  });
}

type AxiosTransport = {
  request(reqOptions: https.RequestOptions, callback: (res: http.IncomingMessage) => void): http.ClientRequest;
};

/** A thin transport so the connect timeout covers exactly TCP + TLS, not the server's think time. */
function connectTimingTransport(onConnected: () => void): AxiosTransport {
  return {
    request(reqOptions, callback) {
      const isHttp = reqOptions.protocol === 'http:';
      const req = isHttp ? http.request(reqOptions, callback) : https.request(reqOptions, callback);
      req.once('socket', (socket) => {
        if (!socket.connecting) onConnected();
        else socket.once(isHttp ? 'connect' : 'secureConnect', onConnected);
      });
      return req;
    },
  };
}

function buildAxiosRequest(
  request: ExchangeRequest,
  userAgent: string,
  transport: AxiosTransport,
  signal: AbortSignal,
): AxiosRequestConfig {
  return {
    url: request.url,
    method: request.method,
    headers: {
      'User-Agent': userAgent,
      'Accept-Encoding': 'gzip, deflate, br',
      ...request.headers,
    },
    ...(request.body === undefined ? {} : { data: request.body }),
    responseType: 'stream',
    validateStatus: () => true,
    maxRedirects: 0,
    decompress: false,
    maxContentLength: -1,
    maxBodyLength: -1,
    transport,
    signal,
  };
}

/** Counts the raw bytes and re-arms the idle timer per chunk (`onChunk`); a premature end becomes an error. */
function pipeThroughWatchdog(raw: Readable, onChunk: (bytes: number) => void): Transform {
  const watchdog = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onChunk(chunk.length);
      callback(null, chunk);
    },
  });
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
  return watchdog;
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
