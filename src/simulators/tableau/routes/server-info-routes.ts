/**
 * How a client discovers the server: `GET /api/{v}/serverInfo` (API ≥ 2.4, unauthenticated), the legacy
 * `GET /auth` page of servers older than that, and the version check every `/api/{v}/` request goes through.
 */
import { compareVersions } from '../rest-version.js';
import { html, type SimResponse } from '../sim-reply.js';
import type { TableauSimState } from '../sim-state.js';

/** `GET /auth`: the `<authinfo>` document of a pre-2.4 server; a newer one has no such page. */
export function legacyAuthInfo(state: TableauSimState): SimResponse {
  const { maxApi, productVersion } = state.config;
  if (compareVersions(maxApi, '2.4') >= 0)
    return { status: 404, headers: { 'Content-Type': 'text/html' }, body: html('Not Found', 'No such page.') };
  return {
    status: 200,
    headers: { 'Content-Type': 'application/xml' },
    body: Buffer.from(
      `<authinfo>\n<version version="0.31">\n<api_version>0.31</api_version>\n<product_version>${productVersion}</product_version>\n<external_version>${productVersion}.4</external_version>\n</version>\n</authinfo>\n`,
    ),
  };
}

/**
 * The 404 Tableau answers when the path's API version is not served (404001), or when a pre-2.4 server is asked
 * for serverInfo (404003); undefined when the request may go on.
 */
export function checkApiVersion(state: TableauSimState, apiVersion: string, rest: string): SimResponse | undefined {
  const { maxApi } = state.config;
  const { tableauError } = state.replies;
  if (/^serverinfo$/i.test(rest)) {
    if (compareVersions(maxApi, '2.4') < 0) {
      return tableauError(
        404,
        '404003',
        'Resource Not Found',
        `Unknown resource '/${apiVersion}/serverInfo' specified in URI.`,
        '2.3',
      );
    }
  }
  if (
    !/^\d+\.\d+$/.test(apiVersion) ||
    compareVersions(apiVersion, maxApi) > 0 ||
    compareVersions(apiVersion, '2.0') < 0
  ) {
    return tableauError(
      404,
      '404001',
      'Version Not Found',
      `Version '${apiVersion}' is not a valid version of the API.`,
      maxApi,
    );
  }
  return undefined;
}

/** `GET /api/{v}/serverInfo`: product version and the highest REST API version. */
export function serverInfo(state: TableauSimState, replyVersion: string): SimResponse {
  const { w } = state;
  const { maxApi, productVersion } = state.config;
  return state.replies.xml(
    200,
    w.el(
      'serverInfo',
      {},
      w.el('productVersion', { build: '20242.24.0711.1636' }, productVersion) + w.el('restApiVersion', {}, maxApi),
    ),
    replyVersion,
  );
}
