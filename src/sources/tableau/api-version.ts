/**
 * REST API version rules: which version to speak, and which calls need which minimum version (Tableau rejects a
 * call made with a version older than the one that introduced it).
 */
import { SourceError } from '../../shared/errors.js';

/** The newest REST API version this client was written against. */
export const HIGHEST_SUPPORTED_API_VERSION = '3.27';

/** Minimum REST API version per feature we use (Tableau docs and TSC's `@api` decorators). */
export const MIN_API_VERSION = {
  'password sign-in': '2.0',
  'Query Views for Site': '2.2',
  'Query View Data (CSV export)': '2.7',
  'Get View by id': '3.1',
  'personal access token sign-in': '3.6',
  'connected-app (JWT) sign-in': '3.17',
} as const;

export type ApiFeature = keyof typeof MIN_API_VERSION;

/** True for `major.minor` strings such as `3.21` (update releases like `2.0.1` are never valid in a URL). */
export function isApiVersion(value: string): boolean {
  return /^\d+\.\d+$/.test(value);
}

/** Numeric comparison of `major.minor` versions ("3.10" > "3.9"). */
export function compareApiVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor !== bMajor ? aMajor - bMajor : aMinor - bMinor;
}

/** The API version to use: the configured one, or min(server's, ours) for `auto`. */
export function chooseApiVersion(serverVersion: string, configured: string): string {
  if (configured !== 'auto') return configured;
  return compareApiVersions(serverVersion, HIGHEST_SUPPORTED_API_VERSION) < 0
    ? serverVersion
    : HIGHEST_SUPPORTED_API_VERSION;
}

/**
 * Maps the product version reported by a pre-2.4 server's `/auth?format=xml` to its REST API version
 * (TSC `server.py`): 10.0→2.3, 9.3→2.2, 9.2→2.1, 9.0/9.1→2.0. Undefined when unknown.
 */
export function legacyApiVersionForProduct(productVersion: string): string | undefined {
  const [major, minor] = productVersion.split('.');
  const key = `${major ?? ''}.${minor ?? ''}`;
  const table: Record<string, string> = { '10.0': '2.3', '9.3': '2.2', '9.2': '2.1', '9.1': '2.0', '9.0': '2.0' };
  return table[key];
}

/**
 * Throws when `apiVersion` is older than what `feature` needs.
 * @throws SourceError `TABLEAU_SERVER_TOO_OLD` naming the feature, the version needed and the one in use.
 */
export function requireApiVersion(
  apiVersion: string,
  feature: ApiFeature,
  server: { readonly serverUrl: string; readonly productVersion: string; readonly configuredApiVersion: string },
): void {
  const needed = MIN_API_VERSION[feature];
  if (compareApiVersions(apiVersion, needed) >= 0) return;
  const pinned = server.configuredApiVersion !== 'auto';
  throw new SourceError(
    'TABLEAU_SERVER_TOO_OLD',
    `${feature} needs Tableau REST API ${needed} or later, but ${server.serverUrl} is used with API ${apiVersion}` +
      (pinned ? ' (pinned by tableau.apiVersion)' : ` (product version ${server.productVersion})`),
    {
      hint: pinned
        ? `set tableau.apiVersion to "auto" or to at least "${needed}"`
        : `upgrade Tableau Server to a release that supports REST API ${needed}, or choose another sign-in method`,
      details: { apiVersion, needed, feature },
    },
  );
}
