/**
 * Whole dashboards and data age, in one session. `/views/{id}/data` of a dashboard returns one worksheet only, so a
 * dashboard is exported sheet by sheet: the Metadata API says which worksheets it shows, in its order, and REST says
 * which of them are published as views (a hidden sheet is not, and cannot be exported). Without the Metadata API the
 * workbook's worksheet views stand in, with a warning. The data age of a view is the oldest extract refresh behind
 * its workbook, or "live" when no data source has an extract.
 */
import type { DashboardRequest, DashboardSheets, DataFreshness, ViewRequest } from '../../contracts/ports.js';
import { AppError, SourceError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import {
  DASHBOARD_SHEETS_QUERY,
  dashboardSheetsData,
  queryMetadata,
  readDashboards,
  readFreshness,
  WORKBOOK_FRESHNESS_QUERY,
  workbookFreshnessData,
  type MetadataApi,
  type MetadataDashboard,
} from './metadata-api.js';
import type { TableauView, TableauWorkbook } from './tableau-xml.js';
import { listWorkbookViews, resolveView, type SiteApi } from './view-lookup.js';

export interface DashboardApis {
  readonly site: SiteApi;
  readonly metadata: MetadataApi;
  readonly logger: Logger;
}

const isWorksheet = (v: TableauView): boolean => v.sheetType === undefined || v.sheetType === 'worksheet';

/**
 * The worksheets of the dashboard `request` names, in the dashboard's order.
 * @throws SourceError from the view lookup (not found, ambiguous), `TABLEAU_NOT_A_DASHBOARD` for a worksheet or story.
 */
export async function listDashboardSheets(apis: DashboardApis, request: DashboardRequest): Promise<DashboardSheets> {
  const { view, workbook } = await resolveView(apis.site, {
    workbook: request.workbook,
    view: request.name,
    project: request.project,
    contentUrl: request.contentUrl,
    filters: {},
    parameters: {},
    maxAgeMinutes: 1,
  });
  const label = `dashboard '${view.name}' of workbook '${workbook.name}'`;
  if (view.sheetType !== undefined && view.sheetType !== 'dashboard') {
    throw new SourceError('TABLEAU_NOT_A_DASHBOARD', `${label.replace('dashboard', 'view')} is a ${view.sheetType}`, {
      hint: 'export it with `view:` (or `contentUrl:`) instead of `dashboard:`',
    });
  }
  const views = await listWorkbookViews(apis.site, workbook);
  let found: MetadataDashboard | undefined;
  let reason: string;
  try {
    const data = await queryMetadata(
      apis.metadata,
      { query: DASHBOARD_SHEETS_QUERY, variables: { luid: workbook.id }, what: `list the sheets of ${label}` },
      dashboardSheetsData,
    );
    const dashboards = readDashboards(data);
    found = dashboards.find((d) => d.luid === view.id) ?? dashboards.find((d) => d.name === view.name);
    reason = `${label} is not in the Metadata API yet (indexing may lag behind a publish)`;
  } catch (err) {
    if (!(err instanceof SourceError && err.code === 'TABLEAU_METADATA_UNAVAILABLE')) throw err;
    reason = err.userMessage;
  }
  if (found === undefined) return fallbackToWorkbookViews(apis, { view, workbook, views, label, reason });
  return sheetsOnDashboard(found, { view, workbook, views, label });
}

interface DashboardFacts {
  readonly view: TableauView;
  readonly workbook: TableauWorkbook;
  /** The workbook's views (REST): what is published, so exportable. */
  readonly views: readonly TableauView[];
  readonly label: string;
}

/** The dashboard's sheets matched to published views; the others are hidden and named in a warning. */
function sheetsOnDashboard(found: MetadataDashboard, facts: DashboardFacts): DashboardSheets {
  const byId = new Map(facts.views.map((v) => [v.id, v]));
  const sheets = found.sheets.map((s) => {
    const published =
      (s.luid === undefined ? undefined : byId.get(s.luid)) ??
      facts.views.find((v) => v.name === s.name && isWorksheet(v));
    return { name: published?.name ?? s.name, viewId: published?.id };
  });
  const hidden = sheets.filter((s) => s.viewId === undefined).map((s) => `'${s.name}'`);
  const warnings =
    hidden.length === 0
      ? []
      : [
          `${facts.label} shows ${hidden.length === 1 ? 'a sheet' : 'sheets'} that ${hidden.length === 1 ? 'is' : 'are'} hidden (not published as a view) and cannot be exported: ${hidden.join(', ')}; unhide ${hidden.length === 1 ? 'it' : 'them'} in Tableau and republish the workbook to export ${hidden.length === 1 ? 'it' : 'them'} too`,
        ];
  return { workbook: facts.workbook.name, dashboard: facts.view.name, via: 'metadata', sheets, warnings };
}

/** Every worksheet view of the workbook, in the workbook's order, with a warning saying why. */
function fallbackToWorkbookViews(apis: DashboardApis, facts: DashboardFacts & { reason: string }): DashboardSheets {
  const worksheets = facts.views.filter(isWorksheet);
  const warning = `could not read which sheets ${facts.label} shows (${facts.reason}); exported every worksheet of the workbook instead: ${worksheets.map((v) => `'${v.name}'`).join(', ')} (sheets hidden on the dashboard cannot be named)`;
  apis.logger.warn(warning);
  return {
    workbook: facts.workbook.name,
    dashboard: facts.view.name,
    via: 'workbook-views',
    sheets: worksheets.map((v) => ({ name: v.name, viewId: v.id })),
    warnings: [warning],
  };
}

/**
 * When the data behind the view `request` names was last refreshed. An unavailable Metadata API, or a workbook it
 * has not indexed, gives `unknown` with the reason; lookup errors (view not found...) are thrown as a fetch would.
 */
export async function readViewFreshness(
  apis: DashboardApis,
  request: ViewRequest,
  byWorkbook?: Map<string, Promise<DataFreshness>>,
): Promise<DataFreshness> {
  const { workbook } = await resolveView(apis.site, request);
  // The sheets of one dashboard share their workbook: one query per workbook and session is enough.
  const known = byWorkbook?.get(workbook.id);
  if (known !== undefined) return known;
  const read = queryWorkbookFreshness(apis, workbook);
  byWorkbook?.set(workbook.id, read);
  return read;
}

async function queryWorkbookFreshness(apis: DashboardApis, workbook: TableauWorkbook): Promise<DataFreshness> {
  try {
    const data = await queryMetadata(
      apis.metadata,
      {
        query: WORKBOOK_FRESHNESS_QUERY,
        variables: { luid: workbook.id },
        what: `read when the data of workbook '${workbook.name}' was refreshed`,
      },
      workbookFreshnessData,
    );
    return readFreshness(data, workbook.name);
  } catch (err) {
    if (err instanceof AppError && err.code === 'TABLEAU_METADATA_UNAVAILABLE')
      return { kind: 'unknown', reason: err.message };
    throw err;
  }
}
