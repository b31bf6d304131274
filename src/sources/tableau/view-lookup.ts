/**
 * Finding views: by workbook and view name (optionally project), by `contentUrl` (`Workbook/sheets/View`) or by LUID.
 * Names are not unique on a site (two workbooks can share a name, `viewUrlName` repeats across workbooks), so every
 * lookup ends in an exact client-side match and fails on zero or several candidates, listing them.
 */
import { SourceError } from '../../shared/errors.js';
import type { ViewRequest } from '../../contracts/ports.js';
import {
  parseViewResponse,
  parseViewsPage,
  parseWorkbookResponse,
  parseWorkbooksPage,
  type Page,
  type TableauView,
  type TableauWorkbook,
} from './tableau-xml.js';

/** Authenticated GETs below `/api/{v}/sites/{siteLuid}/`. */
export interface SiteApi {
  /** `path` is relative to the site, e.g. `views?pageSize=100`; returns the XML body of a 2xx. */
  get(path: string, what: string): Promise<string>;
  /** Site contentUrl, for messages. */
  readonly site: string;
  /** Page size for list calls (1..1000). */
  readonly pageSize: number;
}

export interface ResolvedView {
  readonly view: TableauView;
  readonly workbook: TableauWorkbook;
  /** Dashboard/story warnings for the run report. */
  readonly warnings: readonly string[];
}

/** Walks pages until `pageNumber * pageSize >= totalAvailable`; no `<pagination>` means one page. Dedupes by id. */
export async function listAllPages<T extends { readonly id: string }>(
  fetchPage: (pageNumber: number) => Promise<Page<T>>,
  maxPages = 10_000,
): Promise<T[]> {
  const byId = new Map<string, T>();
  for (let pageNumber = 1; pageNumber <= maxPages; pageNumber++) {
    const page = await fetchPage(pageNumber);
    const before = byId.size;
    for (const item of page.items) if (!byId.has(item.id)) byId.set(item.id, item);
    const p = page.pagination;
    if (p === undefined || page.items.length === 0) break;
    if (p.pageNumber * p.pageSize >= p.totalAvailable) break;
    // A server that keeps answering the same page would loop forever; stop when a page brings nothing new.
    if (byId.size === before) break;
  }
  return [...byId.values()];
}

/** Characters that Tableau's `filter=` syntax cannot carry, even encoded (then we filter on our side). */
const UNSAFE_FILTER_VALUE = /[,&:]/;

/** `filter=a:eq:x,b:eq:y` with values percent-encoded, or undefined when a value cannot be expressed. */
export function buildEqFilter(pairs: readonly (readonly [string, string | undefined])[]): string | undefined {
  const present = pairs.filter((p): p is readonly [string, string] => p[1] !== undefined);
  if (present.length === 0 || present.some(([, v]) => UNSAFE_FILTER_VALUE.test(v) || v === '')) return undefined;
  return present.map(([f, v]) => `${f}:eq:${encodeURIComponent(v)}`).join(',');
}

function listPath(resource: string, filter: string | undefined, pageSize: number, pageNumber: number): string {
  return `${resource}?${filter === undefined ? '' : `filter=${filter}&`}pageSize=${pageSize}&pageNumber=${pageNumber}`;
}

/** Workbooks with exactly this name (and project, when given); all workbooks when no name is given. */
export async function findWorkbooks(
  api: SiteApi,
  match: { name?: string | undefined; project?: string | undefined },
): Promise<TableauWorkbook[]> {
  const filter = buildEqFilter([
    ['name', match.name],
    ['projectName', match.project],
  ]);
  const all = await listAllPages(async (n) =>
    parseWorkbooksPage(
      await api.get(listPath('workbooks', filter, api.pageSize, n), `list workbooks on site '${api.site}'`),
    ),
  );
  // Server-side filters may be case-insensitive or skipped; the exact match is ours.
  return all.filter(
    (w) =>
      (match.name === undefined || w.name === match.name) &&
      (match.project === undefined || w.projectName === match.project),
  );
}

/** Views of one workbook (Query Views for Workbook; not paginated). */
export async function listWorkbookViews(
  api: SiteApi,
  workbook: { readonly id: string; readonly name: string },
): Promise<TableauView[]> {
  const page = parseViewsPage(
    await api.get(`workbooks/${workbook.id}/views`, `list views of workbook '${workbook.name}'`),
    workbook,
  );
  return [...page.items].map((v) => (v.workbookName === undefined ? { ...v, workbookName: workbook.name } : v));
}

async function getWorkbook(api: SiteApi, id: string): Promise<TableauWorkbook> {
  return parseWorkbookResponse(await api.get(`workbooks/${id}`, `get workbook ${id}`));
}

function listingHint(site: string): string {
  return `run \`tableau-export views --site ${site === '' ? '""' : site}\` to list the workbooks and views you can export`;
}

function quoteList(names: readonly string[], max = 15): string {
  const unique = [...new Set(names)].sort((a, b) => a.localeCompare(b));
  if (unique.length === 0) return '(none)';
  const shown = unique
    .slice(0, max)
    .map((n) => `'${n}'`)
    .join(', ');
  return unique.length > max ? `${shown} and ${unique.length - max} more` : shown;
}

function describeCandidate(view: TableauView, workbook: TableauWorkbook | undefined): string {
  const project = workbook?.projectName ?? view.projectName;
  return `'${view.name}' in workbook '${workbook?.name ?? view.workbookName ?? '?'}'${project === undefined ? '' : ` (project '${project}')`}, contentUrl ${view.contentUrl}, id ${view.id}`;
}

/** Normalises `Workbook/sheets/View`, `Workbook/View` or `views/Workbook/View` to `Workbook/sheets/View`. */
export function normaliseViewContentUrl(contentUrl: string): string {
  const trimmed = contentUrl
    .trim()
    .replace(/^\/+|\/+$/g, '')
    .replace(/^views\//, '');
  if (trimmed.includes('/sheets/')) return trimmed;
  const parts = trimmed.split('/');
  return parts.length === 2 ? `${parts[0] ?? ''}/sheets/${parts[1] ?? ''}` : trimmed;
}

/** Warnings for views whose data export is partial: dashboards and stories. */
export function sheetTypeWarnings(view: TableauView, workbookName: string, siblings: readonly TableauView[]): string[] {
  if (view.sheetType !== 'dashboard' && view.sheetType !== 'story') return [];
  const worksheets = siblings
    .filter((v) => v.id !== view.id && (v.sheetType === undefined || v.sheetType === 'worksheet'))
    .map((v) => v.name);
  const instead =
    worksheets.length === 0
      ? 'publish its worksheets as views and export those'
      : `export a worksheet instead: ${quoteList(worksheets, 20)}`;
  const what =
    view.sheetType === 'dashboard'
      ? 'is a dashboard: Tableau exports only the data of one of its worksheets (the first, alphabetically)'
      : 'is a story: Tableau does not export story data reliably';
  // A dashboard can be exported whole, one sheet per worksheet it shows.
  const whole =
    view.sheetType === 'dashboard'
      ? `, or every sheet it shows with \`dashboard: { workbook: ${workbookName}, name: ${view.name} }\``
      : '';
  return [`view '${view.name}' of workbook '${workbookName}' ${what}; ${instead}${whole}`];
}

async function withSheetWarnings(
  api: SiteApi,
  view: TableauView,
  workbook: TableauWorkbook,
  siblings?: readonly TableauView[],
): Promise<ResolvedView> {
  if (view.sheetType !== 'dashboard' && view.sheetType !== 'story') return { view, workbook, warnings: [] };
  const all = siblings ?? (await listWorkbookViews(api, workbook));
  return { view, workbook, warnings: sheetTypeWarnings(view, workbook.name, all) };
}

async function resolveById(api: SiteApi, viewId: string): Promise<ResolvedView> {
  let view: TableauView;
  try {
    view = parseViewResponse(await api.get(`views/${encodeURIComponent(viewId)}`, `get view ${viewId}`));
  } catch (err) {
    if (err instanceof SourceError && err.details['status'] === 404 && err.code !== 'TABLEAU_SITE_NOT_FOUND') {
      throw new SourceError('TABLEAU_VIEW_NOT_FOUND', `view id '${viewId}' not found on site '${api.site}'`, {
        cause: err,
        hint: `check viewId (a LUID); ${listingHint(api.site)}`,
      });
    }
    throw err;
  }
  const workbook = await getWorkbook(api, requireWorkbookId(view));
  return withSheetWarnings(api, { ...view, workbookName: workbook.name }, workbook);
}

function requireWorkbookId(view: TableauView): string {
  if (view.workbookId === undefined) {
    throw new SourceError('TABLEAU_BAD_RESPONSE', `view '${view.name}' (${view.id}) came without its workbook id`, {
      hint: 'the server may run an unusual API version; set tableau.apiVersion explicitly',
    });
  }
  return view.workbookId;
}

async function resolveByContentUrl(api: SiteApi, rawContentUrl: string): Promise<ResolvedView> {
  const contentUrl = normaliseViewContentUrl(rawContentUrl);
  const sheet = contentUrl.slice(contentUrl.indexOf('/sheets/') + '/sheets/'.length);
  const filter = buildEqFilter([['viewUrlName', sheet]]);
  const candidates = await listAllPages(async (n) =>
    parseViewsPage(
      await api.get(listPath('views', filter, api.pageSize, n), `find view '${contentUrl}' on site '${api.site}'`),
    ),
  );
  const matches = candidates.filter((v) => v.contentUrl === contentUrl);
  if (matches.length !== 1) {
    const sameSheet = candidates.filter((v) => v.viewUrlName === sheet).map((v) => v.contentUrl);
    throw new SourceError(
      matches.length === 0 ? 'TABLEAU_VIEW_NOT_FOUND' : 'TABLEAU_VIEW_AMBIGUOUS',
      matches.length === 0
        ? `view contentUrl '${contentUrl}' not found on site '${api.site}'; views with the same sheet name: ${quoteList(sameSheet)}`
        : `view contentUrl '${contentUrl}' matches ${matches.length} views on site '${api.site}': ${matches.map((v) => describeCandidate(v, undefined)).join('; ')}`,
      { hint: `contentUrl is 'Workbook/sheets/View' as in the view's URL; ${listingHint(api.site)}` },
    );
  }
  const view = matches[0] as TableauView;
  const workbook = await getWorkbook(api, requireWorkbookId(view));
  return withSheetWarnings(api, { ...view, workbookName: workbook.name }, workbook);
}

async function resolveByName(
  api: SiteApi,
  workbookName: string,
  viewName: string,
  project: string | undefined,
): Promise<ResolvedView> {
  const inProject = project === undefined ? '' : ` in project '${project}'`;
  const workbooks = await findWorkbooks(api, { name: workbookName, project });
  if (workbooks.length === 0) {
    const all = await findWorkbooks(api, {});
    throw new SourceError(
      'TABLEAU_VIEW_NOT_FOUND',
      `workbook '${workbookName}'${inProject} not found on site '${api.site}' (looking for view '${viewName}'); workbooks on the site: ${quoteList(all.map((w) => w.name))}`,
      { hint: `workbook names are case-sensitive; ${listingHint(api.site)}` },
    );
  }
  const found: { view: TableauView; workbook: TableauWorkbook; siblings: TableauView[] }[] = [];
  const allViews: string[] = [];
  for (const workbook of workbooks) {
    const views = await listWorkbookViews(api, workbook);
    allViews.push(...views.map((v) => v.name));
    // Exact caption first; then the URL name (`PipelinebyStage`); then a case-insensitive caption.
    const exact = views.filter((v) => v.name === viewName);
    const byUrl = exact.length > 0 ? exact : views.filter((v) => v.viewUrlName === viewName);
    const loose = byUrl.length > 0 ? byUrl : views.filter((v) => v.name.toLowerCase() === viewName.toLowerCase());
    for (const view of loose) found.push({ view: { ...view, workbookName: workbook.name }, workbook, siblings: views });
  }
  if (found.length === 0) {
    throw new SourceError(
      'TABLEAU_VIEW_NOT_FOUND',
      `view '${viewName}' not found in workbook '${workbookName}'${inProject} on site '${api.site}'; candidates: ${quoteList(allViews)}`,
      { hint: listingHint(api.site) },
    );
  }
  if (found.length > 1) {
    throw new SourceError(
      'TABLEAU_VIEW_AMBIGUOUS',
      `view '${viewName}' in workbook '${workbookName}'${inProject} matches ${found.length} views on site '${api.site}': ${found.map((f) => describeCandidate(f.view, f.workbook)).join('; ')}`,
      { hint: `add \`project\` to the view, or address it by \`contentUrl\` or \`viewId\`; ${listingHint(api.site)}` },
    );
  }
  const only = found[0] as (typeof found)[number];
  return withSheetWarnings(api, only.view, only.workbook, only.siblings);
}

/**
 * Resolves a configured view to its LUID and workbook, with dashboard/story warnings.
 * @throws SourceError `TABLEAU_VIEW_NOT_FOUND` / `TABLEAU_VIEW_AMBIGUOUS` (listing candidates), `TABLEAU_VIEW_REQUEST_INVALID`.
 */
export async function resolveView(api: SiteApi, request: ViewRequest): Promise<ResolvedView> {
  if (request.viewId !== undefined && request.viewId !== '') return resolveById(api, request.viewId);
  if (request.contentUrl !== undefined && request.contentUrl !== '')
    return resolveByContentUrl(api, request.contentUrl);
  if (request.workbook !== undefined && request.view !== undefined)
    return resolveByName(api, request.workbook, request.view, request.project);
  throw new SourceError(
    'TABLEAU_VIEW_REQUEST_INVALID',
    'a Tableau view needs `workbook` and `view`, or `contentUrl`, or `viewId`',
    {
      hint: listingHint(api.site),
    },
  );
}
