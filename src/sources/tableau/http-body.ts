/**
 * Reading the body of an open exchange: content decoding, size caps, text answers held in memory and view exports
 * streamed to disk, and detection of bodies cut short (always a retryable `TABLEAU_TRUNCATED`, never a short file).
 */
import { createWriteStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { AppError, SourceError } from '../../shared/errors.js';
import { PRIVATE_FILE_MODE } from '../../shared/private-files.js';
import type { OpenExchange } from './http-exchange.js';

/** Largest XML answer we accept (a 1000-item views page is a few MB). */
export const MAX_XML_BYTES = 64 * 1024 * 1024;
/** How much of an error body we keep. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * Reads at most `cap` decoded bytes as UTF-8; past it, fails unless `truncate` (then keeps the start). Always
 * finishes the exchange. `what` names the request in errors.
 *
 * @throws SourceError `TABLEAU_BAD_RESPONSE` past the cap; the exchange's own failure (timeout, abort); otherwise
 *   `TABLEAU_TRUNCATED` (retryable) when the body breaks off.
 */
export async function readText(ex: OpenExchange, what: string, cap: number, truncate: boolean): Promise<string> {
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
        throw new SourceError('TABLEAU_BAD_RESPONSE', `${what}: the response is larger than ${cap} bytes`, {
          hint: 'lower tableau.pageSize',
        });
      }
      chunks.push(buf);
    }
  } catch (err) {
    throw streamFailure(
      ex,
      err,
      () =>
        new SourceError('TABLEAU_TRUNCATED', `${what} failed: the response was cut short (${String(err)})`, {
          retryable: true,
          cause: err,
        }),
    );
  } finally {
    ex.body.destroy();
    ex.finish();
  }
  // Tableau sends UTF-8; we never trust a charset guess.
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Streams the decoded body to `file` (created or overwritten), never holding it in memory, and returns the bytes
 * written. Always finishes the exchange.
 *
 * @throws SourceError `TABLEAU_TOO_LARGE` past `maxBytes`; the exchange's own failure (timeout, abort); otherwise
 *   `TABLEAU_TRUNCATED` (retryable) when the body breaks off or is shorter than its Content-Length.
 */
export async function writeBodyToFile(ex: OpenExchange, what: string, file: string, maxBytes: number): Promise<number> {
  let written = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      written += chunk.length;
      if (written > maxBytes) {
        callback(
          new SourceError('TABLEAU_TOO_LARGE', `${what}: the export is larger than the ${maxBytes}-byte cap`, {
            hint: 'add filters to the view request, or raise tableau.maxBytes',
            details: { maxBytes },
          }),
        );
        return;
      }
      callback(null, chunk);
    },
  });
  const expected = announcedLength(ex);
  try {
    await pipeline([
      ex.body,
      ...decoders(ex.headers),
      cap,
      createWriteStream(file, { flags: 'w', mode: PRIVATE_FILE_MODE }),
    ]);
  } catch (err) {
    throw streamFailure(
      ex,
      err,
      () =>
        new SourceError(
          'TABLEAU_TRUNCATED',
          `${what} failed: the download was cut after ${ex.received()} bytes${expected === undefined ? '' : ` of ${expected}`} (${err instanceof Error ? err.message : String(err)})`,
          { retryable: true, cause: err, details: { received: ex.received(), expected } },
        ),
    );
  } finally {
    ex.finish();
  }
  return written;
}

/**
 * Throws `TABLEAU_TRUNCATED` (retryable) when fewer (or more) raw bytes arrived than the Content-Length announced.
 * Call it once the body has been read.
 */
export function checkAnnouncedLength(ex: OpenExchange, what: string): void {
  const expected = announcedLength(ex);
  if (expected !== undefined && Number.isFinite(expected) && ex.received() !== expected) {
    throw new SourceError(
      'TABLEAU_TRUNCATED',
      `${what} failed: received ${ex.received()} bytes but the server announced ${expected}`,
      { retryable: true, details: { received: ex.received(), expected } },
    );
  }
}

function announcedLength(ex: OpenExchange): number | undefined {
  return ex.headers['content-length'] === undefined ? undefined : Number(ex.headers['content-length']);
}

/** The error a broken body read stands for: our own abort first, then an error we raised, else `truncated()`. */
function streamFailure(ex: OpenExchange, err: unknown, truncated: () => SourceError): AppError {
  const failure = ex.failure();
  if (failure !== undefined) return failure;
  if (err instanceof AppError) return err;
  return truncated();
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
