/**
 * Authentication of admin requests: an `onRequest` hook, which runs before routing to a handler (and before the 404
 * handler), so a caller without a valid token learns nothing, not even whether an export id exists. Only the health
 * probes and the dashboard's static files (which contain no data) are public.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authenticator } from './auth.js';
import { sendError } from './error-replies.js';

const PUBLIC_PATHS = new Set(['/', '/index.html', '/dashboard.js', '/dashboard.css', '/healthz', '/readyz']);

/** Name of the authenticated caller of a request (undefined for public paths). */
export type CallerOf = (request: FastifyRequest) => string | undefined;

/**
 * Adds the hook that answers 401 (with `www-authenticate`) to every non-public request without a valid bearer token;
 * returns how to read the caller's name of an authenticated request.
 */
export function registerAuthentication(app: FastifyInstance, authenticate: Authenticator): CallerOf {
  const callerOf = new WeakMap<FastifyRequest, string>();
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (PUBLIC_PATHS.has(path)) return;
    const name = authenticate(request.headers.authorization);
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
