/** Classification of network failures that got no HTTP response, shared by the Tableau and Graph clients. */

/**
 * What a failure below HTTP (no response) means for a retry:
 * - `tls`: the server certificate was refused (untrusted CA, self-signed, expired, not yet valid, wrong host name);
 *   retrying cannot help, the fix is the caFile (or the server's certificate);
 * - `transient`: a network blip worth retrying (reset, timeout, refused, DNS lookup to retry, unreachable network);
 * - `permanent`: anything else (bad URL, unknown host, protocol errors, unknown codes): fails at once.
 */
export type TransportFailureKind = 'tls' | 'transient' | 'permanent';

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ECONNABORTED',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'EPIPE',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
]);

const TLS_CODE =
  /^(CERT_|ERR_TLS_CERT|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_(GET|VERIFY|DECRYPT)_|HOSTNAME_MISMATCH$|INVALID_CA$|PATH_LENGTH_EXCEEDED$|INVALID_PURPOSE$)/;
// Some clients (the Graph client) re-wrap the error and keep only its message: Node's messages name the cause.
const TLS_MESSAGE = /certificate|self[- ]signed|unable to verify|altnames/i;
const CODE_IN_MESSAGE = /\b(E[A-Z_]{3,})\b/g;
const TRANSIENT_MESSAGE = /socket hang up|connection closed before|aborted by the server/i;

/** The `code` of `err` or of an error in its `cause` chain (e.g. `ECONNRESET`, `CERT_HAS_EXPIRED`). */
export function transportErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return undefined;
}

/**
 * Classifies a failure that got no HTTP response. Reads the error `code` along the `cause` chain first, then, for
 * errors re-wrapped with only a message, the codes and phrases Node puts in its messages.
 */
export function classifyTransportFailure(
  err: unknown,
  code: string | undefined = transportErrorCode(err),
): TransportFailureKind {
  if (code !== undefined) {
    if (TLS_CODE.test(code)) return 'tls';
    if (TRANSIENT_CODES.has(code)) return 'transient';
  }
  const messages: string[] = [];
  for (
    let e: unknown = err, depth = 0;
    depth < 5 && e !== undefined && e !== null;
    e = e instanceof Error ? e.cause : undefined, depth++
  ) {
    messages.push(e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e));
  }
  const text = messages.join(' | ');
  if (TLS_MESSAGE.test(text)) return 'tls';
  for (const m of text.matchAll(CODE_IN_MESSAGE)) {
    const found = m[1] ?? '';
    if (TRANSIENT_CODES.has(found)) return 'transient';
  }
  if (TRANSIENT_MESSAGE.test(text)) return 'transient';
  return 'permanent';
}
