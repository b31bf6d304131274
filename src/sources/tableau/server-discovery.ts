/**
 * Server discovery, before sign-in: the product version and REST API version a Tableau server speaks (serverInfo, or
 * the legacy `/auth` probe on servers older than API 2.4), and the API version this client will use with it.
 */
import { SourceError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { chooseApiVersion, isApiVersion, legacyApiVersionForProduct } from './api-version.js';
import type { ErrorContext } from './tableau-errors.js';
import type { TableauHttp } from './tableau-http.js';
import { parseLegacyAuthInfo, parseServerInfoResponse } from './tableau-xml.js';

export interface ServerFacts {
  readonly serverUrl: string;
  readonly productVersion: string;
  readonly configuredApiVersion: string;
  readonly apiVersion: string;
}

export interface DiscoveryInput {
  /** Without a trailing slash. */
  readonly serverUrl: string;
  /** `auto` or a `major.minor` version (tableau.apiVersion). */
  readonly apiVersion: string;
  readonly errorContext: (what: string) => ErrorContext;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/**
 * Reads the server's versions (unauthenticated) and picks the API version to speak: min(server's, ours) for `auto`,
 * else the configured one.
 *
 * @throws SourceError `TABLEAU_API_VERSION_INVALID` for a configured version that is not `major.minor`;
 *   `TABLEAU_SERVER_TOO_OLD` for a server older than API 2.4 of unknown version under `auto`; the HTTP layer's
 *   errors otherwise.
 */
export async function discoverServer(http: TableauHttp, input: DiscoveryInput): Promise<ServerFacts> {
  const { serverUrl, logger, signal, errorContext } = input;
  const configured = input.apiVersion;
  if (configured !== 'auto' && !isApiVersion(configured)) {
    throw new SourceError(
      'TABLEAU_API_VERSION_INVALID',
      `tableau.apiVersion '${configured}' is not a REST API version`,
      {
        hint: 'use "auto" or a major.minor version such as "3.21"',
      },
    );
  }
  try {
    const res = await http.request({
      method: 'GET',
      url: `${serverUrl}/api/2.4/serverInfo`,
      headers: { Accept: 'application/xml' },
      signal,
      logger,
      error: errorContext(`read server info from ${serverUrl}`),
    });
    const info = parseServerInfoResponse(res.text);
    const apiVersion = chooseApiVersion(info.restApiVersion, configured);
    logger.debug(
      { productVersion: info.productVersion, serverApiVersion: info.restApiVersion, apiVersion },
      'Tableau server discovered',
    );
    return { serverUrl, productVersion: info.productVersion, configuredApiVersion: configured, apiVersion };
  } catch (err) {
    if (!(err instanceof SourceError) || err.details['tableauCode'] !== '404003') throw err;
  }
  return discoverLegacyServer(http, input);
}

/** Servers older than API 2.4 have no serverInfo; their product version comes from the legacy auth probe. */
async function discoverLegacyServer(http: TableauHttp, input: DiscoveryInput): Promise<ServerFacts> {
  const { serverUrl } = input;
  const configured = input.apiVersion;
  const res = await http.request({
    method: 'GET',
    url: `${serverUrl}/auth?format=xml`,
    headers: { Accept: 'application/xml' },
    signal: input.signal,
    logger: input.logger,
    error: input.errorContext(`read the legacy version probe of ${serverUrl}`),
  });
  const legacy = parseLegacyAuthInfo(res.text);
  const legacyApi = legacyApiVersionForProduct(legacy.productVersion);
  if (legacyApi === undefined && configured === 'auto') {
    throw new SourceError(
      'TABLEAU_SERVER_TOO_OLD',
      `${serverUrl} runs Tableau Server ${legacy.externalVersion ?? legacy.productVersion}, which predates REST API 2.4; this tool needs REST API 2.7 or later`,
      { hint: 'upgrade Tableau Server (2019.4 or later for personal access tokens)' },
    );
  }
  return {
    serverUrl,
    productVersion: legacy.externalVersion ?? legacy.productVersion,
    configuredApiVersion: configured,
    apiVersion: configured === 'auto' ? (legacyApi ?? '2.0') : configured,
  };
}
