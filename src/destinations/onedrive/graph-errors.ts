/**
 * Graph failures as one error type with the facts the retry and lock policies need (status, the innerError code
 * chain, Retry-After, request ids), and the user-facing messages for the statuses people actually hit.
 */
import { z } from 'zod';
import { AbortedError, DestinationError, type AppErrorOptions, type ErrorCode } from '../../shared/errors.js';
import { classifyTransportFailure } from '../../shared/transport-errors.js';
import { isRetryableStatus, parseRetryAfter } from '../../shared/retry.js';

interface InnerError {
  code?: string | undefined;
  message?: string | undefined;
  'request-id'?: string | undefined;
  'client-request-id'?: string | undefined;
  innerError?: InnerError | undefined;
}

const innerErrorSchema: z.ZodType<InnerError> = z.lazy(() =>
  z
    .object({
      code: z.string().optional(),
      message: z.string().optional(),
      'request-id': z.string().optional(),
      'client-request-id': z.string().optional(),
      innerError: innerErrorSchema.optional(),
      innererror: innerErrorSchema.optional(),
    })
    .transform((e) => ({ ...e, innerError: e.innerError ?? e.innererror })),
);

/** `{"error":{"code","message","innerError":{...}}}` as Graph and upload URLs return it. */
const graphErrorBodySchema = z.object({ error: innerErrorSchema });

/** A failed Graph or uploadUrl request. `status` is 0 for network failures (reset, timeout, DNS, TLS). */
export class GraphRequestError extends DestinationError {
  readonly status: number;
  /** Error codes from the outermost to the innermost (`notAllowed`, `resourceLocked`). */
  readonly graphCodes: readonly string[];
  readonly retryAfterMs: number | undefined;
  readonly requestId: string | undefined;
  readonly clientRequestId: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    facts: {
      status: number;
      graphCodes: readonly string[];
      retryAfterMs: number | undefined;
      requestId: string | undefined;
      clientRequestId: string | undefined;
    },
    options: AppErrorOptions = {},
  ) {
    super(code, message, {
      ...options,
      details: {
        status: facts.status,
        graphCodes: facts.graphCodes,
        requestId: facts.requestId,
        clientRequestId: facts.clientRequestId,
        ...options.details,
      },
    });
    this.status = facts.status;
    this.graphCodes = facts.graphCodes;
    this.retryAfterMs = facts.retryAfterMs;
    this.requestId = facts.requestId;
    this.clientRequestId = facts.clientRequestId;
  }

  /** True when any code in the innerError chain equals `code` (case-insensitive). */
  hasGraphCode(code: string): boolean {
    const wanted = code.toLowerCase();
    return this.graphCodes.some((c) => c.toLowerCase() === wanted);
  }
}

/** Header lookup that accepts a fetch `Headers` or Node's lower-cased header record. */
export type HeaderSource = Headers | Readonly<Record<string, string | string[] | undefined>> | undefined;

function header(headers: HeaderSource, name: string): string | undefined {
  if (headers === undefined) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Parses a Graph error body (string, Buffer or object) into its code chain, message and request ids. */
export function parseGraphErrorBody(body: unknown): {
  codes: string[];
  message: string | undefined;
  requestId: string | undefined;
  clientRequestId: string | undefined;
} {
  let value: unknown = body;
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return { codes: [], message: undefined, requestId: undefined, clientRequestId: undefined };
    }
  }
  // The graph client stringifies only the inner `error` object; accept both shapes.
  const parsed = graphErrorBodySchema.safeParse(value);
  const root = parsed.success ? parsed.data.error : innerErrorSchema.safeParse(value).data;
  const codes: string[] = [];
  let requestId: string | undefined;
  let clientRequestId: string | undefined;
  for (let e: InnerError | undefined = root, depth = 0; e !== undefined && depth < 10; e = e.innerError, depth++) {
    if (e.code !== undefined) codes.push(e.code);
    requestId ??= e['request-id'];
    clientRequestId ??= e['client-request-id'];
  }
  return { codes, message: root?.message, requestId, clientRequestId };
}

const PERMISSION_HINT =
  'grant the app registration the application permission Files.ReadWrite.All (OneDrive) or Sites.ReadWrite.All ' +
  '(SharePoint libraries; upload sessions need it) with admin consent; with Sites.Selected, grant the site to the app';

/**
 * Builds the error for an HTTP response with status ≥ 400. `operation` says what we tried ("create folder
 * 'Reports'"); it must never contain an upload URL or a token.
 */
export function graphErrorFromResponse(
  operation: string,
  status: number,
  headers: HeaderSource,
  body: unknown,
  now: Date,
): GraphRequestError {
  const parsed = parseGraphErrorBody(body);
  const requestId = header(headers, 'request-id') ?? parsed.requestId;
  const clientRequestId = header(headers, 'client-request-id') ?? parsed.clientRequestId;
  const retryAfterMs = parseRetryAfter(header(headers, 'retry-after'), now);
  const codeChain = parsed.codes.length > 0 ? ` ${parsed.codes.join('/')}` : '';
  const graphMessage = parsed.message === undefined ? '' : `: ${parsed.message}`;
  const ids = requestId === undefined ? '' : ` (request-id ${requestId})`;
  const base = `OneDrive ${operation} failed: HTTP ${status}${codeChain}${graphMessage}${ids}`;
  const facts = { status, graphCodes: parsed.codes, retryAfterMs, requestId, clientRequestId };
  const [code, hint] = describeStatus(status);
  return new GraphRequestError(code, base, facts, {
    // 507 (quota) and 501/505 will not change by retrying.
    retryable: isRetryableStatus(status) && status !== 507 && status !== 501 && status !== 505,
    ...(hint === undefined ? {} : { hint }),
  });
}

function describeStatus(status: number): [ErrorCode, string | undefined] {
  switch (status) {
    case 401:
      return [
        'ONEDRIVE_UNAUTHORIZED',
        'check tenantId, clientId and the client secret or certificate of the app registration',
      ];
    case 403:
      return ['ONEDRIVE_FORBIDDEN', PERMISSION_HINT];
    case 404:
      return [
        'ONEDRIVE_NOT_FOUND',
        'check the drive (user UPN, driveId or site) and the path in the destination config',
      ];
    case 409:
      return ['ONEDRIVE_CONFLICT', undefined];
    case 416:
      return ['ONEDRIVE_RANGE_NOT_SATISFIABLE', undefined];
    case 423:
      return ['ONEDRIVE_LOCKED', 'close the workbook in Excel, or set onLocked.then: side-by-side'];
    case 429:
    case 503:
      return ['ONEDRIVE_THROTTLED', 'Microsoft Graph is throttling this app; run less often or at another time'];
    case 507:
      return [
        'ONEDRIVE_QUOTA_EXCEEDED',
        'the drive is out of storage: free space, trim version history, or raise the quota',
      ];
    default:
      return [status >= 500 ? 'ONEDRIVE_SERVER_ERROR' : 'ONEDRIVE_REQUEST_FAILED', undefined];
  }
}

/**
 * Builds the error for a request that got no HTTP response (reset, timeout, TLS, DNS), or an abort. Only known
 * transient network failures are retryable; a refused certificate fails at once with the caFile hint, and anything
 * else (bad URL, unknown host, protocol error) fails at once too.
 */
export function graphNetworkError(operation: string, cause: unknown, signal?: AbortSignal): Error {
  if (signal?.aborted === true) return new AbortedError(`OneDrive ${operation} aborted`, { cause });
  const reason = cause instanceof Error ? cause.message : String(cause);
  const kind = classifyTransportFailure(cause);
  const hint =
    kind === 'tls'
      ? "the TLS certificate is not trusted or not valid: behind a TLS-inspecting proxy or with a private Graph endpoint, set onedrive.caFile to that CA (PEM); also check this machine's clock"
      : kind === 'permanent'
        ? 'check graphBaseUrl / cloud, DNS and any proxy between this machine and Microsoft Graph'
        : undefined;
  return new GraphRequestError(
    'ONEDRIVE_NETWORK',
    `OneDrive ${operation} failed: no response (${reason})`,
    { status: 0, graphCodes: [], retryAfterMs: undefined, requestId: undefined, clientRequestId: undefined },
    { retryable: kind === 'transient', cause, ...(hint === undefined ? {} : { hint }) },
  );
}
