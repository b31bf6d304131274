/**
 * Graph API calls (drives, folders, items, createUploadSession, small uploads) through
 * @microsoft/microsoft-graph-client, with our retry policy around each call.
 *
 * The client is built with a custom middleware chain: its AuthenticationHandler (Bearer token only for https hosts
 * in GRAPH_URLS or `customHosts`, so a private Graph endpoint works and nothing else ever gets the token) followed by
 * our transport (caFile). Its RetryHandler is left out on purpose: it retries only 429/503/504, caps Retry-After at
 * 180 s, fetches the token once before its loop (no fresh token after a 401) and would multiply with our retries.
 */
import { randomUUID } from 'node:crypto';
import {
  AuthenticationHandler,
  AuthenticationHandlerOptions,
  Client,
  GraphError,
  ResponseType,
  type AuthenticationProvider,
} from '@microsoft/microsoft-graph-client';
import { z } from 'zod';
import { AbortedError, DestinationError } from '../../shared/errors.js';
import type { Clock, Sleep } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { defaultRetryPolicy, withRetry, type RetryDecision, type RetryPolicy } from '../../shared/retry.js';
import type { GraphAuth } from './graph-auth.js';
import { GraphRequestError, graphErrorFromResponse, graphNetworkError } from './graph-errors.js';
import { createTransportMiddleware, type HttpTransport } from './https-transport.js';

/** The redirect answer has no body worth checking: only its Location is read. */
const anySchema = z.unknown();

export interface GraphCall<T> {
  /** What we are doing, for logs and messages ("create folder 'Reports'"). Never a URL with credentials. */
  readonly operation: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path under graphBaseUrl, starting with `/`, already encoded (`/drives/b!x/root:/Reports:`). */
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Validates the response body. */
  readonly schema: z.ZodType<T>;
  readonly signal?: AbortSignal | undefined;
  /** Statuses that are an answer, not a failure, for this call (e.g. 409 on folder create): thrown without retry. */
  readonly noRetryStatuses?: readonly number[];
}

/** A GET whose answer is a redirect (e.g. `…/content`, which answers 302 with a pre-authenticated URL). */
export type GraphRedirectCall = Omit<GraphCall<unknown>, 'method' | 'body' | 'schema'>;

export interface GraphApi {
  /** Sends `call` with retries (429/503 Retry-After, 5xx/network backoff, one fresh token after a 401). */
  call<T>(call: GraphCall<T>): Promise<T>;
  /**
   * Sends a GET that Graph answers with a redirect and returns the absolute `Location` it points to, without
   * following it (the target is another host that must not get the token). Same retries as `call`.
   * @throws GraphRequestError for an error status; DestinationError `ONEDRIVE_UNEXPECTED_RESPONSE` when Graph
   *   answers without a redirect.
   */
  redirectLocation(call: GraphRedirectCall): Promise<string>;
}

export interface GraphApiDeps {
  readonly auth: GraphAuth;
  readonly transport: HttpTransport;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly random?: (() => number) | undefined;
  readonly retry?: RetryPolicy | undefined;
}

/** Creates the Graph API caller for one app registration and Graph base URL. */
export function createGraphApi(deps: GraphApiDeps): GraphApi {
  const base = new URL(deps.auth.graphBaseUrl);
  const version = base.pathname.replace(/^\/+|\/+$/g, '');
  if (version === '' || base.protocol !== 'https:') {
    throw new DestinationError(
      'ONEDRIVE_CONFIG',
      `graphBaseUrl '${deps.auth.graphBaseUrl}' must be an https URL with the API version`,
      {
        hint: 'use e.g. https://graph.microsoft.com/v1.0, or set cloud: global | usgov | china',
      },
    );
  }
  const policy = deps.retry ?? defaultRetryPolicy;
  // Each request passes its own token provider (AuthenticationHandlerOptions), so a retry after a 401 can skip
  // MSAL's cache; this default is only the handler's fallback.
  const authHandler = new AuthenticationHandler({ getAccessToken: () => deps.auth.getAccessToken() });
  authHandler.setNext(createTransportMiddleware(deps.transport));
  const client = Client.initWithMiddleware({
    middleware: authHandler,
    // The default list has only Microsoft's public Graph hosts; a proxy or simulator host must be added (hostname
    // only: the client compares without the port).
    customHosts: new Set([base.hostname]),
    baseUrl: base.origin,
    defaultVersion: version,
  });

  /** One request through the graph client; `raw` hands back the fetch Response of any status (for redirects). */
  const sendOnce = async (
    call: GraphCall<unknown>,
    forceRefresh: boolean,
    raw: boolean,
  ): Promise<{ body: unknown; clientRequestId: string }> => {
    // The graph client would wrap a CA-file error into an anonymous GraphError; surface it as it is.
    await deps.transport.prepare();
    const clientRequestId = randomUUID();
    // The graph client would wrap a sign-in failure into an anonymous GraphError; keep the original instead.
    let authFailure: Error | undefined;
    const tokenProvider: AuthenticationProvider = {
      getAccessToken: async () => {
        try {
          return await deps.auth.getAccessToken({ forceRefresh });
        } catch (error) {
          authFailure = error instanceof Error ? error : new Error(String(error));
          throw error;
        }
      },
    };
    const request = client
      .api(call.path)
      .header('client-request-id', clientRequestId)
      .middlewareOptions([new AuthenticationHandlerOptions(tokenProvider)]);
    for (const [k, v] of Object.entries(call.headers ?? {})) request.header(k, v);
    if (call.signal !== undefined) request.option('signal', call.signal);
    if (raw) request.responseType(ResponseType.RAW);
    try {
      switch (call.method) {
        case 'GET':
          return { body: await request.get(), clientRequestId };
        case 'POST':
          return { body: await request.post(call.body ?? {}), clientRequestId };
        case 'PUT':
          return { body: await request.put(call.body), clientRequestId };
        case 'DELETE':
          return { body: await request.delete(), clientRequestId };
      }
    } catch (error) {
      if (authFailure !== undefined) throw authFailure;
      throw toGraphRequestError(call, error, deps.clock.now());
    }
  };

  const send = async <T>(call: GraphCall<T>, forceRefresh: boolean): Promise<T> => {
    const { body, clientRequestId } = await sendOnce(call, forceRefresh, false);
    const parsed = call.schema.safeParse(body ?? {});
    if (!parsed.success) {
      throw new DestinationError(
        'ONEDRIVE_UNEXPECTED_RESPONSE',
        `OneDrive ${call.operation}: unexpected response from Graph (${parsed.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
          .join('; ')})`,
        { details: { clientRequestId } },
      );
    }
    return parsed.data;
  };

  const sendForRedirect = async (call: GraphRedirectCall, forceRefresh: boolean): Promise<string> => {
    const { body, clientRequestId } = await sendOnce({ ...call, method: 'GET', schema: anySchema }, forceRefresh, true);
    return readRedirect(call, body, clientRequestId, deps);
  };

  return {
    call: <T>(call: GraphCall<T>): Promise<T> => withGraphRetry(call, (force) => send(call, force), policy, deps),
    redirectLocation: (call) => withGraphRetry(call, (force) => sendForRedirect(call, force), policy, deps),
  };
}

/** The absolute Location of a raw redirect answer; an error status becomes its GraphRequestError. */
async function readRedirect(
  call: GraphRedirectCall,
  body: unknown,
  clientRequestId: string,
  deps: GraphApiDeps,
): Promise<string> {
  if (!(body instanceof Response)) {
    throw new DestinationError('ONEDRIVE_UNEXPECTED_RESPONSE', `OneDrive ${call.operation}: no response from Graph`);
  }
  const location = body.headers.get('location');
  if (body.status >= 300 && body.status < 400 && location !== null && location !== '') {
    await body.body?.cancel();
    return new URL(location, new URL(call.path.replace(/^\/+/, ''), `${deps.auth.graphBaseUrl}/`)).toString();
  }
  const text = Buffer.from(await body.arrayBuffer());
  if (body.status >= 400) {
    throw graphErrorFromResponse(call.operation, body.status, body.headers, text, deps.clock.now());
  }
  throw new DestinationError(
    'ONEDRIVE_UNEXPECTED_RESPONSE',
    `OneDrive ${call.operation}: Graph answered HTTP ${body.status} without a redirect to the content`,
    { details: { clientRequestId, status: body.status } },
  );
}

/** Runs `attempt` with the retry policy: one fresh token after a 401, then Graph's transient failures. */
function withGraphRetry<T>(
  call: Pick<GraphCall<unknown>, 'operation' | 'signal' | 'noRetryStatuses'>,
  attempt: (forceRefresh: boolean) => Promise<T>,
  policy: RetryPolicy,
  deps: GraphApiDeps,
): Promise<T> {
  let refreshed = false;
  let refreshNow = false;
  return withRetry(
    () => {
      const force = refreshNow;
      refreshNow = false;
      return attempt(force);
    },
    (error): RetryDecision => {
      // Sign-in throttled (429/5xx from the token endpoint): MSAL says how long it will refuse to ask again.
      if (error instanceof DestinationError && error.code === 'ONEDRIVE_AUTH_THROTTLED') {
        const wait = error.details['retryAfterMs'];
        return { retry: true, reason: 'sign-in throttled', ...(typeof wait === 'number' ? { delayMs: wait } : {}) };
      }
      if (!(error instanceof GraphRequestError)) return { retry: false };
      if (call.noRetryStatuses?.includes(error.status) === true) return { retry: false };
      if (error.status === 401 && !refreshed) {
        refreshed = true;
        refreshNow = true;
        return { retry: true, delayMs: 0, reason: 'token rejected; getting a fresh one' };
      }
      return decideGraphRetry(error);
    },
    policy,
    {
      sleep: deps.sleep,
      clock: deps.clock,
      ...(deps.random === undefined ? {} : { random: deps.random }),
      ...(call.signal === undefined ? {} : { signal: call.signal }),
      onRetry: ({ attempt: n, delayMs, error, reason }) =>
        logRetry(deps.logger, call.operation, n, delayMs, error, reason),
    },
  );
}

/** Retry policy shared by Graph calls and upload fragments: throttling, 5xx, 408 and network errors. */
export function decideGraphRetry(error: GraphRequestError): RetryDecision {
  if (error.status === 429 || error.status === 503) {
    return error.retryAfterMs === undefined
      ? { retry: true, reason: `throttled (${error.status})` }
      : { retry: true, delayMs: error.retryAfterMs, reason: `throttled (${error.status}), Retry-After` };
  }
  if (error.retryable) return { retry: true, reason: error.status === 0 ? 'network error' : `HTTP ${error.status}` };
  return { retry: false };
}

/** Logs one retry with the ids support needs (request-id, client-request-id); never URLs. */
export function logRetry(
  logger: Logger,
  operation: string,
  attempt: number,
  delayMs: number,
  error: unknown,
  reason: string | undefined,
): void {
  const facts =
    error instanceof GraphRequestError
      ? {
          status: error.status,
          graphCodes: error.graphCodes,
          requestId: error.requestId,
          clientRequestId: error.clientRequestId,
        }
      : {};
  logger.warn(
    { operation, attempt, delayMs, ...facts },
    `OneDrive ${operation}: ${reason ?? 'retrying'}; retry in ${delayMs} ms`,
  );
}

function toGraphRequestError(call: GraphCall<unknown>, error: unknown, now: Date): Error {
  if (call.signal?.aborted === true) return new AbortedError(`OneDrive ${call.operation} aborted`, { cause: error });
  if (error instanceof GraphError && error.statusCode > 0) {
    return graphErrorFromResponse(call.operation, error.statusCode, error.headers, error.body, now);
  }
  if (error instanceof DestinationError) return error;
  // No HTTP status: the transport failed (reset, timeout, TLS) and the client wrapped it.
  return graphNetworkError(
    call.operation,
    error instanceof GraphError ? new Error(String(error.body ?? error.message)) : error,
    call.signal,
  );
}
