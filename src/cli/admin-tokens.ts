/** Admin API tokens from the environment: ADMIN_TOKENS=alice:tok1,bob:tok2 (named) or ADMIN_TOKEN (one, named "admin"). */
import { UsageError } from '../shared/errors.js';
import { MIN_TOKEN_LENGTH, type AdminToken } from '../server/auth.js';

export function adminTokensFromEnv(env: NodeJS.ProcessEnv): AdminToken[] {
  const named = env['ADMIN_TOKENS'];
  const single = env['ADMIN_TOKEN'];
  const tokens: AdminToken[] = [];
  if (named !== undefined && named.trim() !== '') {
    for (const entry of named.split(',')) {
      const i = entry.indexOf(':');
      if (i <= 0) throw new UsageError('ADMIN_TOKENS must look like name1:token1,name2:token2');
      tokens.push({ name: entry.slice(0, i).trim(), token: entry.slice(i + 1).trim() });
    }
  }
  if (single !== undefined && single !== '') tokens.push({ name: 'admin', token: single });
  if (tokens.length === 0) {
    throw new UsageError(
      `set ADMIN_TOKEN (at least ${MIN_TOKEN_LENGTH} characters, e.g. \`openssl rand -hex 24\`) or ADMIN_TOKENS=name:token,... before starting the admin server`,
    );
  }
  const short = tokens.find((t) => t.token.length < MIN_TOKEN_LENGTH);
  if (short !== undefined)
    throw new UsageError(
      `admin token "${short.name}" is shorter than ${MIN_TOKEN_LENGTH} characters; use a long random token (e.g. \`openssl rand -hex 24\`)`,
    );
  return tokens;
}
