/**
 * The Tableau source: one REST session per run, views resolved by name/contentUrl/LUID, view data streamed to a temp
 * file and handed to the pipeline as a RawTable. All state (PAT locks, export slots, the HTTP agent) lives in the
 * instance; the composition root creates one source per process.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FetchContext, RawTable, Source, SourceSession, ViewRequest } from '../../contracts/ports.js';
import { loadCaBundle } from '../../shared/ca-bundle.js';
import type { Clock, Sleep } from '../../shared/clock.js';
import { SourceError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import { defaultRetryPolicy, type RetryPolicy } from '../../shared/retry.js';
import type { Provenance } from '../../shared/table.js';
import { openCsvTable } from '../csv/read-csv.js';
import {
  chooseApiVersion,
  isApiVersion,
  legacyApiVersionForProduct,
  requireApiVersion,
  type ApiFeature,
} from './api-version.js';
import { createKeyedMutex, createSemaphore, type Release } from './concurrency.js';
import { credentialsHint, signIn, signOut, type SignedIn, type TableauAuthConfig } from './tableau-auth.js';
import { isSessionExpired, type ErrorContext } from './tableau-errors.js';
import { createTableauHttp, type TableauHttp } from './tableau-http.js';
import { parseLegacyAuthInfo, parseServerInfoResponse } from './tableau-xml.js';
import { buildViewDataQuery, describeViewFilters } from './view-filters.js';
import { findWorkbooks, listWorkbookViews, resolveView, type SiteApi } from './view-lookup.js';

export interface TableauSourceOptions {
  /** e.g. `https://tableau.example.com` or a Cloud pod `https://10ay.online.tableau.com`. */
  serverUrl: string;
  /** Site contentUrl; `""` is the Default site of Tableau Server. */
  site: string;
  /** `auto` (min of the server's and ours) or a `major.minor` version. */
  apiVersion: string;
  auth: TableauAuthConfig;
  /** PEM file of an extra CA to trust (on-prem servers with an internal CA). */
  caFile?: string | undefined;
  /** Concurrent view-data exports per site from this process (default 2). */
  maxConcurrentExports?: number | undefined;
  /** Items per page for list calls, 1..1000 (default 100). */
  pageSize?: number | undefined;
  /** TCP + TLS connect timeout (default 30 s). */
  connectTimeoutMs?: number | undefined;
  /** Longest silence while waiting for the response or between body chunks (default 5 min). */
  idleTimeoutMs?: number | undefined;
  /** Size cap of one view export (default 1 GiB). */
  maxBytes?: number | undefined;
  retry?: RetryPolicy | undefined;
}

export interface TableauSourceDeps {
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly random?: (() => number) | undefined;
}

/** One view as listed by `tableau-export views`. */
export interface TableauContentView {
  readonly id: string;
  readonly name: string;
  /** `Workbook/sheets/View`, usable as `contentUrl` in the config. */
  readonly contentUrl: string;
  readonly viewUrlName: string;
  /** `worksheet`, `dashboard`, `story`, or undefined when the server does not say. */
  readonly sheetType: string | undefined;
}

export interface TableauContentWorkbook {
  readonly id: string;
  readonly name: string;
  readonly contentUrl: string;
  readonly project: string | undefined;
  readonly views: readonly TableauContentView[];
}

export interface TableauSource extends Source {
  /**
   * Lists workbooks (all, or those named exactly `filter.workbook`) with their views, in one session that is
   * signed out before returning.
   */
  listContent(
    filter: { readonly workbook?: string | undefined },
    ctx?: { readonly logger?: Logger; readonly signal?: AbortSignal },
  ): Promise<TableauContentWorkbook[]>;
  /**
   * Resolves each view request in one session (signed out before returning), for `validate --online`: each result
   * is the view found, or the error that a run would get (not found, ambiguous with candidates...).
   */
  checkViews(
    requests: readonly ViewRequest[],
    ctx?: { readonly logger?: Logger; readonly signal?: AbortSignal },
  ): Promise<
    (
      | { readonly ok: true; readonly id: string; readonly sheetType: string | undefined }
      | { readonly ok: false; readonly error: unknown }
    )[]
  >;
}

const DEFAULTS = {
  maxConcurrentExports: 2,
  pageSize: 100,
  connectTimeoutMs: 30_000,
  idleTimeoutMs: 5 * 60_000,
  maxBytes: 1024 * 1024 * 1024,
};

/** PATs about to expire get a warning in every run report this many days ahead. */
const PAT_EXPIRY_WARNING_DAYS = 14;
/** Re-sign-ins allowed per session; past this, another process is probably fighting us for the same PAT. */
const MAX_REAUTHS_PER_SESSION = 3;

interface ServerFacts {
  readonly serverUrl: string;
  readonly productVersion: string;
  readonly configuredApiVersion: string;
  readonly apiVersion: string;
}

interface InternalSession {
  readonly server: ServerFacts;
  siteApi(logger: Logger, signal: AbortSignal): SiteApi;
  current(): SignedIn;
  withAuth<T>(fn: (s: SignedIn) => Promise<T>, logger: Logger, signal: AbortSignal): Promise<T>;
  close(): Promise<void>;
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

/** `177:05:38` (days:hh:mm) → days, or undefined when absent or in another form. */
export function parsePatDaysLeft(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+):(\d{1,2}):(\d{1,2})$/.exec(value.trim());
  return m === null ? undefined : Number(m[1]);
}

/** The browser URL of a view: `{server}/#/site/{site}/views/{workbook}/{sheet}` (no `/site/…` on the Default site). */
export function viewBrowserUrl(baseUrl: string, site: string, contentUrl: string): string {
  const path = contentUrl.replace('/sheets/', '/');
  return `${baseUrl}/#/${site === '' ? '' : `site/${site}/`}views/${path}`;
}

/**
 * Creates the Tableau source. See the module comment for the guarantees; the returned object is safe to share
 * between concurrent runs of one process.
 */
export function createTableauSource(options: TableauSourceOptions, deps: TableauSourceDeps): TableauSource {
  const serverUrl = options.serverUrl.replace(/\/+$/, '');
  const site = options.site;
  const pageSize = Math.min(1000, Math.max(1, Math.floor(options.pageSize ?? DEFAULTS.pageSize)));
  const maxBytes = options.maxBytes ?? DEFAULTS.maxBytes;
  const hint = credentialsHint(options.auth);
  const patLocks = createKeyedMutex();
  const exportSlots = createSemaphore(options.maxConcurrentExports ?? DEFAULTS.maxConcurrentExports);
  let httpPromise: Promise<TableauHttp> | undefined;

  for (const secret of secretsOf(options.auth)) deps.redactor.addSecret(secret);

  const errorContext = (what: string): ErrorContext => ({ what, site, credentialsHint: hint });

  async function createHttp(): Promise<TableauHttp> {
    const ca =
      options.caFile === undefined
        ? undefined
        : await loadCaBundle(options.caFile, {
            setting: 'tableau.caFile',
            error: (message, opts) => new SourceError('TABLEAU_CA_FILE', message, opts),
          });
    return createTableauHttp(
      {
        ca,
        connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
        idleTimeoutMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
        retry: options.retry ?? defaultRetryPolicy,
        userAgent: 'tableau-excel-export',
      },
      deps,
    );
  }

  function getHttp(): Promise<TableauHttp> {
    httpPromise ??= createHttp().catch((err: unknown) => {
      httpPromise = undefined;
      throw err;
    });
    return httpPromise;
  }

  /** Reads the server's versions (unauthenticated) and picks the API version to speak. */
  async function discover(http: TableauHttp, logger: Logger, signal: AbortSignal): Promise<ServerFacts> {
    const configured = options.apiVersion;
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
    // Servers older than API 2.4 have no serverInfo; their product version comes from the legacy auth probe.
    const res = await http.request({
      method: 'GET',
      url: `${serverUrl}/auth?format=xml`,
      headers: { Accept: 'application/xml' },
      signal,
      logger,
      error: errorContext(`read the legacy version probe of ${serverUrl}`),
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

  async function openInternal(logger: Logger, signal: AbortSignal): Promise<InternalSession> {
    const http = await getHttp();
    let release: Release = () => undefined;
    if (options.auth.type === 'pat') {
      const key = `pat:${options.auth.tokenName}`;
      if (patLocks.isHeld(key)) {
        logger.info(
          `waiting for another run to sign out: Tableau allows one session per personal access token ('${options.auth.tokenName}')`,
        );
      }
      release = await patLocks.acquire(key, signal);
    }
    try {
      const server = await discover(http, logger, signal);
      requireApiVersion(server.apiVersion, signInFeature(options.auth), server);
      const signInWith = (s: AbortSignal, l: Logger): Promise<SignedIn> =>
        signIn(
          { serverUrl, apiVersion: server.apiVersion, site, auth: options.auth, signal: s, logger: l },
          { http, clock: deps.clock, redactor: deps.redactor },
        );
      let current = await signInWith(signal, logger);
      logger.info({ site, apiVersion: server.apiVersion, server: current.baseUrl }, 'signed in to Tableau');
      let reauth: Promise<SignedIn> | undefined;
      let reauths = 0;
      let closed = false;

      const withAuth = async <T>(fn: (s: SignedIn) => Promise<T>, l: Logger, s: AbortSignal): Promise<T> => {
        const used = current;
        try {
          return await fn(used);
        } catch (err) {
          if (!isSessionExpired(err) || closed) throw err;
          if (current === used) {
            if (reauths >= MAX_REAUTHS_PER_SESSION) throw err;
            reauth ??= (async () => {
              reauths++;
              l.warn('Tableau session expired or was replaced (401002); signing in again');
              current = await signInWith(s, l);
              return current;
            })().finally(() => {
              reauth = undefined;
            });
            await reauth;
          }
          // One retry with the fresh token; a second 401002 is final.
          return await fn(current);
        }
      };

      const siteApi = (l: Logger, s: AbortSignal): SiteApi => ({
        site,
        pageSize,
        get: (path, what) =>
          withAuth(
            async (session) =>
              (
                await http.request({
                  method: 'GET',
                  url: `${session.baseUrl}/api/${server.apiVersion}/sites/${session.siteId}/${path}`,
                  headers: { 'X-Tableau-Auth': session.token, Accept: 'application/xml' },
                  signal: s,
                  logger: l,
                  error: errorContext(what),
                })
              ).text,
            l,
            s,
          ),
      });

      const close = async (): Promise<void> => {
        if (closed) return;
        closed = true;
        try {
          await reauth?.catch(() => undefined);
          await signOut(
            { baseUrl: current.baseUrl, apiVersion: server.apiVersion, token: current.token, site, logger },
            { http },
          );
        } finally {
          release();
        }
      };
      return { server, siteApi, current: () => current, withAuth, close };
    } catch (err) {
      release();
      throw err;
    }
  }

  function patExpiryWarnings(session: SignedIn): string[] {
    if (options.auth.type !== 'pat') return [];
    const days = parsePatDaysLeft(session.estimatedTimeToExpiration);
    if (days === undefined || days >= PAT_EXPIRY_WARNING_DAYS) return [];
    return [
      `personal access token '${options.auth.tokenName}' expires in about ${days} day(s); create a new one and update the secret before then`,
    ];
  }

  async function fetchView(session: InternalSession, request: ViewRequest, ctx: FetchContext): Promise<RawTable> {
    const { server } = session;
    requireApiVersion(server.apiVersion, 'Query View Data (CSV export)', server);
    if (request.viewId !== undefined && request.viewId !== '')
      requireApiVersion(server.apiVersion, 'Get View by id', server);
    const query = buildViewDataQuery(request);
    const resolved = await resolveView(session.siteApi(ctx.logger, ctx.signal), request);
    const { view, workbook } = resolved;
    const what = `export data of view '${view.name}' (workbook '${workbook.name}', id ${view.id})`;
    await mkdir(ctx.tempDir, { recursive: true });
    const file = join(ctx.tempDir, `tableau-${view.id}-${randomUUID()}.csv`);
    const http = await getHttp();
    const release = await exportSlots.acquire(ctx.signal);
    let bytes: number;
    try {
      const result = await session.withAuth(
        (s) =>
          http.download(
            {
              method: 'GET',
              url: `${s.baseUrl}/api/${server.apiVersion}/sites/${s.siteId}/views/${view.id}/data?${query}`,
              headers: { 'X-Tableau-Auth': s.token, Accept: 'text/csv, */*' },
              signal: ctx.signal,
              logger: ctx.logger,
              error: errorContext(what),
            },
            file,
            { maxBytes },
          ),
        ctx.logger,
        ctx.signal,
      );
      bytes = result.bytes;
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    } finally {
      release();
    }
    const current = session.current();
    const provenance: Provenance = {
      source: 'tableau',
      server: current.baseUrl,
      productVersion: server.productVersion,
      apiVersion: server.apiVersion,
      site: site === '' ? '(Default)' : site,
      ...(workbook.projectName === undefined ? {} : { project: workbook.projectName }),
      workbook: workbook.name,
      view: view.name,
      viewId: view.id,
      contentUrl: view.contentUrl,
      viewUrl: viewBrowserUrl(current.baseUrl, site, view.contentUrl),
      filters: describeViewFilters(request.filters, request.parameters),
      maxAge: String(request.maxAgeMinutes),
      fetchedAt: deps.clock.now().toISOString(),
    };
    ctx.logger.info(
      { viewId: view.id, bytes, filters: provenance['filters'], maxAge: request.maxAgeMinutes },
      `fetched Tableau view '${view.name}'`,
    );
    try {
      return await openCsvTable(file, {
        provenance,
        bytes,
        warnings: [...resolved.warnings, ...patExpiryWarnings(current)],
        removeOnDispose: true,
        label: `Tableau view '${view.name}' of workbook '${workbook.name}'`,
      });
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
  }

  return {
    async open(ctx): Promise<SourceSession> {
      const session = await openInternal(ctx.logger, ctx.signal);
      return {
        fetchView: (request, fetchCtx) => fetchView(session, request, fetchCtx),
        close: () => session.close(),
      };
    },

    async checkViews(requests, ctx) {
      const logger = ctx?.logger ?? deps.logger;
      const signal = ctx?.signal ?? new AbortController().signal;
      const session = await openInternal(logger, signal);
      try {
        const api = session.siteApi(logger, signal);
        const results = [];
        for (const request of requests) {
          try {
            const { view } = await resolveView(api, request);
            results.push({ ok: true as const, id: view.id, sheetType: view.sheetType });
          } catch (error) {
            results.push({ ok: false as const, error });
          }
        }
        return results;
      } finally {
        await session.close();
      }
    },

    async listContent(filter, ctx) {
      const logger = ctx?.logger ?? deps.logger;
      const signal = ctx?.signal ?? new AbortController().signal;
      const session = await openInternal(logger, signal);
      try {
        const api = session.siteApi(logger, signal);
        const workbooks = await findWorkbooks(api, { name: filter.workbook });
        const out: TableauContentWorkbook[] = [];
        for (const wb of workbooks) {
          const views = await listWorkbookViews(api, wb);
          out.push({
            id: wb.id,
            name: wb.name,
            contentUrl: wb.contentUrl,
            project: wb.projectName,
            views: views.map((v) => ({
              id: v.id,
              name: v.name,
              contentUrl: v.contentUrl,
              viewUrlName: v.viewUrlName,
              sheetType: v.sheetType,
            })),
          });
        }
        return out.sort((a, b) => (a.project ?? '').localeCompare(b.project ?? '') || a.name.localeCompare(b.name));
      } finally {
        await session.close();
      }
    },
  };
}

function secretsOf(auth: TableauAuthConfig): string[] {
  switch (auth.type) {
    case 'pat':
      return [auth.tokenSecret];
    case 'connected-app':
      return [auth.secretValue];
    case 'password':
      return [auth.password];
  }
}
