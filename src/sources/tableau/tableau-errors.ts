/**
 * Turns Tableau HTTP answers and transport failures into SourceErrors with stable codes, a retryable flag decided
 * here (never by parsing messages later) and a hint that tells the user what to change.
 */
import { AppError, AbortedError, SourceError, type ErrorCode } from '../../shared/errors.js';
import { classifyTransportFailure } from '../../shared/transport-errors.js';
import { parseRetryAfter } from '../../shared/retry.js';
import { parseTableauErrorBody, snippet } from './tableau-xml.js';

export interface ErrorContext {
  /** What we were doing, e.g. `sign in to site 'sales' on https://tableau.example.com`. */
  readonly what: string;
  /** Site contentUrl, for messages. */
  readonly site: string;
  /** How to fix bad credentials for the configured sign-in method. */
  readonly credentialsHint: string;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly text: string;
}

const VIEWS_HINT = (site: string): string =>
  `run \`tableau-export views --site ${site === '' ? '""' : site}\` to list what exists`;

/**
 * Maps a non-2xx answer to a SourceError. Keeps the Tableau error code, summary and detail, or — for non-XML bodies
 * such as proxy pages or HTML 429 pages — a truncated copy of the body, in the message and `details`.
 */
export function errorFromResponse(answer: HttpAnswer, ctx: ErrorContext, now: Date): SourceError {
  const { status } = answer;
  const tableau = parseTableauErrorBody(answer.text);
  const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], now);
  const described = tableau
    ? `Tableau error ${tableau.code}${tableau.summary === '' ? '' : ` ${tableau.summary}`}${tableau.detail === '' ? '' : `: ${tableau.detail}`}`
    : `non-XML body: ${snippet(answer.text)}`;
  const message = `${ctx.what} failed: HTTP ${status}; ${described}`;
  const details: Record<string, unknown> = {
    status,
    ...(tableau
      ? { tableauCode: tableau.code, summary: tableau.summary, detail: tableau.detail }
      : { body: snippet(answer.text, 2000) }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
  const make = (code: ErrorCode, hint: string | undefined, retryable = false): SourceError =>
    new SourceError(code, message, { retryable, details, ...(hint === undefined ? {} : { hint }) });

  const code = tableau?.code ?? '';
  switch (code) {
    case '401001':
      return make(
        'TABLEAU_AUTH_FAILED',
        `${ctx.credentialsHint}; also check that site '${ctx.site}' exists (its contentUrl, as in #/site/<contentUrl>/)`,
      );
    case '401002':
      return make(
        'TABLEAU_SESSION_EXPIRED',
        'the session expired or was replaced; a PAT holds only one session at a time, so give each deployment its own PAT or use a connected app',
      );
    case '401000':
      return make(
        'TABLEAU_AUTH_MISSING',
        'the request carried no session token; this is a bug in the client, please report it',
      );
    case '403157':
      return make('TABLEAU_FEATURE_DISABLED', 'a Tableau administrator disabled this feature on the server');
    case '404000':
      return make(
        'TABLEAU_SITE_NOT_FOUND',
        `check tableau.site ('${ctx.site}'): use the site's contentUrl as in #/site/<contentUrl>/, or "" for the Default site`,
      );
    case '404001':
    case '404008':
      return make(
        'TABLEAU_API_VERSION_UNSUPPORTED',
        'the server does not support this REST API version; set tableau.apiVersion to "auto" or to a version the server supports',
      );
    case '404006':
      return make('TABLEAU_WORKBOOK_NOT_FOUND', VIEWS_HINT(ctx.site));
    case '404011':
      return make('TABLEAU_VIEW_NOT_FOUND', VIEWS_HINT(ctx.site));
    case '400065':
      return make('TABLEAU_BAD_REQUEST', 'a filter key is not valid for this API version');
    case '400081':
      return make(
        'TABLEAU_VIEW_QUERY_FAILED',
        'Tableau could not compute the view: open it in the browser to check it renders, and check the filter field names and values',
      );
    case '400130':
      return make(
        'TABLEAU_VIEW_QUERY_FAILED',
        'the view may be empty for these filters; open it in the browser with the same filters',
      );
    default:
      break;
  }
  if (status === 401) return make('TABLEAU_AUTH_FAILED', ctx.credentialsHint);
  if (status === 403) {
    return make(
      'TABLEAU_PERMISSION_DENIED',
      'the signed-in user lacks permission: ask a Tableau admin for View and Download Summary Data on the workbook (connected apps also need the scopes tableau:content:read and tableau:views:download)',
    );
  }
  if (status === 404)
    return make('TABLEAU_NOT_FOUND', `check tableau.serverUrl and the names in the config; ${VIEWS_HINT(ctx.site)}`);
  if (status === 405)
    return make(
      'TABLEAU_BAD_REQUEST',
      'the server refused the HTTP method; a proxy may have turned a POST into a GET on a redirect',
    );
  if (status === 408) return make('TABLEAU_TIMEOUT', undefined, true);
  if (status === 429) {
    return make(
      'TABLEAU_THROTTLED',
      'Tableau is throttling requests; lower tableau.maxConcurrentExports or schedule exports apart (Tableau Cloud allows 20 concurrent exports per site)',
      true,
    );
  }
  if (status >= 500)
    return make('TABLEAU_SERVER_ERROR', 'the Tableau server or a proxy in front of it failed; try again later', true);
  return make('TABLEAU_HTTP_ERROR', undefined);
}

function errorCodeOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'ERR_BAD_RESPONSE' && code !== 'ERR_BAD_REQUEST') return code;
  }
  return undefined;
}

/**
 * Maps a failure below HTTP (DNS, TCP, TLS, reset, abort) to an AppError. AppErrors pass through unchanged (our own
 * idle timeouts and truncation checks decide their retryability where they are raised). Only known transient
 * network failures are retryable; a refused certificate fails at once with the caFile hint, and anything unknown
 * (bad URL, protocol error) fails at once too, since six retries would only delay the same answer.
 */
export function errorFromTransport(err: unknown, ctx: ErrorContext, signal?: AbortSignal): AppError {
  if (err instanceof AppError) return err;
  if (signal?.aborted) return new AbortedError(`${ctx.what}: aborted`, { cause: signal.reason });
  const known = errorCodeOf(err);
  const code = known ?? 'UNKNOWN';
  const reason = err instanceof Error ? err.message : String(err);
  const message = `${ctx.what} failed: ${reason} (${code})`;
  // Never keep the axios error itself: its config holds the request body (a PAT secret or JWT at sign-in).
  const cause = Object.assign(new Error(reason), { code });
  const kind = classifyTransportFailure(err, known);
  if (kind === 'tls') {
    return new SourceError('TABLEAU_TLS', message, {
      cause,
      hint: "the server certificate is not trusted or not valid: if the server uses an internal CA or a TLS-inspecting proxy, set tableau.caFile to that CA certificate (PEM); also check the certificate dates and this machine's clock",
      details: { errno: code },
    });
  }
  if (code === 'ENOTFOUND') {
    return new SourceError('TABLEAU_NETWORK', message, {
      cause,
      hint: 'check the host name in tableau.serverUrl',
      details: { errno: code },
    });
  }
  if (kind === 'transient')
    return new SourceError('TABLEAU_NETWORK', message, { cause, retryable: true, details: { errno: code } });
  return new SourceError('TABLEAU_NETWORK', message, {
    cause,
    hint: 'check tableau.serverUrl (scheme, host and port) and any proxy between this machine and Tableau',
    details: { errno: code },
  });
}

/** True for an expired or replaced session token (Tableau 401002). */
export function isSessionExpired(err: unknown): boolean {
  return err instanceof SourceError && err.code === 'TABLEAU_SESSION_EXPIRED';
}
