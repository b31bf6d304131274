/**
 * Fetching one view's data in a session: resolve the view, spool its CSV export (with the request's filters,
 * parameters and maxAge) to a temp file under the per-site export cap, and open that file as a RawTable with its
 * provenance. The temp file is removed on every failure, and by the table's dispose() otherwise.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FetchContext, RawTable, ViewRequest } from '../../contracts/ports.js';
import type { Clock } from '../../shared/clock.js';
import type { Provenance } from '../../shared/table.js';
import { openCsvTable } from '../csv/read-csv.js';
import { requireApiVersion } from './api-version.js';
import type { Semaphore } from './concurrency.js';
import { patExpiryWarnings } from './pat-expiry.js';
import type { SignedIn, TableauAuthConfig } from './tableau-auth.js';
import type { ErrorContext } from './tableau-errors.js';
import type { TableauSession } from './tableau-session.js';
import { buildViewDataQuery, describeViewFilters } from './view-filters.js';
import { resolveView, type ResolvedView } from './view-lookup.js';

export interface ViewDataDeps {
  readonly site: string;
  /** The configured sign-in, for the PAT expiry warning. */
  readonly auth: TableauAuthConfig;
  /** Size cap of one view export. */
  readonly maxBytes: number;
  /** The per-site export cap, shared by every session of the source. */
  readonly exportSlots: Semaphore;
  readonly clock: Clock;
  readonly errorContext: (what: string) => ErrorContext;
}

/** The browser URL of a view: `{server}/#/site/{site}/views/{workbook}/{sheet}` (no `/site/…` on the Default site). */
export function viewBrowserUrl(baseUrl: string, site: string, contentUrl: string): string {
  const path = contentUrl.replace('/sheets/', '/');
  return `${baseUrl}/#/${site === '' ? '' : `site/${site}/`}views/${path}`;
}

/**
 * Fetches the data of the view `request` names, as a table backed by a temp file in `ctx.tempDir`.
 *
 * @throws SourceError `TABLEAU_SERVER_TOO_OLD` when the API version cannot export data (or look views up by id);
 *   the view lookup's errors (not found, ambiguous...); the HTTP layer's (`TABLEAU_TOO_LARGE`, `TABLEAU_TRUNCATED`...);
 *   the CSV reader's for a malformed export.
 */
export async function fetchViewData(
  session: TableauSession,
  request: ViewRequest,
  ctx: FetchContext,
  deps: ViewDataDeps,
): Promise<RawTable> {
  const { server } = session;
  requireApiVersion(server.apiVersion, 'Query View Data (CSV export)', server);
  if (request.viewId !== undefined && request.viewId !== '')
    requireApiVersion(server.apiVersion, 'Get View by id', server);
  const query = buildViewDataQuery(request);
  const resolved = await resolveView(session.siteApi(ctx.logger, ctx.signal), request);
  const { view, workbook } = resolved;
  await mkdir(ctx.tempDir, { recursive: true });
  const file = join(ctx.tempDir, `tableau-${view.id}-${randomUUID()}.csv`);
  const bytes = await spoolViewData(session, resolved, query, file, ctx, deps);
  const current = session.current();
  const provenance = viewProvenance(session, current, resolved, request, deps);
  ctx.logger.info(
    { viewId: view.id, bytes, filters: provenance['filters'], maxAge: request.maxAgeMinutes },
    `fetched Tableau view '${view.name}'`,
  );
  try {
    return await openCsvTable(file, {
      provenance,
      bytes,
      warnings: [...resolved.warnings, ...patExpiryWarnings(deps.auth, current)],
      removeOnDispose: true,
      label: `Tableau view '${view.name}' of workbook '${workbook.name}'`,
    });
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
}

/** Downloads the view's CSV export to `file` once an export slot is free; returns the bytes written. */
async function spoolViewData(
  session: TableauSession,
  { view, workbook }: ResolvedView,
  query: string,
  file: string,
  ctx: FetchContext,
  deps: ViewDataDeps,
): Promise<number> {
  const { server, http } = session;
  const what = `export data of view '${view.name}' (workbook '${workbook.name}', id ${view.id})`;
  const release = await deps.exportSlots.acquire(ctx.signal);
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
            error: deps.errorContext(what),
          },
          file,
          { maxBytes: deps.maxBytes },
        ),
      ctx.logger,
      ctx.signal,
    );
    return result.bytes;
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  } finally {
    release();
  }
}

function viewProvenance(
  session: TableauSession,
  current: SignedIn,
  { view, workbook }: ResolvedView,
  request: ViewRequest,
  deps: ViewDataDeps,
): Provenance {
  const { server } = session;
  const { site } = deps;
  return {
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
}
