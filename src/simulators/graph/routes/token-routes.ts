/**
 * The Entra ID side under `/{tenant}/`: authority metadata (`v2.0/.well-known/openid-configuration`), an empty key
 * set (`discovery/v2.0/keys`) and the client-credentials token endpoint (`oauth2/v2.0/token`).
 */
import type { IncomingMessage } from 'node:http';
import { faultReply, type Reply } from '../graph-reply.js';
import { countOperation, type GraphSimState } from '../graph-state.js';
import { readBody } from '../request-body.js';

/** The answer for `/{tenant}/{rest}`, or undefined when no Entra route matches. */
export async function routeTokenService(
  state: GraphSimState,
  req: IncomingMessage,
  tenant: string,
  rest: string,
): Promise<Reply | undefined> {
  const { tokens } = state;
  if (req.method === 'GET' && rest === 'v2.0/.well-known/openid-configuration') {
    return tokens.openidConfiguration(tenant);
  }
  if (req.method === 'GET' && rest === 'discovery/v2.0/keys') return { status: 200, body: { keys: [] } };
  if (req.method === 'POST' && rest === 'oauth2/v2.0/token') {
    countOperation(state, 'token');
    const form = new URLSearchParams((await readBody(req, 1024 * 1024)).toString('utf8'));
    const rule = state.faults.take('token', undefined);
    if (rule !== undefined) return faultReply(rule);
    const reply = tokens.issue(tenant, form);
    state.stats.tokensIssued = tokens.issuedCount();
    return reply;
  }
  return undefined;
}
