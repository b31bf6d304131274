/**
 * Content downloads as Graph does them: `GET …/content` (by item id or by path) answers 302 with a short-lived,
 * pre-authenticated URL; that URL (`/download/{token}`) serves the bytes once, and only to a request WITHOUT an
 * Authorization header. A bearer token sent there would leak Graph's credential to the download host: the
 * simulator counts it as a protocol violation (`stats.authorizationOnDownloadUrl`) and answers 400.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { faultReply, HttpFault, type Reply } from '../graph-reply.js';
import { countOperation, type GraphSimState } from '../graph-state.js';
import type { ItemTarget } from '../item-path.js';

/** The 302 of `GET …/content` to a fresh download URL for the target file. */
export function redirectToContent(state: GraphSimState, target: ItemTarget): Reply {
  const item = target.item;
  if (item === undefined) throw new HttpFault(404, ['itemNotFound'], 'The resource could not be found.');
  if (item.isFolder) throw new HttpFault(400, ['invalidRequest'], 'A folder has no content to download.');
  const token = randomBytes(24).toString('base64url');
  const now = Date.now();
  // Forget the URLs nobody used, so a long demo does not collect them.
  for (const [t, grant] of state.downloads) if (grant.expiresAtMs < now) state.downloads.delete(t);
  state.downloads.set(token, { itemId: item.id, expiresAtMs: now + state.downloadUrlTtlMs });
  state.stats.downloadRedirects++;
  return { status: 302, headers: { location: `${state.origin}/download/${token}` } };
}

/** A request to a download URL: the file's current bytes, streamed, once. */
export function routeDownloadUrl(state: GraphSimState, req: IncomingMessage, url: URL): Reply {
  const { stats, store } = state;
  countOperation(state, 'download');
  if (req.method !== 'GET') throw new HttpFault(405, ['invalidRequest'], `${req.method ?? ''} is not supported here.`);
  if (req.headers.authorization !== undefined) {
    stats.authorizationOnDownloadUrl++;
    throw new HttpFault(
      400,
      ['invalidRequest'],
      'A pre-authenticated download URL must be requested without an Authorization header.',
    );
  }
  const token = url.pathname.split('/')[2] ?? '';
  const grant = state.downloads.get(token);
  // Single use: a retry must ask Graph for a new URL.
  state.downloads.delete(token);
  if (grant === undefined || grant.expiresAtMs < Date.now()) {
    throw new HttpFault(401, ['unauthenticated', 'expiredToken'], 'The download URL has expired or was already used.');
  }
  const item = store.item(grant.itemId);
  if (item === undefined || item.isFolder) {
    throw new HttpFault(404, ['itemNotFound'], 'The resource could not be found.');
  }
  const rule = state.faults.take('download', store.pathOf(item));
  if (rule !== undefined && (rule.action ?? 'respond') === 'respond') return faultReply(rule);
  stats.downloadsServed++;
  return {
    status: 200,
    headers: { 'content-type': 'application/octet-stream' },
    file: { path: store.diskPathOf(item), ...(rule?.action === 'cut-body' ? { cutAtHalf: true } : {}) },
  };
}
