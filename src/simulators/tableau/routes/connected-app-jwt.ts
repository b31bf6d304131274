/**
 * Connected-app JWT checks, as Tableau makes them at sign-in: HS256 signed with a registered secret (`kid` = secret
 * id, `iss` = client id), `aud` "tableau", an `exp` in the future but at most 10 minutes ahead, a `jti` never seen
 * before, and a `sub` that is a user of the site.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { SimConnectedApp, SimUser } from '../sim-state.js';

const JWT_MAX_LIFETIME_S = 600;

const jwtHeaderSchema = z.object({ alg: z.literal('HS256'), kid: z.string(), iss: z.string().optional() });
const jwtPayloadSchema = z.object({
  iss: z.string(),
  aud: z.string(),
  sub: z.string(),
  jti: z.string().min(1),
  exp: z.number(),
  scp: z.array(z.string()),
});

export interface JwtVerifier {
  readonly connectedApps: readonly SimConnectedApp[];
  readonly users: readonly SimUser[];
  /** JWT ids already used; a valid JWT's `jti` is added to it. */
  readonly usedJtis: Set<string>;
}

/**
 * Verifies a connected-app JWT. Returns the user and scopes it signs in, or the reason it is refused (the detail
 * Tableau would log, with its errorCode where Tableau gives one).
 */
export function verifyConnectedAppJwt(jwt: string, deps: JwtVerifier): { user: string; scopes: string[] } | string {
  const parts = jwt.split('.');
  if (parts.length !== 3) return 'malformed JWT';
  const [h = '', p = '', sig = ''] = parts;
  let header: z.infer<typeof jwtHeaderSchema>;
  let payload: z.infer<typeof jwtPayloadSchema>;
  try {
    header = jwtHeaderSchema.parse(JSON.parse(Buffer.from(h, 'base64url').toString('utf8')));
    payload = jwtPayloadSchema.parse(JSON.parse(Buffer.from(p, 'base64url').toString('utf8')));
  } catch {
    return 'malformed JWT header or payload';
  }
  const app = deps.connectedApps.find((a) => a.secretId === header.kid && a.clientId === payload.iss);
  if (app === undefined) return 'CONNECTED_APP_NOT_FOUND (errorCode=126)';
  if (header.iss !== undefined && header.iss !== app.clientId) return 'header iss does not match the client id';
  const expected = createHmac('sha256', app.secretValue).update(`${h}.${p}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return 'invalid JWT signature (errorCode=16)';
  const now = Math.floor(Date.now() / 1000);
  if (payload.aud !== 'tableau') return 'aud must be "tableau"';
  if (payload.exp <= now) return 'JWT expired (errorCode=16)';
  if (payload.exp - now > JWT_MAX_LIFETIME_S) return 'JWT exp is more than 10 minutes ahead (errorCode=16)';
  if (deps.usedJtis.has(payload.jti)) return 'JWT jti was already used (errorCode=16)';
  if (!deps.users.some((u) => u.name === payload.sub)) return `unknown user '${payload.sub}' (errorCode=16)`;
  deps.usedJtis.add(payload.jti);
  return { user: payload.sub, scopes: payload.scp };
}
