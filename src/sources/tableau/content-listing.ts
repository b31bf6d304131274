/**
 * Browsing a site without exporting anything: the workbooks and views `tableau-export views` lists, and the view
 * checks of `validate --online` (each request resolved as a run would resolve it).
 */
import type { DashboardRequest, DashboardSheets, DataFreshness, ViewRequest } from '../../contracts/ports.js';
import { listDashboardSheets, readViewFreshness, type DashboardApis } from './dashboard-sheets.js';
import { findWorkbooks, listWorkbookViews, resolveView, type SiteApi } from './view-lookup.js';

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

/** The view found for one request, or the error a run would get (not found, ambiguous with candidates...). */
export type ViewCheck =
  | { readonly ok: true; readonly id: string; readonly sheetType: string | undefined }
  | { readonly ok: false; readonly error: unknown };

/** Resolves each request in turn; never throws for a request that does not resolve (see {@link ViewCheck}). */
export async function checkViewRequests(api: SiteApi, requests: readonly ViewRequest[]): Promise<ViewCheck[]> {
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
}

/** The sheets found for one dashboard, or the error a run would get. */
export type DashboardCheck =
  { readonly ok: true; readonly sheets: DashboardSheets } | { readonly ok: false; readonly error: unknown };

/** Lists each dashboard's sheets in turn; never throws for a dashboard that does not resolve. */
export async function checkDashboardRequests(
  apis: DashboardApis,
  requests: readonly DashboardRequest[],
): Promise<DashboardCheck[]> {
  const results: DashboardCheck[] = [];
  for (const request of requests) {
    try {
      results.push({ ok: true, sheets: await listDashboardSheets(apis, request) });
    } catch (error) {
      results.push({ ok: false, error });
    }
  }
  return results;
}

/** Each view's data age; a view that cannot be read has an `unknown` age with the reason. */
export async function readDataAges(apis: DashboardApis, requests: readonly ViewRequest[]): Promise<DataFreshness[]> {
  const results: DataFreshness[] = [];
  for (const request of requests) {
    try {
      results.push(await readViewFreshness(apis, request));
    } catch (error) {
      results.push({ kind: 'unknown', reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return results;
}

/**
 * Workbooks (all, or those named exactly `filter.workbook`) with their views, sorted by project then name.
 * @throws the site calls' errors.
 */
export async function listWorkbookContent(
  api: SiteApi,
  filter: { readonly workbook?: string | undefined },
): Promise<TableauContentWorkbook[]> {
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
}
