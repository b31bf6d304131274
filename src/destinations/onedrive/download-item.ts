/**
 * Downloads a file's content from OneDrive to local disk, streamed.
 *
 * `GET /drives/{d}/items/{id}/content` answers 302 with a short-lived, pre-authenticated URL on another host. That
 * URL is followed by hand, without the Authorization header: the bearer token is for Graph only, and the download
 * URL carries its own credential (so it is a secret for logs). The body goes straight to a file (memory is one
 * socket buffer, whatever the size), counted against a byte cap. Each attempt asks Graph for a fresh URL, because a
 * retried one may have expired or been used; a failed attempt leaves no partial file behind.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, DestinationError } from '../../shared/errors.js';
import { PRIVATE_FILE_MODE } from '../../shared/private-files.js';
import type { Clock, Sleep } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import { withRetry, type RetryDecision, type RetryPolicy } from '../../shared/retry.js';
import { fileTooLargeError } from '../update-mode-errors.js';
import { decideGraphRetry, logRetry, type GraphApi } from './graph-api.js';
import { GraphRequestError, graphErrorFromResponse, graphNetworkError } from './graph-errors.js';
import type { HttpStreamResponse, HttpTransport } from './https-transport.js';

export interface ItemDownloadRequest {
  readonly driveId: string;
  readonly itemId: string;
  /** For messages: `drive/path`. */
  readonly label: string;
  /** Where the bytes go (created or truncated). */
  readonly destPath: string;
  /** Refuse more bytes than this (DESTINATION_TOO_LARGE), even when the file grew after its size was read. */
  readonly maxBytes: number;
  readonly signal: AbortSignal;
}

export interface ItemDownloadDeps {
  readonly graph: GraphApi;
  readonly transport: HttpTransport;
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly random?: (() => number) | undefined;
  readonly retry: RetryPolicy;
}

/** Statuses of the download host that mean "this URL is no good any more": ask Graph for a new one. */
const EXPIRED_URL_STATUSES = new Set([401, 403, 404, 410]);

/**
 * Downloads the item's current content to `req.destPath` and returns the number of bytes written, or undefined when
 * the item no longer exists (Graph answers 404: deleted or moved since it was looked up). Transient failures (network,
 * 408/429/5xx, an expired download URL) are retried with the policy.
 * @throws DestinationError `DESTINATION_TOO_LARGE` past `maxBytes`; GraphRequestError for other Graph failures;
 *   AbortedError when `req.signal` aborts. The destination file is removed on every failure.
 */
export async function downloadItemContent(
  req: ItemDownloadRequest,
  deps: ItemDownloadDeps,
): Promise<number | undefined> {
  const operation = `download '${req.label}'`;
  const attempt = async (): Promise<number | undefined> => {
    try {
      const location = await deps.graph.redirectLocation({
        operation,
        path: `/drives/${encodeURIComponent(req.driveId)}/items/${encodeURIComponent(req.itemId)}/content`,
        signal: req.signal,
        noRetryStatuses: [404],
      });
      return await fetchToFile(location, req, deps);
    } catch (error) {
      await rm(req.destPath, { force: true });
      // Graph itself (not the download host) says the item is gone: deleted or moved since it was looked up.
      if (error instanceof GraphRequestError && error.status === 404 && !error.retryable) {
        deps.logger.info({ target: req.label }, 'the file was deleted or moved before it could be downloaded');
        return undefined;
      }
      throw error;
    }
  };
  return withRetry(
    attempt,
    (error): RetryDecision => (error instanceof GraphRequestError ? decideGraphRetry(error) : { retry: false }),
    deps.retry,
    {
      sleep: deps.sleep,
      clock: deps.clock,
      signal: req.signal,
      ...(deps.random === undefined ? {} : { random: deps.random }),
      onRetry: ({ attempt: n, delayMs, error, reason }) => logRetry(deps.logger, operation, n, delayMs, error, reason),
    },
  );
}

/** GETs the pre-authenticated `location` (no Authorization header) and streams its body to the destination file. */
async function fetchToFile(location: string, req: ItemDownloadRequest, deps: ItemDownloadDeps): Promise<number> {
  // The URL embeds a credential: from now on it is a secret for every log line and error.
  deps.redactor.addSecret(location, { transient: true });
  const operation = `download the content of '${req.label}'`;
  if (new URL(location).protocol !== 'https:') {
    throw new DestinationError(
      'ONEDRIVE_UNEXPECTED_RESPONSE',
      `OneDrive ${operation}: Graph redirected to a download URL that is not https; refusing to follow it`,
    );
  }
  let res: HttpStreamResponse;
  try {
    // Deliberately no Authorization header: the bearer token never leaves Graph's host.
    res = await deps.transport.stream({ method: 'GET', url: location, signal: req.signal });
  } catch (error) {
    throw graphNetworkError(operation, error, req.signal);
  }
  if (res.status !== 200) throw await downloadHostError(operation, res, deps.clock.now());
  const declared = Number(headerValue(res, 'content-length') ?? Number.NaN);
  if (Number.isInteger(declared) && declared > req.maxBytes) {
    res.body.destroy();
    throw fileTooLargeError(req.label, declared, req.maxBytes);
  }
  let received = 0;
  const capped = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > req.maxBytes)
        done(fileTooLargeError(req.label, received, req.maxBytes, { whileDownloading: true }));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(res.body, capped, createWriteStream(req.destPath, { mode: PRIVATE_FILE_MODE }), {
      signal: req.signal,
    });
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw graphNetworkError(operation, error, req.signal);
  }
  if (Number.isInteger(declared) && received !== declared) {
    // The connection ended cleanly but early (a proxy, a server restart): never hand on a short file.
    throw new GraphRequestError(
      'ONEDRIVE_NETWORK',
      `OneDrive ${operation} failed: the download ended after ${received} of ${declared} bytes`,
      { status: 0, graphCodes: [], retryAfterMs: undefined, requestId: undefined, clientRequestId: undefined },
      { retryable: true },
    );
  }
  return received;
}

/** The error for a non-200 answer of the download host; an expired or used URL is retried with a fresh one. */
async function downloadHostError(operation: string, res: HttpStreamResponse, now: Date): Promise<GraphRequestError> {
  const body = await readSmallBody(res, 64 * 1024);
  const error = graphErrorFromResponse(operation, res.status, res.headers, body, now);
  if (!EXPIRED_URL_STATUSES.has(res.status)) return error;
  return new GraphRequestError(
    error.code,
    `${error.message} (the download URL expired or was already used)`,
    {
      status: error.status,
      graphCodes: error.graphCodes,
      retryAfterMs: error.retryAfterMs,
      requestId: error.requestId,
      clientRequestId: error.clientRequestId,
    },
    { retryable: true },
  );
}

/** Reads at most `limit` bytes of an error body, then drops the rest of the connection. */
async function readSmallBody(res: HttpStreamResponse, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      chunks.push(buf);
      total += buf.length;
      if (total >= limit) break;
    }
  } catch {
    // An error body cut short is still worth its first bytes.
  } finally {
    res.body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

function headerValue(res: HttpStreamResponse, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
