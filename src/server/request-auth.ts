/**
 * Authentication of admin requests: an `onRequest` hook, which runs before routing to a handler (and before the 404
 * handler), so a caller without a valid token learns nothing, not even whether an export id exists. Only the health
 * probes and the dashboard's static files (which contain no data) are public. The one other way in is a download
 * ticket (download-tickets.ts), accepted only on the file route of the export it was issued for.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authenticator } from './auth.js';
import type { DownloadTickets } from './download-tickets.js';
import { sendError } from './error-replies.js';

const PUBLIC_PATHS = new Set(['/', '/index.html', '/dashboard.js', '/dashboard.css', '/healthz', '/readyz']);

/** The file route of an export (the only route a ticket opens). */
const FILE_ROUTE = /^\/api\/exports\/([^/]+)\/file$/;

/** Name of the authenticated caller of a request (undefined for public paths). */
export type CallerOf = (request: FastifyRequest) => string | undefined;

/**
 * Adds the hook that answers 401 (with `www-authenticate`) to every non-public request without a valid bearer token
 * (or, on a file route, a valid ticket); returns how to read the caller's name of an authenticated request.
 */
export function registerAuthentication(
  app: FastifyInstance,
  authenticate: Authenticator,
  tickets?: DownloadTickets,
): CallerOf {
  const callerOf = new WeakMap<FastifyRequest, string>();
  app.addHook('onRequest', async (request, reply) => {
    const [path = '', query = ''] = request.url.split('?');
    if (PUBLIC_PATHS.has(path)) return;
    const name = authenticate(request.headers.authorization) ?? ticketCaller(tickets, path, query);
    if (name === undefined) {
      return sendError(
        reply.header('www-authenticate', 'Bearer realm="tableau-export"'),
        401,
        'UNAUTHORIZED',
        'a valid admin token is required: send "Authorization: Bearer <token>"',
      );
    }
    callerOf.set(request, name);
    return undefined;
  });
  return (request) => callerOf.get(request);
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
