/**
 * Bearer-token authentication of admin API callers. Tokens are compared in constant time: both sides are hashed to
 * fixed-length SHA-256 digests first (so neither the length nor the content of a token leaks through timing), and
 * every configured token is compared, even after a match.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../shared/errors.js';

/** One admin credential. `name` is what the run history records as "triggered by"; the token never is. */
export interface AdminToken {
  readonly name: string;
  readonly token: string;
}

/** Returns the name of the caller, or undefined when the header carries no valid token. */
export type Authenticator = (authorizationHeader: string | undefined) => string | undefined;

/** Tokens shorter than this are refused: they could be guessed. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Builds the authenticator for a token list. Throws UsageError when the list is empty, a name is empty or repeated,
 * or a token is shorter than {@link MIN_TOKEN_LENGTH} characters (messages name the token by its name only).
 */
export function createAuthenticator(tokens: readonly AdminToken[]): Authenticator {
  if (tokens.length === 0) {
    throw new UsageError('no admin token is configured, so the admin API would accept nobody', {
      hint: 'set ADMIN_TOKEN=<secret>, or ADMIN_TOKENS=alice:<secret>,bob:<secret> to name each caller',
    });
  }
  const seen = new Set<string>();
  for (const t of tokens) {
    if (t.name.trim() === '')
      throw new UsageError('an admin token has an empty name', { hint: 'use ADMIN_TOKENS=name:<secret>,...' });
    if (seen.has(t.name))
      throw new UsageError(`admin token name '${t.name}' is used twice`, { hint: 'give every token its own name' });
    seen.add(t.name);
    if (t.token.length < MIN_TOKEN_LENGTH) {
      throw new UsageError(`the admin token of '${t.name}' is shorter than ${MIN_TOKEN_LENGTH} characters`, {
        hint: 'generate one with `openssl rand -hex 32`',
      });
    }
  }
  const digests = tokens.map((t) => ({ name: t.name, digest: sha256(t.token) }));

  return (header) => {
    const match = header === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    const presented = sha256(match?.[1] ?? '');
    let name: string | undefined;
    for (const d of digests) {
      // No early exit: the time taken does not depend on which token matched.
      if (timingSafeEqual(presented, d.digest) && name === undefined) name = d.name;
    }
    return match === null ? undefined : name;
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
