/**
 * Connected-app (direct trust) JWTs for Tableau sign-in: HS256, `kid` = secret id, `iss` = client id,
 * `aud` = "tableau", a fresh `jti` and a short `exp` (Tableau rejects more than 10 minutes ahead).
 */
import { createHmac, randomUUID } from 'node:crypto';

/** Scopes every export needs: read content (resolve views) and download view data. */
export const REQUIRED_JWT_SCOPES: readonly string[] = ['tableau:content:read', 'tableau:views:download'];

/** Lifetime of a minted JWT. Tableau's maximum is 10 minutes; we stay well below to absorb clock skew. */
export const JWT_LIFETIME_SECONDS = 5 * 60;

export interface ConnectedAppJwtInput {
  readonly clientId: string;
  readonly secretId: string;
  readonly secretValue: string;
  readonly username: string;
  readonly scopes?: readonly string[] | undefined;
  readonly now: Date;
  /** Unique token id; a random UUID by default. */
  readonly jti?: string;
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * Mints a signed JWT for one sign-in. Never reuse the result: each sign-in needs a new `jti`.
 * The configured scopes are merged with {@link REQUIRED_JWT_SCOPES}.
 */
export function createConnectedAppJwt(input: ConnectedAppJwtInput): string {
  const iat = Math.floor(input.now.getTime() / 1000);
  const scopes = [...new Set([...REQUIRED_JWT_SCOPES, ...(input.scopes ?? [])])];
  const header = { alg: 'HS256', typ: 'JWT', kid: input.secretId, iss: input.clientId };
  const payload = {
    iss: input.clientId,
    aud: 'tableau',
    sub: input.username,
    jti: input.jti ?? randomUUID(),
    iat,
    exp: iat + JWT_LIFETIME_SECONDS,
    scp: scopes,
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = createHmac('sha256', input.secretValue).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}
