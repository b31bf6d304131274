/**
 * Site content: Query Views for Site (filter, paging), Get View (API ≥ 3.1), Query Workbooks for Site, Query
 * Workbook and Query Views for Workbook. Every one needs the `tableau:content:read` scope of a connected-app session.
 */
import { compareVersions } from '../rest-version.js';
import type { SimView, SimWorkbook } from '../sim-content.js';
import type { SimResponse, TableauReplies } from '../sim-reply.js';
import { hasScope, type Session } from '../sim-sessions.js';
import type { TableauSimState } from '../sim-state.js';
import { paginationXml, viewXml, workbookXml } from '../sim-xml.js';
import { page, parseFilter, parsePaging } from './list-query.js';

/** Every view of the site with its workbook. */
export function allViews(workbooks: readonly SimWorkbook[]): { view: SimView; workbook: SimWorkbook }[] {
  return workbooks.flatMap((wb) => wb.views.map((view) => ({ view, workbook: wb })));
}

/** The 403 of a connected-app session whose JWT lacks `scope`. */
export function forbiddenScope(replies: TableauReplies, scope: string, apiVersion: string): SimResponse {
  return replies.tableauError(
    403,
    '403000',
    'Forbidden',
    `The connected-app JWT lacks the scope ${scope}.`,
    apiVersion,
  );
}

/** `GET sites/{id}/views`. */
export function listViews(
  state: TableauSimState,
  session: Session,
  q: URLSearchParams,
  replyVersion: string,
): SimResponse {
  const { w, replies } = state;
  if (!hasScope(session, 'tableau:content:read')) return forbiddenScope(replies, 'tableau:content:read', replyVersion);
  const paging = parsePaging(replies, q, replyVersion);
  if ('status' in paging) return paging;
  const filter = parseFilter(
    replies,
    q.get('filter'),
    ['viewUrlName', 'workbookName', 'projectName', 'name', 'sheetType', 'contentUrl'],
    replyVersion,
  );
  if ('status' in filter) return filter;
  const matches = allViews(state.workbooks).filter(({ view, workbook }) =>
    filter.every(([field, value]) => {
      const actual: Record<string, string> = {
        viewUrlName: view.viewUrlName,
        workbookName: workbook.name,
        projectName: workbook.projectName,
        name: view.name,
        sheetType: view.sheetType,
        contentUrl: view.contentUrl,
      };
      return actual[field] === value;
    }),
  );
  const body =
    paginationXml(w, paging.pageNumber, paging.pageSize, matches.length) +
    w.el(
      'views',
      {},
      page(matches, paging)
        .map((m) => viewXml(w, m.view, m.workbook))
        .join(''),
    );
  return replies.xml(200, body, replyVersion);
}

/** `GET sites/{id}/views/{viewId}` (Get View exists from API 3.1). */
export function getView(
  state: TableauSimState,
  session: Session,
  viewId: string | undefined,
  apiVersion: string,
  replyVersion: string,
): SimResponse {
  const { replies } = state;
  const found = allViews(state.workbooks).find((m) => m.view.id === viewId);
  if (compareVersions(apiVersion, '3.1') < 0) {
    return replies.tableauError(
      404,
      '404008',
      'Resource Not Found',
      `API version '${apiVersion}' does not support access to the given resource.`,
      replyVersion,
    );
  }
  if (!hasScope(session, 'tableau:content:read')) return forbiddenScope(replies, 'tableau:content:read', replyVersion);
  if (found === undefined)
    return replies.tableauError(
      404,
      '404011',
      'Resource Not Found',
      `View '${viewId ?? ''}' could not be found.`,
      replyVersion,
    );
  return replies.xml(200, viewXml(state.w, found.view, found.workbook), replyVersion);
}

/** `GET sites/{id}/workbooks`. */
export function listWorkbooks(
  state: TableauSimState,
  session: Session,
  q: URLSearchParams,
  replyVersion: string,
): SimResponse {
  const { w, replies } = state;
  if (!hasScope(session, 'tableau:content:read')) return forbiddenScope(replies, 'tableau:content:read', replyVersion);
  const paging = parsePaging(replies, q, replyVersion);
  if ('status' in paging) return paging;
  const filter = parseFilter(replies, q.get('filter'), ['name', 'projectName', 'contentUrl'], replyVersion);
  if ('status' in filter) return filter;
  const matches = state.workbooks.filter((wb) =>
    filter.every(
      ([field, value]) => ({ name: wb.name, projectName: wb.projectName, contentUrl: wb.contentUrl })[field] === value,
    ),
  );
  const body =
    paginationXml(w, paging.pageNumber, paging.pageSize, matches.length) +
    w.el(
      'workbooks',
      {},
      page(matches, paging)
        .map((wb) => workbookXml(w, wb, state.baseUrl, session.site, false))
        .join(''),
    );
  return replies.xml(200, body, replyVersion);
}

/** `GET sites/{id}/workbooks/{workbookId}` and, with `viewsOnly`, `.../workbooks/{workbookId}/views`. */
export function getWorkbook(
  state: TableauSimState,
  session: Session,
  workbookId: string | undefined,
  viewsOnly: boolean,
  replyVersion: string,
): SimResponse {
  const { w, replies } = state;
  if (!hasScope(session, 'tableau:content:read')) return forbiddenScope(replies, 'tableau:content:read', replyVersion);
  const wb = state.workbooks.find((x) => x.id === workbookId);
  if (wb === undefined)
    return replies.tableauError(
      404,
      '404006',
      'Resource Not Found',
      `Workbook '${workbookId ?? ''}' could not be found.`,
      replyVersion,
    );
  if (!viewsOnly) return replies.xml(200, workbookXml(w, wb, state.baseUrl, session.site, true), replyVersion);
  // Query Views for Workbook has no <pagination> element.
  return replies.xml(200, w.el('views', {}, wb.views.map((v) => viewXml(w, v, wb)).join('')), replyVersion);
}
