/** The bearer-token check of every Graph API call (upload URLs excepted: they carry their own credential). */
import type { IncomingMessage } from 'node:http';
import { HttpFault } from './graph-reply.js';
import type { TokenService } from './token-service.js';

/**
 * Throws the 401 Graph answers without a valid, unexpired token, or the 403 for a token without a Files or Sites
 * ReadWrite.All role.
 */
export function authenticate(tokens: TokenService, req: IncomingMessage): void {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (match === null) throw new HttpFault(401, ['InvalidAuthenticationToken'], 'Access token is empty.');
  const t = tokens.check(match[1] ?? '');
  if (t === undefined)
    throw new HttpFault(401, ['InvalidAuthenticationToken'], 'Access token has expired or is not yet valid.');
  if (!t.roles.some((r) => r === 'Files.ReadWrite.All' || r === 'Sites.ReadWrite.All')) {
    throw new HttpFault(403, ['accessDenied'], 'Either scp or roles claim need to be present in the token.');
  }
}
