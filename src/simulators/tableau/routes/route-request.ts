/**
 * The Tableau simulator's dispatch: which route module answers a request, in the order Tableau checks things
 * (API version, then authentication, then the site of the session, then the method, then the resource).
 */
import type { IncomingMessage } from 'node:http';
import { html, type SimResponse } from '../sim-reply.js';
import type { TableauSimState } from '../sim-state.js';
import { authenticate, routeSignIn, routeSignOut } from './auth-routes.js';
import { getView, getWorkbook, listViews, listWorkbooks } from './content-routes.js';
import { metadataGraphql } from './metadata-route.js';
import { checkApiVersion, legacyAuthInfo, serverInfo } from './server-info-routes.js';
import { viewData } from './view-data-route.js';

/** Answers one request (faults aside: the caller applies those). Rejects only on a bug or an oversized body. */
export async function routeRequest(state: TableauSimState, req: IncomingMessage, url: URL): Promise<SimResponse> {
  const method = req.method ?? 'GET';
  const path = url.pathname;
  if (path === '/auth' && method === 'GET') return legacyAuthInfo(state);
  if (path === '/api/metadata/graphql') return metadataGraphql(state, req, method);
  const api = /^\/api\/([^/]+)\/(.*)$/.exec(path);
  if (api === null)
    return { status: 404, headers: { 'Content-Type': 'text/html' }, body: html('Not Found', 'No such page.') };
  const apiVersion = api[1] ?? '';
  const rest = api[2] ?? '';
  const replyVersion = /^\d+\.\d+$/.test(apiVersion) ? apiVersion : state.config.maxApi;
  const versionError = checkApiVersion(state, apiVersion, rest);
  if (versionError !== undefined) return versionError;
  if (/^serverinfo$/i.test(rest) && method === 'GET') return serverInfo(state, replyVersion);
  if (rest === 'auth/signin') return routeSignIn(state, req, method, path, replyVersion);
  if (rest === 'auth/signout') return routeSignOut(state, req, method, replyVersion);
  return routeSiteResource(state, req, url, { method, apiVersion, rest, replyVersion });
}

/** `sites/{siteId}/...`: the session must be signed in to that site, and only GET is simulated. */
function routeSiteResource(
  state: TableauSimState,
  req: IncomingMessage,
  url: URL,
  call: { readonly method: string; readonly apiVersion: string; readonly rest: string; readonly replyVersion: string },
): SimResponse {
  const { method, apiVersion, rest, replyVersion } = call;
  const { tableauError } = state.replies;
  const unknownResource = (): SimResponse =>
    tableauError(404, '404003', 'Resource Not Found', `Unknown resource '/${rest}' specified in URI.`, replyVersion);
  const siteRoute = /^sites\/([^/]+)\/(.*)$/.exec(rest);
  if (siteRoute === null) return unknownResource();
  const session = authenticate(state, req, replyVersion);
  if ('status' in session) return session;
  if (siteRoute[1] !== session.siteId) {
    return tableauError(403, '403000', 'Forbidden', 'The session is not signed in to that site.', replyVersion);
  }
  if (method !== 'GET')
    return tableauError(405, '405000', 'Method Not Allowed', 'Only GET is simulated here.', replyVersion);
  const resource = siteRoute[2] ?? '';
  const q = url.searchParams;

  if (resource === 'views') return listViews(state, session, q, replyVersion);
  const viewRoute = /^views\/([^/]+)(\/data)?$/.exec(resource);
  if (viewRoute !== null) {
    if (viewRoute[2] === undefined) return getView(state, session, viewRoute[1], apiVersion, replyVersion);
    return viewData(state, session, viewRoute[1], q, replyVersion);
  }
  if (resource === 'workbooks') return listWorkbooks(state, session, q, replyVersion);
  const wbRoute = /^workbooks\/([^/]+)(\/views)?$/.exec(resource);
  if (wbRoute !== null) return getWorkbook(state, session, wbRoute[1], wbRoute[2] !== undefined, replyVersion);
  return unknownResource();
}
