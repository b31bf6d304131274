/**
 * Sign-in and sign-out. Three credential types (PAT, connected-app JWT, username/password), the Cloud pod redirect
 * (a 301/302 at sign-in is re-POSTed, never turned into a GET), and a best-effort sign-out that never throws.
 */
import type { Clock } from '../../shared/clock.js';
import { AppError, SourceError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import { createConnectedAppJwt } from './connected-app-jwt.js';
import type { ErrorContext } from './tableau-errors.js';
import type { TableauHttp } from './tableau-http.js';
import { parseSignInResponse, type SignInResult } from './tableau-xml.js';

export type TableauAuthConfig =
  | { readonly type: 'pat'; readonly tokenName: string; readonly tokenSecret: string }
  | {
      readonly type: 'connected-app';
      readonly clientId: string;
      readonly secretId: string;
      readonly secretValue: string;
      readonly username: string;
      readonly scopes?: readonly string[] | undefined;
    }
  | { readonly type: 'password'; readonly username: string; readonly password: string };

/** How to fix rejected credentials, per sign-in method (never includes a secret). */
export function credentialsHint(auth: TableauAuthConfig): string {
  switch (auth.type) {
    case 'pat':
      return `check the personal access token '${auth.tokenName}' and its secret (the env vars named by tableau.auth.tokenNameEnv and tokenSecretEnv); PATs expire after 15 days unused and can be revoked`;
    case 'connected-app':
      return `check the connected app (client id, secret id and secret value in the env vars named by tableau.auth), that it is enabled, that user '${auth.username}' exists (case-sensitive), and that this machine's clock is correct`;
    case 'password':
      return `check the username '${auth.username}' and the password (env var named by tableau.auth.passwordEnv); sites with multi-factor authentication need a personal access token instead`;
  }
}

function xmlAttr(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** The `<tsRequest>` body of Sign In. `jwt` is required for connected apps (mint one per sign-in). */
export function buildSignInBody(auth: TableauAuthConfig, site: string, jwt?: string): string {
  const siteXml = `<site contentUrl="${xmlAttr(site)}" />`;
  switch (auth.type) {
    case 'pat':
      return `<tsRequest><credentials personalAccessTokenName="${xmlAttr(auth.tokenName)}" personalAccessTokenSecret="${xmlAttr(auth.tokenSecret)}">${siteXml}</credentials></tsRequest>`;
    case 'connected-app':
      if (jwt === undefined) throw new Error('buildSignInBody: a connected-app sign-in needs a JWT');
      return `<tsRequest><credentials jwt="${xmlAttr(jwt)}" isUat="false">${siteXml}</credentials></tsRequest>`;
    case 'password':
      return `<tsRequest><credentials name="${xmlAttr(auth.username)}" password="${xmlAttr(auth.password)}">${siteXml}</credentials></tsRequest>`;
  }
}

export interface SignInInput {
  readonly serverUrl: string;
  readonly apiVersion: string;
  readonly site: string;
  readonly auth: TableauAuthConfig;
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

export interface SignInDeps {
  readonly http: TableauHttp;
  readonly clock: Clock;
  readonly redactor: Redactor;
}

export interface SignedIn extends SignInResult {
  /** Where the rest of the session goes: the pod host after a Cloud redirect, else the configured server URL. */
  readonly baseUrl: string;
}

const MAX_SIGN_IN_REDIRECTS = 3;

/** The part of a sign-in URL before `/api/`, i.e. the server base to use for the rest of the session. */
function baseUrlOf(url: string): string {
  const u = new URL(url);
  const at = u.pathname.indexOf('/api/');
  return `${u.origin}${at >= 0 ? u.pathname.slice(0, at) : ''}`;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Tableau Cloud: `online.tableau.com`, its pods (`10ay.online.tableau.com`) and other `*.tableau.com` hosts. */
function isTableauCloudHost(hostname: string): boolean {
  return hostname === 'tableau.com' || hostname.endsWith('.tableau.com');
}

/**
 * Decides whether a sign-in redirect may receive the credentials again, and returns the absolute target URL. Allowed:
 * https only (never a downgrade to http), to the same host (any port; loopback names count as one host) or to a
 * Tableau Cloud host (`*.tableau.com`, e.g. the pod `10ay.online.tableau.com`).
 * @throws SourceError `TABLEAU_REDIRECT_REFUSED` naming the target host (never its path or query).
 */
export function checkSignInRedirect(from: string, location: string, what: string): string {
  const current = new URL(from);
  let target: URL;
  try {
    target = new URL(location, current);
  } catch {
    throw new SourceError('TABLEAU_REDIRECT', `${what} failed: the server redirected sign-in to an invalid address`, {
      hint: 'set tableau.serverUrl to the final server address',
    });
  }
  const host = target.hostname.toLowerCase();
  const origin = current.hostname.toLowerCase();
  // 127.0.0.1, localhost and ::1 are the same machine (the simulator redirects from one to the other).
  const sameHost = host === origin || (LOOPBACK_HOSTS.has(host) && LOOPBACK_HOSTS.has(origin));
  const hint = `if ${target.host} really is your Tableau server, set tableau.serverUrl to its https address directly`;
  if (target.protocol !== 'https:') {
    throw new SourceError(
      'TABLEAU_REDIRECT_REFUSED',
      `${what} failed: the server redirected sign-in to ${target.protocol}//${target.host}; credentials are only re-sent over https`,
      { hint: `${hint}; check for a proxy that rewrites https to http`, details: { redirectHost: target.host } },
    );
  }
  if (!sameHost && !isTableauCloudHost(host)) {
    throw new SourceError(
      'TABLEAU_REDIRECT_REFUSED',
      `${what} failed: the server redirected sign-in to another host, ${target.host}; credentials are only re-sent to the same host or to Tableau Cloud (*.tableau.com)`,
      { hint, details: { redirectHost: target.host } },
    );
  }
  return target.toString();
}

/**
 * Signs in and returns the session token, site LUID and user LUID. Follows up to 3 redirects by re-POSTing the same
 * body (Tableau Cloud answers on the pod host), only where checkSignInRedirect allows it. A connected-app JWT is minted fresh for every attempt.
 * @throws SourceError `TABLEAU_AUTH_FAILED` (with a hint for the sign-in method), `TABLEAU_SITE_NOT_FOUND`, ...
 */
export async function signIn(input: SignInInput, deps: SignInDeps): Promise<SignedIn> {
  const error: ErrorContext = {
    what: `sign in to site '${input.site}' on ${input.serverUrl}`,
    site: input.site,
    credentialsHint: credentialsHint(input.auth),
  };
  const attempt = async (): Promise<SignedIn> => {
    let jwt: string | undefined;
    if (input.auth.type === 'connected-app') {
      jwt = createConnectedAppJwt({ ...input.auth, now: deps.clock.now() });
      deps.redactor.addSecret(jwt, { transient: true });
    }
    const body = buildSignInBody(input.auth, input.site, jwt);
    let url = `${input.serverUrl}/api/${input.apiVersion}/auth/signin`;
    for (let hop = 0; ; hop++) {
      const res = await deps.http.request({
        method: 'POST',
        url,
        headers: { 'Content-Type': 'application/xml', Accept: 'application/xml' },
        body,
        signal: input.signal,
        error,
        logger: input.logger,
        acceptRedirects: true,
        retry: false,
      });
      if (res.status >= 300 && res.status < 400) {
        const location = res.headers['location'];
        if (location === undefined || hop >= MAX_SIGN_IN_REDIRECTS) {
          throw new SourceError(
            'TABLEAU_REDIRECT',
            `${error.what} failed: HTTP ${res.status} redirect ${location === undefined ? 'without a Location' : 'loop'}`,
            {
              hint: 'set tableau.serverUrl to the final server address (for Tableau Cloud, the pod host such as https://10ay.online.tableau.com)',
            },
          );
        }
        const next = checkSignInRedirect(url, location, error.what);
        input.logger.info(
          { from: baseUrlOf(url), to: baseUrlOf(next) },
          'Tableau redirected sign-in; re-posting to the new address',
        );
        url = next;
        continue;
      }
      const result = parseSignInResponse(res.text);
      deps.redactor.addSecret(result.token, { transient: true });
      return { ...result, baseUrl: baseUrlOf(url) };
    }
  };
  return deps.http.withRetries({ error, signal: input.signal, logger: input.logger }, attempt);
}

export interface SignOutInput {
  readonly baseUrl: string;
  readonly apiVersion: string;
  readonly token: string;
  readonly site: string;
  readonly logger: Logger;
}

/**
 * Signs out (invalidates the token). Best effort and never throws: a 401 means the session was already gone
 * (expired or replaced), anything else is logged as a warning.
 */
export async function signOut(input: SignOutInput, deps: { readonly http: TableauHttp }): Promise<void> {
  try {
    await deps.http.request({
      method: 'POST',
      url: `${input.baseUrl}/api/${input.apiVersion}/auth/signout`,
      headers: { 'X-Tableau-Auth': input.token, Accept: 'application/xml' },
      body: '',
      // Sign-out runs in `finally`, also after an abort: it gets its own signal so it still goes out.
      signal: new AbortController().signal,
      error: { what: `sign out from site '${input.site}'`, site: input.site, credentialsHint: '' },
      logger: input.logger,
      retry: false,
    });
    input.logger.debug('signed out of Tableau');
  } catch (err) {
    if (err instanceof AppError && err.details['status'] === 401) {
      input.logger.debug('Tableau session was already closed at sign-out');
      return;
    }
    input.logger.warn({ err }, 'Tableau sign-out failed; the session will expire on its own');
  }
}
