/**
 * Authentication of admin requests: an `onRequest` hook, which runs before routing to a handler (and before the 404
 * handler), so a caller without a valid token learns nothing, not even whether an export id exists. Only the health
 * probes and the dashboard's static files (which contain no data) are public. The one other way in is a download
 * ticket (download-tickets.ts), accepted only on the file route of the export it was issued for.
 *
 * URLs the router cannot even parse (`FST_ERR_BAD_URL`, `FST_ERR_MAX_PARAM_LENGTH`) never reach that hook: fastify
 * hands them to `frameworkErrors`, which answers them here with the same 401 when the caller has no valid token (a 400
 * would tell that the route exists), and with a 400/414 in the usual shape when it has one.
 *
 * Every failed login (a credential presented and refused) is logged with the remote address, never the credential,
 * and counts towards the address's backoff (login-throttle.ts): a blocked address gets 429 with Retry-After before
 * its credentials are even looked at, so guessing stops for a while even when the next guess would be right.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../shared/logger.js';
import type { Authenticator } from './auth.js';
import type { DownloadTickets } from './download-tickets.js';
import { sendError } from './error-replies.js';
import type { LoginThrottle } from './login-throttle.js';

const PUBLIC_PATHS = new Set(['/', '/index.html', '/dashboard.js', '/dashboard.css', '/healthz', '/readyz']);

/** The file route of an export (the only route a ticket opens). */
const FILE_ROUTE = /^\/api\/exports\/([^/]+)\/file$/;

/** Name of the authenticated caller of a request (undefined for public paths). */
export type CallerOf = (request: FastifyRequest) => string | undefined;

export interface RequestGuardDeps {
  readonly authenticate: Authenticator;
  readonly tickets?: DownloadTickets | undefined;
  readonly throttle: LoginThrottle;
  readonly log: Logger;
}

export interface RequestGuard {
  /** The `onRequest` hook: 429 for a blocked address, 401 without a valid credential, else records the caller. */
  readonly onRequest: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;
  /** Fastify's `frameworkErrors` option: router errors, answered after the same checks. */
  readonly frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void;
  readonly callerOf: CallerOf;
}

/** Router errors an authenticated caller is told about as they are (status of fastify's own answer). */
const ROUTER_ERROR_STATUS: Readonly<Record<string, number>> = { FST_ERR_BAD_URL: 400, FST_ERR_MAX_PARAM_LENGTH: 414 };

export function createRequestGuard(deps: RequestGuardDeps): RequestGuard {
  const callerOf = new WeakMap<FastifyRequest, string>();

  /** The caller's name; or, having answered 429 or 401 itself, undefined. */
  const admit = (request: FastifyRequest, reply: FastifyReply, path: string, query: string): string | undefined => {
    // A valid credential is admitted even from a blocked address: tokens carry at least 128 bits, so the block only
    // has to slow guessing down, and one caller's bad tokens (or a shared proxy address) must not lock admins out.
    const header = request.headers.authorization;
    const name = deps.authenticate(header) ?? ticketCaller(deps.tickets, path, query);
    if (name !== undefined) return name;
    const wait = deps.throttle.blockedFor(request.ip);
    if (wait !== undefined) {
      void sendError(
        reply.header('retry-after', String(wait)),
        429,
        'TOO_MANY_FAILED_LOGINS',
        `too many failed logins from this address; try again in ${wait} s`,
      );
      return undefined;
    }
    const ticket = new URLSearchParams(query).has('ticket');
    if (header !== undefined || ticket) recordFailure(request, path, describeFailure(header, ticket));
    void sendError(
      reply.header('www-authenticate', 'Bearer realm="tableau-export"'),
      401,
      'UNAUTHORIZED',
      'a valid admin token is required: send "Authorization: Bearer <token>"',
    );
    return undefined;
  };

  const recordFailure = (request: FastifyRequest, path: string, reason: string): void => {
    const address = request.ip;
    const where = `${request.method} ${path.slice(0, 200)}`;
    deps.log.warn(
      { remoteAddress: address, method: request.method, path: path.slice(0, 200), reason },
      `admin API login failed from ${address}: ${reason} (${where})`,
    );
    const block = deps.throttle.failed(address);
    if (block !== undefined)
      deps.log.warn(
        { remoteAddress: address, failures: block.failures, blockedMs: block.blockedMs },
        `admin API logins from ${address} refused for ${Math.round(block.blockedMs / 1000)} s after ${block.failures} failures`,
      );
  };

  return {
    onRequest: async (request, reply) => {
      const [path = '', query = ''] = request.url.split('?');
      if (PUBLIC_PATHS.has(path)) return undefined;
      const name = admit(request, reply, path, query);
      if (name === undefined) return reply;
      callerOf.set(request, name);
      return undefined;
    },
    frameworkErrors: (error, request, reply) => {
      const path = request.url.split('?')[0] ?? '';
      // Tickets open only the file route, which a URL the router cannot parse is not: only a bearer token counts.
      if (admit(request, reply, path, '') === undefined) return;
      const status = ROUTER_ERROR_STATUS[error.code] ?? 400;
      void sendError(reply, status, error.code, routerErrorMessage(error.code));
    },
    callerOf: (request) => callerOf.get(request),
  };
}

function describeFailure(header: string | undefined, ticket: boolean): string {
  if (header === undefined) return ticket ? 'invalid or expired download ticket' : 'no credentials';
  if (!/^Bearer[ ]+\S+\s*$/i.test(header)) return 'the Authorization header is not "Bearer <token>"';
  return 'unknown token';
}

function routerErrorMessage(code: string): string {
  return code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? 'a part of the URL is too long for an id'
    : 'the URL is not valid (a bad percent-encoding?)';
}

function ticketCaller(tickets: DownloadTickets | undefined, path: string, query: string): string | undefined {
  const match = FILE_ROUTE.exec(path);
  const ticket = new URLSearchParams(query).get('ticket');
  if (tickets === undefined || match === null || ticket === null) return undefined;
  let exportId: string;
  try {
    exportId = decodeURIComponent(match[1] ?? '');
  } catch {
    return undefined;
  }
  return tickets.verify(ticket, exportId)?.caller;
}
