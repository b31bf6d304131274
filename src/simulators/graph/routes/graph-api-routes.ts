/** `/v1.0/…`: splits the Graph path at its `:` delimiters and hands it to the drive or the item routes. */
import type { IncomingMessage } from 'node:http';
import { HttpFault, type Reply } from '../graph-reply.js';
import type { GraphSimState } from '../graph-state.js';
import { refuseMe, routeDrive, routeSite, routeUserDrive } from './drive-routes.js';
import { routeItemRequest } from './item-routes.js';

/** Answers a Graph API request; throws an `HttpFault` for every error answer. */
export async function routeGraphApi(state: GraphSimState, req: IncomingMessage, url: URL): Promise<Reply> {
  const raw = url.pathname.slice('/v1.0'.length);
  if (/^\/me(\/|$)/i.test(raw)) refuseMe(state, req);
  const [basePart = '', relPart, tailPart] = raw.split(':');
  const base = basePart.split('/').filter((s) => s !== '');

  // Sites: /sites/{host}:/{path}, /sites/{host}, /sites/{id}/drive
  if (base[0] === 'sites') return routeSite(state, req, base, relPart);
  if (base[0] === 'users' && base[2] === 'drive' && base.length === 3) return routeUserDrive(state, req, base[1]);
  if (base[0] !== 'drives' || base[1] === undefined)
    throw new HttpFault(400, ['invalidRequest'], `Unsupported request path ${raw}`);
  const drive = state.store.driveById(decodeURIComponent(base[1]));
  if (base.length === 2 && relPart === undefined) return routeDrive(state, req, drive);
  // Item address: root | items/{id}, then optional :/rel/path:, then optional action.
  return routeItemRequest(state, req, url, { raw, base, relPart, tailPart }, drive);
}
