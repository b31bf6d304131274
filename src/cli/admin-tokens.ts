/**
 * Admin API tokens from the environment: ADMIN_TOKENS=alice:tok1,bob:tok2 (named) or ADMIN_TOKEN (one, named "admin"),
 * checked at start (whitespace, shared values, weak values; see server/auth.ts) so a weak token never serves a request.
 * ADMIN_TOKEN_MIN_ENTROPY sets the least estimated strength in bits (default 128).
 */
import type { Config } from '../config/schema.js';
import { UsageError } from '../shared/errors.js';
import type { FailedLoginSettings } from '../server/admin-server.js';
import { checkAdminTokens, DEFAULT_MIN_TOKEN_ENTROPY_BITS, MIN_TOKEN_LENGTH, type AdminToken } from '../server/auth.js';

/** The token policy of the environment: ADMIN_TOKEN_MIN_ENTROPY (bits, a whole number >= 0), else the default. */
export function adminTokenPolicyFromEnv(env: NodeJS.ProcessEnv): { readonly minEntropyBits: number } {
  const raw = env['ADMIN_TOKEN_MIN_ENTROPY'];
  if (raw === undefined || raw.trim() === '') return { minEntropyBits: DEFAULT_MIN_TOKEN_ENTROPY_BITS };
  const bits = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(bits))
    throw new UsageError(
      `ADMIN_TOKEN_MIN_ENTROPY must be a whole number of bits (e.g. 128), not "${raw.slice(0, 20)}"`,
      { hint: `unset it for the default of ${DEFAULT_MIN_TOKEN_ENTROPY_BITS}` },
    );
  return { minEntropyBits: bits };
}

/**
 * Reads and checks the admin tokens. Throws UsageError when none is set, ADMIN_TOKENS is malformed, or a token breaks
 * a rule of {@link checkAdminTokens}; messages name tokens by name, never by value.
 */
export function adminTokensFromEnv(env: NodeJS.ProcessEnv): AdminToken[] {
  const named = env['ADMIN_TOKENS'];
  const single = env['ADMIN_TOKEN'];
  const tokens: AdminToken[] = [];
  if (named !== undefined && named.trim() !== '') {
    for (const entry of named.split(',')) {
      const i = entry.indexOf(':');
      if (i <= 0 || entry.slice(0, i).trim() === '')
        throw new UsageError('ADMIN_TOKENS must look like name1:token1,name2:token2');
      // The value is kept as written: whitespace in it is refused below, not silently trimmed into another token.
      tokens.push({ name: entry.slice(0, i).trim(), token: entry.slice(i + 1) });
    }
  }
  if (single !== undefined && single !== '') tokens.push({ name: 'admin', token: single });
  if (tokens.length === 0) {
    throw new UsageError(
      `set ADMIN_TOKEN (at least ${MIN_TOKEN_LENGTH} characters and ${DEFAULT_MIN_TOKEN_ENTROPY_BITS} bits, e.g. \`openssl rand -hex 32\`) or ADMIN_TOKENS=name:token,... before starting the admin server`,
    );
  }
  checkAdminTokens(tokens, adminTokenPolicyFromEnv(env));
  return tokens;
}

/** The admin server's token strength and login backoff, from the environment and `server.failedLogins`. */
export function adminServerSecurity(
  config: Config,
  env: NodeJS.ProcessEnv,
): { readonly minTokenEntropyBits: number; readonly failedLogins: FailedLoginSettings } {
  const f = config.server.failedLogins;
  return {
    minTokenEntropyBits: adminTokenPolicyFromEnv(env).minEntropyBits,
    failedLogins: { limit: f.limit, windowMs: f.window, maxBlockMs: f.maxBackoff },
  };
}
