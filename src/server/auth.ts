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

/** Default least estimated strength of an admin token, in bits (see {@link estimateTokenEntropyBits}). */
export const DEFAULT_MIN_TOKEN_ENTROPY_BITS = 128;

export interface TokenPolicy {
  /** Least estimated entropy in bits; {@link DEFAULT_MIN_TOKEN_ENTROPY_BITS} by default. */
  readonly minEntropyBits?: number | undefined;
}

/**
 * The estimated entropy of a token in bits, by one documented rule (README, Admin tokens): its length times log2 of
 * the size of the alphabet it draws from. The alphabet is 16 when every character is a hex digit (what
 * `openssl rand -hex` writes); otherwise the sum of the classes present: digits 10, lower case 26, upper case 26, any
 * other character 32. An estimate from the outside: it is right for random tokens and generous to chosen ones, which
 * is why repeated sequences are refused separately.
 */
export function estimateTokenEntropyBits(token: string): number {
  const chars = [...token];
  if (chars.length === 0) return 0;
  let alphabet: number;
  if (/^[0-9a-f]+$/.test(token) || /^[0-9A-F]+$/.test(token)) alphabet = 16;
  else {
    alphabet = 0;
    if (/[0-9]/.test(token)) alphabet += 10;
    if (/[a-z]/.test(token)) alphabet += 26;
    if (/[A-Z]/.test(token)) alphabet += 26;
    if (/[^0-9a-zA-Z]/.test(token)) alphabet += 32;
  }
  return chars.length * Math.log2(alphabet);
}

/**
 * What is wrong with one token value, or undefined when it is acceptable: whitespace, too short, one short sequence
 * repeated (`aaaa…`, `abab…`), or weaker than `minEntropyBits`. Never quotes the value.
 */
export function tokenWeakness(token: string, minEntropyBits: number): string | undefined {
  if (/\s/.test(token))
    return 'contains whitespace (a stray space or the newline of a secret file?); remove it: tokens are single words';
  if (token.length < MIN_TOKEN_LENGTH) return `is shorter than ${MIN_TOKEN_LENGTH} characters`;
  const period = repetitionPeriod(token);
  if (period === 1) return 'is one character repeated';
  if (period !== undefined) return `is a sequence of ${period} characters repeated`;
  const bits = Math.floor(estimateTokenEntropyBits(token));
  if (bits < minEntropyBits)
    return `is too weak: about ${bits} bits of entropy, below the minimum of ${minEntropyBits} (ADMIN_TOKEN_MIN_ENTROPY)`;
  return undefined;
}

/**
 * Checks a token list. Throws UsageError when the list is empty, a name is empty or repeated, two tokens share one
 * value, or a token is weak ({@link tokenWeakness}). Messages name the token by its name only, never its value.
 */
export function checkAdminTokens(tokens: readonly AdminToken[], policy: TokenPolicy = {}): void {
  const minEntropyBits = policy.minEntropyBits ?? DEFAULT_MIN_TOKEN_ENTROPY_BITS;
  if (tokens.length === 0) {
    throw new UsageError('no admin token is configured, so the admin API would accept nobody', {
      hint: 'set ADMIN_TOKEN=<secret>, or ADMIN_TOKENS=alice:<secret>,bob:<secret> to name each caller',
    });
  }
  const names = new Set<string>();
  const values = new Map<string, string>();
  for (const t of tokens) {
    if (t.name.trim() === '')
      throw new UsageError('an admin token has an empty name', { hint: 'use ADMIN_TOKENS=name:<secret>,...' });
    if (names.has(t.name))
      throw new UsageError(`admin token name '${t.name}' is used twice`, { hint: 'give every token its own name' });
    names.add(t.name);
    const weakness = tokenWeakness(t.token, minEntropyBits);
    if (weakness !== undefined) {
      throw new UsageError(`the admin token of '${t.name}' ${weakness}`, {
        hint: 'generate one with `openssl rand -hex 32`',
      });
    }
    const twin = values.get(t.token);
    if (twin !== undefined) {
      // One value under two names would record the wrong person in the run history.
      throw new UsageError(`the admin tokens of '${twin}' and '${t.name}' are the same value`, {
        hint: 'give every caller a token of their own (`openssl rand -hex 32`)',
      });
    }
    values.set(t.token, t.name);
  }
}

/** The shortest period p (p <= length / 2) with which `text` repeats itself whole, or undefined. */
function repetitionPeriod(text: string): number | undefined {
  for (let p = 1; p <= text.length / 2; p++) {
    if (text.length % p === 0 && text.slice(p) === text.slice(0, -p)) return p;
  }
  return undefined;
}

/**
 * Builds the authenticator for a token list, after {@link checkAdminTokens} (which throws UsageError for an unusable
 * list).
 */
export function createAuthenticator(tokens: readonly AdminToken[], policy: TokenPolicy = {}): Authenticator {
  checkAdminTokens(tokens, policy);
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
