/**
 * The Tableau source: one REST session per run, views resolved by name/contentUrl/LUID, view data streamed to a temp
 * file and handed to the pipeline as a RawTable. All state (PAT locks, export slots, the HTTP agent) lives in the
 * instance; the composition root creates one source per process.
 *
 * This file is the interface and the wiring: the session lifecycle is `tableau-session.ts` (with server discovery in
 * `server-discovery.ts` and re-sign-in in `session-auth.ts`), fetching view data `view-data.ts`, browsing for
 * `views` and `validate --online` `content-listing.ts`.
 */
import type { DashboardRequest, DataFreshness, Source, SourceSession, ViewRequest } from '../../contracts/ports.js';
import { loadCaBundle } from '../../shared/ca-bundle.js';
import type { Clock, Sleep } from '../../shared/clock.js';
import { SourceError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import { defaultRetryPolicy, type RetryPolicy } from '../../shared/retry.js';
import { createKeyedMutex, createSemaphore } from './concurrency.js';
import {
  checkDashboardRequests,
  checkViewRequests,
  listWorkbookContent,
  readDataAges,
  type DashboardCheck,
  type TableauContentWorkbook,
  type ViewCheck,
} from './content-listing.js';
import { listDashboardSheets, readViewFreshness, type DashboardApis } from './dashboard-sheets.js';
import { credentialsHint, type TableauAuthConfig } from './tableau-auth.js';
import type { ErrorContext } from './tableau-errors.js';
import { createTableauHttp, type TableauHttp } from './tableau-http.js';
import { openTableauSession, type SessionSettings, type TableauSession } from './tableau-session.js';
import { fetchViewData, type ViewDataDeps } from './view-data.js';
import type { SiteApi } from './view-lookup.js';

export type { DashboardCheck, TableauContentView, TableauContentWorkbook, ViewCheck } from './content-listing.js';

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
  ): Promise<ViewCheck[]>;
  /** Lists each dashboard's sheets in one session (`validate --online`): the sheets, or the error a run would get. */
  checkDashboards(
    requests: readonly DashboardRequest[],
    ctx?: { readonly logger?: Logger; readonly signal?: AbortSignal },
  ): Promise<DashboardCheck[]>;
  /** Each view's data age in one session (`validate --online`); unknown, with the reason, when it cannot be read. */
  readDataAges(
    requests: readonly ViewRequest[],
    ctx?: { readonly logger?: Logger; readonly signal?: AbortSignal },
  ): Promise<DataFreshness[]>;
}

const DEFAULTS = {
  maxConcurrentExports: 2,
  pageSize: 100,
  connectTimeoutMs: 30_000,
  idleTimeoutMs: 5 * 60_000,
  maxBytes: 1024 * 1024 * 1024,
};

/**
 * Creates the Tableau source. See the module comment for the guarantees; the returned object is safe to share
 * between concurrent runs of one process.
 */
export function createTableauSource(options: TableauSourceOptions, deps: TableauSourceDeps): TableauSource {
  const site = options.site;
  const hint = credentialsHint(options.auth);
  const errorContext = (what: string): ErrorContext => ({ what, site, credentialsHint: hint });
  const settings: SessionSettings = {
    serverUrl: options.serverUrl.replace(/\/+$/, ''),
    site,
    apiVersion: options.apiVersion,
    auth: options.auth,
    pageSize: Math.min(1000, Math.max(1, Math.floor(options.pageSize ?? DEFAULTS.pageSize))),
  };
  const patLocks = createKeyedMutex();
  const viewDataDeps: ViewDataDeps = {
    site,
    auth: options.auth,
    maxBytes: options.maxBytes ?? DEFAULTS.maxBytes,
    exportSlots: createSemaphore(options.maxConcurrentExports ?? DEFAULTS.maxConcurrentExports),
    clock: deps.clock,
    errorContext,
  };
  const getHttp = createLazyHttp(options, deps);

  for (const secret of secretsOf(options.auth)) deps.redactor.addSecret(secret);

  const openSession = async (logger: Logger, signal: AbortSignal): Promise<TableauSession> =>
    openTableauSession(
      settings,
      { http: await getHttp(), patLocks, clock: deps.clock, redactor: deps.redactor, errorContext },
      logger,
      signal,
    );

  /** One session around `fn`, signed out before returning (the CLI's `views` and `validate --online`). */
  async function inOneSession<T>(
    ctx: { readonly logger?: Logger; readonly signal?: AbortSignal } | undefined,
    fn: (api: SiteApi, apis: DashboardApis) => Promise<T>,
  ): Promise<T> {
    const logger = ctx?.logger ?? deps.logger;
    const signal = ctx?.signal ?? new AbortController().signal;
    const session = await openSession(logger, signal);
    try {
      const site = session.siteApi(logger, signal);
      return await fn(site, { site, metadata: session.metadataApi(logger, signal), logger });
    } finally {
      await session.close();
    }
  }

  return {
    async open(ctx): Promise<SourceSession> {
      const session = await openSession(ctx.logger, ctx.signal);
      // One run's session: what it read of a workbook's data age holds for the run.
      const freshnessByWorkbook = new Map<string, Promise<DataFreshness>>();
      const apis = (c: { logger: Logger; signal: AbortSignal }): DashboardApis => ({
        site: session.siteApi(c.logger, c.signal),
        metadata: session.metadataApi(c.logger, c.signal),
        logger: c.logger,
      });
      return {
        fetchView: (request, fetchCtx) => fetchViewData(session, request, fetchCtx, viewDataDeps),
        listDashboardSheets: (request, c) => listDashboardSheets(apis(c), request),
        readFreshness: (request, c) => readViewFreshness(apis(c), request, freshnessByWorkbook),
        close: () => session.close(),
      };
    },
    checkViews: (requests, ctx) => inOneSession(ctx, (api) => checkViewRequests(api, requests)),
    checkDashboards: (requests, ctx) => inOneSession(ctx, (_, apis) => checkDashboardRequests(apis, requests)),
    readDataAges: (requests, ctx) => inOneSession(ctx, (_, apis) => readDataAges(apis, requests)),
    listContent: (filter, ctx) => inOneSession(ctx, (api) => listWorkbookContent(api, filter)),
  };
}

/**
 * The HTTP layer, created on first use (reading the CA file is I/O) and shared by every session; a failed creation
 * is retried by the next call.
 */
function createLazyHttp(options: TableauSourceOptions, deps: TableauSourceDeps): () => Promise<TableauHttp> {
  let httpPromise: Promise<TableauHttp> | undefined;

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

  return () => {
    httpPromise ??= createHttp().catch((err: unknown) => {
      httpPromise = undefined;
      throw err;
    });
    return httpPromise;
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
