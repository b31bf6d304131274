/**
 * Resumable upload of one file through a Graph upload session.
 *
 * Written by hand instead of the graph client's LargeFileUploadTask, which cannot meet our rules:
 * - its slice PUTs are never retried (RetryHandler skips octet-stream bodies), and a failed slice surfaces as the
 *   raw JSON body or a stream, without status or Retry-After, so 429/503 cannot be honoured and 416 cannot be told
 *   from 404;
 * - StreamUpload can only re-send the last slice, so resuming from `nextExpectedRanges` after a dropped fragment
 *   that the server did store is impossible; FileUpload needs the whole file in memory;
 * - OneDriveLargeFileUploadTask defaults to `/me/drive` (refused app-only) and to conflictBehavior `rename`
 *   (forks the file and breaks links), and does not restart on an expired session or abort with a DELETE.
 * Here: fragments are read from disk one at a time at any offset (memory = one chunk), each fragment is retried,
 * every failure is followed by a `GET uploadUrl` to learn what the server really has, 404/401 start a new session
 * (bounded), and an abort or a final failure deletes the session so the next run does not hit a stale-name 409.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { AbortedError, DestinationError } from '../../shared/errors.js';
import type { Clock, Sleep } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import { backoffDelay, type RetryPolicy } from '../../shared/retry.js';
import { driveItemSchema, uploadSessionSchema, uploadStatusSchema, type DriveItem } from './drive-item.js';
import type { GraphApi } from './graph-api.js';
import { logRetry } from './graph-api.js';
import { GraphRequestError, graphErrorFromResponse, graphNetworkError } from './graph-errors.js';
import type { HttpResponse, HttpTransport } from './https-transport.js';

/** Every fragment but the last must be a multiple of this (320 KiB). */
export const UPLOAD_FRAGMENT_UNIT = 327_680;
/** Graph refuses requests of 60 MiB or more. */
export const MAX_FRAGMENT_BYTES = 60 * 1024 * 1024;
/** How many sessions one upload may start (first one plus restarts after 404/401/409). */
const MAX_SESSIONS = 4;

export interface SessionUploadRequest {
  readonly driveId: string;
  readonly parentId: string;
  readonly name: string;
  /** For messages: `drive/path`. */
  readonly label: string;
  readonly filePath: string;
  readonly fileSize: number;
  readonly chunkBytes: number;
  readonly signal: AbortSignal;
  /** Create the session only if the item still has this eTag (`If-Match`): otherwise Graph answers 412. */
  readonly ifMatch?: string | undefined;
  /** Create only: conflictBehavior `fail`, so an existing file gives 409 instead of being replaced. */
  readonly ifAbsent?: boolean | undefined;
  /** Told the bytes the session has accepted so far, out of `fileSize`, after every fragment. */
  readonly onProgress?: ((bytesSent: number, bytesTotal: number) => void) | undefined;
}

export interface SessionUploadDeps {
  readonly graph: GraphApi;
  readonly transport: HttpTransport;
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly random?: (() => number) | undefined;
  readonly retry: RetryPolicy;
}

/** Rounds a requested chunk size down to a multiple of 320 KiB, at least one unit and below 60 MiB. */
export function alignChunkSize(requested: number): number {
  const maxUnits = Math.floor((MAX_FRAGMENT_BYTES - 1) / UPLOAD_FRAGMENT_UNIT);
  const units = Math.min(maxUnits, Math.max(1, Math.floor(requested / UPLOAD_FRAGMENT_UNIT)));
  return units * UPLOAD_FRAGMENT_UNIT;
}

/**
 * Uploads `filePath` to `parentId/name` (conflictBehavior replace, or fail with `ifAbsent`) and returns the committed
 * driveItem. Throws GraphRequestError (423 locked, 507 quota, 403, 412 when `ifMatch` no longer matches, 409 with
 * `ifAbsent` when the name is taken, ...), AbortedError, or DestinationError `ONEDRIVE_UPLOAD_FAILED` when retries
 * run out. The previous version stays current until the last byte is accepted.
 */
export async function uploadFileInSession(req: SessionUploadRequest, deps: SessionUploadDeps): Promise<DriveItem> {
  const chunkBytes = alignChunkSize(req.chunkBytes);
  const file = await open(req.filePath, 'r');
  try {
    for (let sessionNo = 1; ; sessionNo++) {
      let outcome: SessionOutcome;
      let uploadUrl: string | undefined;
      try {
        uploadUrl = await createSession(req, deps);
      } catch (error) {
        // 409 although we asked for replace: a leftover temp upload of an earlier run; it clears, so back off. Under
        // ifAbsent it is the answer itself: a file is there.
        if (!(error instanceof GraphRequestError && error.status === 409) || req.ifAbsent === true) throw error;
      }
      if (uploadUrl === undefined) {
        outcome = {
          kind: 'restart',
          reason: 'name conflict when creating the session (409)',
          error: undefined,
          delay: true,
        };
      } else {
        try {
          outcome = await sendFragments(uploadUrl, file, chunkBytes, req, deps);
        } catch (error) {
          await deleteSession(uploadUrl, req, deps);
          throw error;
        }
        if (outcome.kind === 'done') return outcome.item;
        // The session is unusable (expired, its token expired, or a name clash at commit): start over, bounded.
        await deleteSession(uploadUrl, req, deps);
      }
      if (sessionNo >= MAX_SESSIONS) {
        throw new DestinationError(
          'ONEDRIVE_UPLOAD_FAILED',
          `upload of '${req.label}' failed: ${MAX_SESSIONS} upload sessions ended early (last: ${outcome.reason})`,
          {
            retryable: true,
            cause: outcome.error,
            hint: 'run the export again; if it keeps failing, check the service health of SharePoint/OneDrive',
          },
        );
      }
      deps.logger.warn(
        { target: req.label, sessionNo, reason: outcome.reason },
        `upload session ended early (${outcome.reason}); starting a new one`,
      );
      if (outcome.delay) await deps.sleep(backoffDelay(sessionNo, deps.retry, deps.random), req.signal);
    }
  } finally {
    await file.close();
  }
}

type SessionOutcome =
  | { readonly kind: 'done'; readonly item: DriveItem }
  | { readonly kind: 'restart'; readonly reason: string; readonly error: unknown; readonly delay: boolean };

async function createSession(req: SessionUploadRequest, deps: SessionUploadDeps): Promise<string> {
  const session = await deps.graph.call({
    operation: `create upload session for '${req.label}'`,
    method: 'POST',
    path: `/drives/${encodeURIComponent(req.driveId)}/items/${encodeURIComponent(req.parentId)}:/${encodeURIComponent(req.name)}:/createUploadSession`,
    // fileSize lets Graph refuse an over-quota upload (507) before any byte is sent.
    body: {
      item: {
        '@microsoft.graph.conflictBehavior': req.ifAbsent === true ? 'fail' : 'replace',
        name: req.name,
        fileSize: req.fileSize,
      },
    },
    // Graph documents If-Match as a request header of createUploadSession (not a body property): it is checked when
    // the session is created, so a teammate's save before that point gives 412 and no byte is sent.
    ...(req.ifMatch === undefined ? {} : { headers: { 'If-Match': req.ifMatch } }),
    schema: uploadSessionSchema,
    signal: req.signal,
    noRetryStatuses: [409, 412],
  });
  // The URL embeds a credential: from now on it is a secret for every log line and error.
  deps.redactor.addSecret(session.uploadUrl, { transient: true });
  return session.uploadUrl;
}

async function sendFragments(
  uploadUrl: string,
  file: FileHandle,
  chunkBytes: number,
  req: SessionUploadRequest,
  deps: SessionUploadDeps,
): Promise<SessionOutcome> {
  const buffer = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(1, req.fileSize)));
  let offset = 0;
  // The current failure streak: attempts and when it began. The time budget (maxTotalMs) is per streak, so a large
  // upload that takes longer than the budget in total still gets its retries at a late transient error.
  let failures = 0;
  let streakStarted: number | undefined;
  for (;;) {
    if (req.signal.aborted) throw new AbortedError(`upload of '${req.label}' aborted`, { cause: req.signal.reason });
    const length = Math.min(chunkBytes, req.fileSize - offset);
    const { bytesRead } = await file.read(buffer, 0, length, offset);
    if (bytesRead !== length) {
      throw new DestinationError(
        'ONEDRIVE_FILE_CHANGED',
        `'${req.filePath}' changed while uploading to '${req.label}'`,
      );
    }
    const end = offset + length - 1;
    const operation = `upload bytes ${offset}-${end}/${req.fileSize} of '${req.label}'`;
    let failure: unknown;
    try {
      const res = await deps.transport.request({
        method: 'PUT',
        url: uploadUrl,
        // No Authorization header: the uploadUrl carries its own credential and Graph answers 401 to a bearer token.
        headers: {
          'content-range': `bytes ${offset}-${end}/${req.fileSize}`,
          'content-type': 'application/octet-stream',
        },
        body: buffer.subarray(0, length),
        signal: req.signal,
      });
      if (res.status === 200 || res.status === 201) {
        const item = parseItem(res, req);
        req.onProgress?.(req.fileSize, req.fileSize);
        return { kind: 'done', item };
      }
      if (res.status === 202) {
        const next = nextOffset(res.body, end + 1, req);
        if (next > offset) {
          offset = next;
          req.onProgress?.(offset, req.fileSize);
          failures = 0;
          streakStarted = undefined;
          deps.logger.debug({ target: req.label, offset, total: req.fileSize }, 'upload fragment accepted');
          continue;
        }
        // Accepted, yet the session still expects the same (or an earlier) byte: no progress. Counted as a failure
        // so a session stuck on e.g. ["0-"] ends after maxAttempts instead of spinning forever.
        failure = new GraphRequestError(
          'ONEDRIVE_UPLOAD_NO_PROGRESS',
          `OneDrive ${operation}: the upload session accepted the bytes but still expects byte ${next}`,
          {
            status: 202,
            graphCodes: [],
            retryAfterMs: undefined,
            requestId: headerValue(res, 'request-id'),
            clientRequestId: undefined,
          },
          { retryable: true },
        );
      } else {
        failure = graphErrorFromResponse(operation, res.status, res.headers, res.body, deps.clock.now());
      }
    } catch (error) {
      if (error instanceof DestinationError) throw error;
      failure = graphNetworkError(operation, error, req.signal);
    }
    if (!(failure instanceof GraphRequestError)) throw failure;
    // Under ifAbsent, a 409 at commit means a file took the name meanwhile: an answer, not a reason to start over.
    if (failure.status === 409 && req.ifAbsent === true) throw failure;
    const restart = restartReason(failure);
    if (restart !== undefined)
      return { kind: 'restart', reason: restart, error: failure, delay: failure.status === 409 };
    // 416 means our idea of the offset is wrong; the rest (network, 408, 429, 5xx) may or may not have stored bytes.
    if (!(failure.status === 416 || failure.retryable)) throw failure;
    failures++;
    const now = deps.clock.now().getTime();
    streakStarted ??= now;
    const delayMs =
      failure.status === 416 ? 0 : (failure.retryAfterMs ?? backoffDelay(failures, deps.retry, deps.random));
    const elapsed = now - streakStarted;
    if (failures >= deps.retry.maxAttempts || elapsed + delayMs > deps.retry.maxTotalMs) {
      throw new DestinationError(
        'ONEDRIVE_UPLOAD_FAILED',
        `upload of '${req.label}' failed after ${failures} attempts: ${failure.message}`,
        {
          retryable: true,
          cause: failure,
          ...(failure.hint === undefined ? {} : { hint: failure.hint }),
        },
      );
    }
    logRetry(
      deps.logger,
      `upload of '${req.label}'`,
      failures,
      delayMs,
      failure,
      `fragment ${offset}-${end} failed; asking the session what it has`,
    );
    await deps.sleep(Math.min(delayMs, deps.retry.maxRetryAfterMs ?? delayMs), req.signal);
    // Never assume a failed fragment was lost: it may have been stored before the connection dropped.
    const status = await getSessionStatus(uploadUrl, req, deps);
    if (status.kind === 'restart') return status;
    if (status.offset > offset) {
      // The failed fragment was stored after all: that is progress, so the streak ends here.
      failures = 0;
      streakStarted = undefined;
    }
    offset = status.offset;
  }
}

function headerValue(res: HttpResponse, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function restartReason(error: GraphRequestError): string | undefined {
  if (error.status === 404) return 'session expired or not found (404)';
  if (error.status === 401) return 'session credential expired (401)';
  // 409 under replace: a leftover temp file or a concurrent upload; back off and try a fresh session, never rename.
  if (error.status === 409) return 'name conflict at commit (409)';
  return undefined;
}

async function getSessionStatus(
  uploadUrl: string,
  req: SessionUploadRequest,
  deps: SessionUploadDeps,
): Promise<{ kind: 'resume'; offset: number } | Extract<SessionOutcome, { kind: 'restart' }>> {
  const operation = `read upload session status of '${req.label}'`;
  for (let attempt = 1; ; attempt++) {
    let failure: GraphRequestError | Error;
    try {
      const res = await deps.transport.request({ method: 'GET', url: uploadUrl, signal: req.signal });
      if (res.status === 200) {
        const parsed = uploadStatusSchema.safeParse(parseJson(res.body));
        const first = parsed.success ? parsed.data.nextExpectedRanges[0] : undefined;
        const start = first === undefined ? Number.NaN : Number(first.split('-')[0]);
        if (!Number.isInteger(start) || start < 0 || start >= req.fileSize) {
          return {
            kind: 'restart',
            reason: 'session status has no usable nextExpectedRanges',
            error: undefined,
            delay: false,
          };
        }
        return { kind: 'resume', offset: start };
      }
      failure = graphErrorFromResponse(operation, res.status, res.headers, res.body, deps.clock.now());
    } catch (error) {
      failure = graphNetworkError(operation, error, req.signal);
    }
    if (!(failure instanceof GraphRequestError)) throw failure;
    const restart = restartReason(failure);
    if (restart !== undefined) return { kind: 'restart', reason: restart, error: failure, delay: false };
    if (!failure.retryable || attempt >= deps.retry.maxAttempts) throw failure;
    const delayMs = failure.retryAfterMs ?? backoffDelay(attempt, deps.retry, deps.random);
    logRetry(deps.logger, operation, attempt, delayMs, failure, undefined);
    await deps.sleep(Math.min(delayMs, deps.retry.maxRetryAfterMs ?? delayMs), req.signal);
  }
}

/** Cancels the session (best effort, also after an abort): the temp upload would otherwise block the name for a while. */
async function deleteSession(uploadUrl: string, req: SessionUploadRequest, deps: SessionUploadDeps): Promise<void> {
  try {
    const res = await deps.transport.request({ method: 'DELETE', url: uploadUrl, timeoutMs: 15_000 });
    if (res.status >= 400 && res.status !== 404) {
      deps.logger.warn(
        { target: req.label, status: res.status },
        'could not cancel the upload session; it expires on its own',
      );
    }
  } catch (error) {
    deps.logger.warn({ target: req.label, err: error }, 'could not cancel the upload session; it expires on its own');
  }
}

function nextOffset(body: Buffer, fallback: number, req: SessionUploadRequest): number {
  const parsed = uploadStatusSchema.safeParse(parseJson(body));
  const first = parsed.success ? parsed.data.nextExpectedRanges[0] : undefined;
  const start = first === undefined ? fallback : Number(first.split('-')[0]);
  if (!Number.isInteger(start) || start < 0 || start >= req.fileSize) return fallback;
  return start;
}

function parseItem(res: HttpResponse, req: SessionUploadRequest): DriveItem {
  const parsed = driveItemSchema.safeParse(parseJson(res.body));
  if (!parsed.success) {
    throw new DestinationError(
      'ONEDRIVE_UNEXPECTED_RESPONSE',
      `upload of '${req.label}' finished but Graph returned no driveItem`,
    );
  }
  return parsed.data;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
