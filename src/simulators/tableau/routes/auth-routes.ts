/**
 * Sign-in, sign-out and the `X-Tableau-Auth` check. Sign-in accepts a PAT (API ≥ 3.6), a connected-app JWT
 * (API ≥ 3.17) or a name and password; one live session per PAT, as Tableau documents.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { compareVersions } from '../rest-version.js';
import { html, type SimResponse } from '../sim-reply.js';
import { liveSessions, type Session } from '../sim-sessions.js';
import type { TableauSimState } from '../sim-state.js';
import { verifyConnectedAppJwt } from './connected-app-jwt.js';

const signInBodySchema = z.object({
  tsRequest: z.object({
    credentials: z.object({
      name: z.string().optional(),
      password: z.string().optional(),
      personalAccessTokenName: z.string().optional(),
      personalAccessTokenSecret: z.string().optional(),
      jwt: z.string().optional(),
      site: z.object({ contentUrl: z.string().optional() }).optional(),
    }),
  }),
});

type SignInCredentials = z.infer<typeof signInBodySchema>['tsRequest']['credentials'];

/** Who a sign-in request proved to be. */
interface SignInIdentity {
  readonly user: string;
  readonly pat: string | undefined;
  readonly scopes: string[] | undefined;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > 1024 * 1024) throw new Error('request body too large');
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** `POST /api/{v}/auth/signin`; with `podRedirect`, a request to 127.0.0.1 is first sent to `localhost`. */
export async function routeSignIn(
  state: TableauSimState,
  req: IncomingMessage,
  method: string,
  path: string,
  replyVersion: string,
): Promise<SimResponse> {
  if (method !== 'POST')
    return state.replies.tableauError(405, '405000', 'Method Not Allowed', 'Sign in accepts POST only.', replyVersion);
  if (state.config.podRedirect && (req.headers.host ?? '').startsWith('127.0.0.1')) {
    return {
      status: 302,
      headers: { Location: `https://localhost:${state.port}${path}`, 'Content-Type': 'text/html' },
      body: html('Found', 'Moved.'),
    };
  }
  return handleSignIn(state, req, replyVersion);
}

/** `POST /api/{v}/auth/signout`: ends the caller's session. */
export function routeSignOut(
  state: TableauSimState,
  req: IncomingMessage,
  method: string,
  replyVersion: string,
): SimResponse {
  if (method !== 'POST')
    return state.replies.tableauError(405, '405000', 'Method Not Allowed', 'Sign out accepts POST only.', replyVersion);
  const session = authenticate(state, req, replyVersion);
  if ('status' in session) return session;
  state.sessions.delete(session.token);
  state.stats.signOuts += 1;
  return { status: 204, headers: {}, body: Buffer.alloc(0) };
}

/** The live session of the request's `X-Tableau-Auth` token, or the 401 Tableau answers without one. */
export function authenticate(state: TableauSimState, req: IncomingMessage, apiVersion: string): Session | SimResponse {
  const header = req.headers['x-tableau-auth'];
  const token = Array.isArray(header) ? header[0] : header;
  if (token === undefined || token === '') {
    return state.replies.tableauError(
      401,
      '401000',
      'Unauthorized Access',
      'No authentication credentials were provided.',
      apiVersion,
    );
  }
  const session = liveSessions(state.sessions).find((s) => s.token === token);
  if (session === undefined) {
    return state.replies.tableauError(
      401,
      '401002',
      'Unauthorized Access',
      'Invalid authentication credentials were provided.',
      apiVersion,
    );
  }
  return session;
}

async function handleSignIn(state: TableauSimState, req: IncomingMessage, apiVersion: string): Promise<SimResponse> {
  const { w, stats, sessions } = state;
  const { xml, tableauError } = state.replies;
  const text = await readBody(req);
  let parsed: z.infer<typeof signInBodySchema>;
  try {
    parsed = signInBodySchema.parse(state.signInParser.parse(text));
  } catch {
    return tableauError(400, '400000', 'Bad Request', 'The sign-in request body is not valid.', apiVersion);
  }
  const c = parsed.tsRequest.credentials;
  const site = c.site?.contentUrl ?? '';
  const fail = (detail: string): SimResponse => {
    stats.failedSignIns += 1;
    return tableauError(401, '401001', 'Signin Error', detail, apiVersion);
  };
  const identity = identify(state, c, apiVersion, fail);
  if ('status' in identity) return identity;
  const { user, pat, scopes } = identity;
  const siteId = state.siteIds.get(site);
  if (siteId === undefined) return fail('Error signing in to Tableau Server');

  if (pat !== undefined) {
    // One live session per PAT: a new sign-in ends the previous one (Tableau's documented behaviour).
    const previous = liveSessions(sessions).filter((s) => s.pat === pat);
    stats.maxConcurrentSessionsPerPat = Math.max(stats.maxConcurrentSessionsPerPat, previous.length + 1);
    for (const s of previous) {
      sessions.delete(s.token);
      stats.sessionsReplaced += 1;
    }
  }
  const token = randomBytes(24).toString('base64url');
  state.issued.push(token);
  sessions.set(token, { token, siteId, site, user, pat, scopes, expiresAt: Date.now() + state.config.sessionTtlMs });
  stats.signIns += 1;
  const users = state.config.users;
  const userId = `1a96d216-0000-4000-8000-${String(users.findIndex((u) => u.name === user) + 1).padStart(12, '0')}`;
  return xml(
    200,
    w.el(
      'credentials',
      { token, ...(pat === undefined ? {} : { estimatedTimeToExpiration: '177:05:38' }) },
      w.el('site', { id: siteId, contentUrl: site }) + w.el('user', { id: userId }),
    ),
    apiVersion,
  );
}

/** Checks the credentials of a sign-in: a 400 for a kind the API version lacks, `fail` (401001) for wrong ones. */
function identify(
  state: TableauSimState,
  c: SignInCredentials,
  apiVersion: string,
  fail: (detail: string) => SimResponse,
): SignInIdentity | SimResponse {
  const { tableauError } = state.replies;
  const { users, pats } = state.config;
  if (c.personalAccessTokenName !== undefined) {
    if (compareVersions(apiVersion, '3.6') < 0)
      return tableauError(400, '400000', 'Bad Request', 'Personal access tokens need API 3.6.', apiVersion);
    const known = pats.find((t) => t.name === c.personalAccessTokenName && t.secret === c.personalAccessTokenSecret);
    if (known === undefined) return fail('Error signing in to Tableau Server');
    return { user: known.user, pat: known.name, scopes: undefined };
  }
  if (c.jwt !== undefined) {
    if (compareVersions(apiVersion, '3.17') < 0)
      return tableauError(400, '400000', 'Bad Request', 'JWT sign-in needs API 3.17.', apiVersion);
    const verdict = verifyConnectedAppJwt(c.jwt, {
      connectedApps: state.config.connectedApps,
      users,
      usedJtis: state.usedJtis,
    });
    if (typeof verdict === 'string') return fail(`Signin Error: ${verdict}`);
    return { user: verdict.user, pat: undefined, scopes: verdict.scopes };
  }
  if (c.name !== undefined) {
    const known = users.find((u) => u.name === c.name && u.password !== undefined && u.password === c.password);
    if (known === undefined) return fail('Error signing in to Tableau Server');
    return { user: known.name, pat: undefined, scopes: undefined };
  }
  return tableauError(400, '400000', 'Bad Request', 'No credentials in the sign-in request.', apiVersion);
}
