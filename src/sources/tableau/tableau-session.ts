/**
 * The lifecycle of one Tableau REST session: wait for the PAT (Tableau allows one session per personal access token,
 * so sessions on the same PAT are serialised in this process), discover the server, sign in, serve site calls with
 * re-sign-in on 401002 (`session-auth.ts`), and sign out on close, releasing the PAT.
 */
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import { requireApiVersion, type ApiFeature } from './api-version.js';
import type { KeyedMutex, Release } from './concurrency.js';
import { discoverServer, type ServerFacts } from './server-discovery.js';
import { createSessionAuth, type SessionAuth, type SignInWith } from './session-auth.js';
import { signIn, signOut, type SignedIn, type TableauAuthConfig } from './tableau-auth.js';
import type { ErrorContext } from './tableau-errors.js';
import type { TableauHttp } from './tableau-http.js';
import type { MetadataApi } from './metadata-api.js';
import type { SiteApi } from './view-lookup.js';

export interface TableauSession {
  readonly server: ServerFacts;
  readonly http: TableauHttp;
  /** Site-relative GETs (`views?…`) with this session's token, under the given run's logger and signal. */
  siteApi(logger: Logger, signal: AbortSignal): SiteApi;
  /** The Metadata API (GraphQL) with this session's token, under the given run's logger and signal. */
  metadataApi(logger: Logger, signal: AbortSignal): MetadataApi;
  current(): SignedIn;
  withAuth<T>(fn: (s: SignedIn) => Promise<T>, logger: Logger, signal: AbortSignal): Promise<T>;
  /** Signs out (best effort) and releases the PAT. Idempotent; never throws. */
  close(): Promise<void>;
}

export interface SessionSettings {
  /** Without a trailing slash. */
  readonly serverUrl: string;
  readonly site: string;
  /** `auto` or `major.minor` (tableau.apiVersion). */
  readonly apiVersion: string;
  readonly auth: TableauAuthConfig;
  /** Items per page for list calls, already clamped to 1..1000. */
  readonly pageSize: number;
}

export interface SessionDeps {
  readonly http: TableauHttp;
  /** Shared by every session of one source instance. */
  readonly patLocks: KeyedMutex;
  readonly clock: Clock;
  readonly redactor: Redactor;
  readonly errorContext: (what: string) => ErrorContext;
}

/**
 * Opens a signed-in session. On failure nothing stays held (the PAT is released).
 *
 * @throws AbortedError when `signal` aborts while waiting for the PAT; discovery errors (`discoverServer`);
 *   `TABLEAU_SERVER_TOO_OLD` when the API version lacks the configured sign-in method; sign-in errors.
 */
export async function openTableauSession(
  settings: SessionSettings,
  deps: SessionDeps,
  logger: Logger,
  signal: AbortSignal,
): Promise<TableauSession> {
  const { http } = deps;
  const release = await acquirePat(settings.auth, deps.patLocks, logger, signal);
  try {
    const server = await discoverServer(http, {
      serverUrl: settings.serverUrl,
      apiVersion: settings.apiVersion,
      errorContext: deps.errorContext,
      logger,
      signal,
    });
    requireApiVersion(server.apiVersion, signInFeature(settings.auth), server);
    const signInWith: SignInWith = (s, l) =>
      signIn(
        {
          serverUrl: settings.serverUrl,
          apiVersion: server.apiVersion,
          site: settings.site,
          auth: settings.auth,
          signal: s,
          logger: l,
        },
        { http, clock: deps.clock, redactor: deps.redactor },
      );
    const first = await signInWith(signal, logger);
    logger.info({ site: settings.site, apiVersion: server.apiVersion, server: first.baseUrl }, 'signed in to Tableau');
    const auth = createSessionAuth(first, signInWith);
    const state: SignedInState = { settings, deps, server, auth };
    return {
      server,
      http,
      siteApi: (l, s) => createSiteApi(state, l, s),
      metadataApi: (l, s) => createMetadataApi(state, l, s),
      current: () => auth.current(),
      withAuth: (fn, l, s) => auth.withAuth(fn, l, s),
      close: () => closeSession(state, release, logger),
    };
  } catch (err) {
    release();
    throw err;
  }
}

/** Waits until no other session of this process holds the PAT; other sign-in methods need no lock. */
async function acquirePat(
  auth: TableauAuthConfig,
  patLocks: KeyedMutex,
  logger: Logger,
  signal: AbortSignal,
): Promise<Release> {
  if (auth.type !== 'pat') return () => undefined;
  const key = `pat:${auth.tokenName}`;
  if (patLocks.isHeld(key)) {
    logger.info(
      `waiting for another run to sign out: Tableau allows one session per personal access token ('${auth.tokenName}')`,
    );
  }
  return patLocks.acquire(key, signal);
}

function signInFeature(auth: TableauAuthConfig): ApiFeature {
  switch (auth.type) {
    case 'pat':
      return 'personal access token sign-in';
    case 'connected-app':
      return 'connected-app (JWT) sign-in';
    case 'password':
      return 'password sign-in';
  }
}

interface SignedInState {
  readonly settings: SessionSettings;
  readonly deps: SessionDeps;
  readonly server: ServerFacts;
  readonly auth: SessionAuth;
}

function createSiteApi(state: SignedInState, l: Logger, s: AbortSignal): SiteApi {
  const { settings, deps, server, auth } = state;
  return {
    site: settings.site,
    pageSize: settings.pageSize,
    get: (path, what) =>
      auth.withAuth(
        async (session) =>
          (
            await deps.http.request({
              method: 'GET',
              url: `${session.baseUrl}/api/${server.apiVersion}/sites/${session.siteId}/${path}`,
              headers: { 'X-Tableau-Auth': session.token, Accept: 'application/xml' },
              signal: s,
              logger: l,
              error: deps.errorContext(what),
            })
          ).text,
        l,
        s,
      ),
  };
}

/** `POST {server}/api/metadata/graphql` with the session's token; a GraphQL answer comes as HTTP 200, errors included. */
function createMetadataApi(state: SignedInState, l: Logger, s: AbortSignal): MetadataApi {
  const { deps, auth } = state;
  return {
    post: (body, what) =>
      auth.withAuth(
        async (session) =>
          (
            await deps.http.request({
              method: 'POST',
              url: `${session.baseUrl}/api/metadata/graphql`,
              headers: {
                'X-Tableau-Auth': session.token,
                'Content-Type': 'application/json',
                Accept: 'application/json',
              },
              body,
              signal: s,
              logger: l,
              error: deps.errorContext(what),
              // A disabled Metadata API or a query it refuses will not improve on a retry; the run falls back.
              retry: false,
            })
          ).text,
        l,
        s,
      ),
  };
}

/** Signs out with the latest token once a re-sign-in under way has settled; `logger` is the opening run's. */
async function closeSession(state: SignedInState, release: Release, logger: Logger): Promise<void> {
  const { settings, deps, server, auth } = state;
  if (!auth.stop()) return;
  try {
    await auth.settled();
    const last = auth.current();
    await signOut(
      { baseUrl: last.baseUrl, apiVersion: server.apiVersion, token: last.token, site: settings.site, logger },
      { http: deps.http },
    );
  } finally {
    release();
  }
}
