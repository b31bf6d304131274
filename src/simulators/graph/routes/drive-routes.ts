/**
 * Finding a drive: a SharePoint site (`/sites/{host}:/sites/{name}`, `/sites/{id}/drive`), a user's OneDrive
 * (`/users/{upn}/drive`), a drive by id (`/drives/{id}`), and the refusal of `/me` to an app-only token.
 */
import type { IncomingMessage } from 'node:http';
import { authenticate } from '../bearer-auth.js';
import type { SimDrive } from '../drive-store.js';
import { driveJson } from '../graph-json.js';
import { HttpFault, type Reply } from '../graph-reply.js';
import { countOperation, type GraphSimState } from '../graph-state.js';

/** `/me…`: Graph has no "me" for an application, so even a valid token gets a 400. */
export function refuseMe(state: GraphSimState, req: IncomingMessage): never {
  countOperation(state, 'drive');
  authenticate(state.tokens, req);
  throw new HttpFault(400, ['BadRequest'], '/me request is only valid with delegated authentication flow.');
}

/** `/sites/{host}`, `/sites/{host}:/{path}` (the site) and `/sites/{id}/drive` (its default library). */
export function routeSite(
  state: GraphSimState,
  req: IncomingMessage,
  base: readonly string[],
  relPart: string | undefined,
): Reply {
  const { store } = state;
  const host = decodeURIComponent(base[1] ?? '');
  if (base[2] === 'drive' && base.length === 3) {
    countOperation(state, 'drive');
    authenticate(state.tokens, req);
    const d = store.siteById(host);
    if (d === undefined) throw new HttpFault(404, ['itemNotFound'], 'Requested site could not be found');
    return { status: 200, body: driveJson(store, state.origin, d) };
  }
  countOperation(state, 'site');
  authenticate(state.tokens, req);
  const address =
    relPart === undefined
      ? host
      : `${host}:/${relPart
          .split('/')
          .filter((s) => s !== '')
          .map(decodeURIComponent)
          .join('/')}`;
  const d =
    store.siteByAddress(address) ??
    store.drives.find((x) => x.site !== undefined && x.site.address.toLowerCase() === `${host}:/`.toLowerCase());
  if (d?.site === undefined) throw new HttpFault(404, ['itemNotFound'], 'Requested site could not be found');
  return {
    status: 200,
    body: { id: d.site.id, webUrl: `https://${host}/${relPart ?? ''}`, displayName: d.site.address },
  };
}

/** `/users/{upn}/drive`. */
export function routeUserDrive(state: GraphSimState, req: IncomingMessage, upn: string | undefined): Reply {
  countOperation(state, 'drive');
  authenticate(state.tokens, req);
  const d = state.store.driveByUser(decodeURIComponent(upn ?? ''));
  if (d === undefined)
    throw new HttpFault(404, ['itemNotFound', 'ResourceNotFound'], 'User not found or has no OneDrive.');
  return { status: 200, body: driveJson(state.store, state.origin, d) };
}

/** `/drives/{id}`. */
export function routeDrive(state: GraphSimState, req: IncomingMessage, drive: SimDrive | undefined): Reply {
  countOperation(state, 'drive');
  authenticate(state.tokens, req);
  if (drive === undefined) throw new HttpFault(404, ['itemNotFound'], 'The drive could not be found.');
  return { status: 200, body: driveJson(state.store, state.origin, drive) };
}
