/**
 * Query View Data: `GET sites/{id}/views/{viewId}/data`, the view as display-formatted CSV, streamed in ~64 KiB
 * chunks, after its `vf_` filters. Needs the `tableau:views:download` scope of a connected-app session.
 */
import { renderCsvLine } from '../../demo-data/pipeline-generator.js';
import { renderViewTable, splitFilterValues } from '../sim-content.js';
import type { SimResponse } from '../sim-reply.js';
import { hasScope, type Session } from '../sim-sessions.js';
import type { TableauSimState } from '../sim-state.js';
import { allViews, forbiddenScope } from './content-routes.js';

/** The CSV answer of a view's data, or Tableau's 403 / 404 / 400 (bad `maxAge`). */
export function viewData(
  state: TableauSimState,
  session: Session,
  viewId: string | undefined,
  q: URLSearchParams,
  replyVersion: string,
): SimResponse {
  const { replies } = state;
  const found = allViews(state.workbooks).find((m) => m.view.id === viewId);
  if (!hasScope(session, 'tableau:views:download'))
    return forbiddenScope(replies, 'tableau:views:download', replyVersion);
  if (found === undefined)
    return replies.tableauError(
      404,
      '404011',
      'Resource Not Found',
      `View '${viewId ?? ''}' could not be found.`,
      replyVersion,
    );
  const maxAge = q.get('maxAge');
  if (maxAge !== null && !/^\d+$/.test(maxAge))
    return replies.tableauError(400, '400000', 'Bad Request', `Invalid maxAge '${maxAge}'.`, replyVersion);
  const filters = new Map<string, string[]>();
  for (const [key, value] of q) {
    // Parameters (vf_Parameters.X) exist in no simulated workbook: ignored, as Tableau ignores unknown names.
    if (key.startsWith('vf_') && !key.startsWith('vf_Parameters.')) filters.set(key.slice(3), splitFilterValues(value));
  }
  const table = renderViewTable(found.view, found.workbook, state.pipeline, filters);
  return {
    status: 200,
    headers: { 'Content-Type': 'text/csv; charset=utf-8' },
    body: csvLines(table.header, table.rows),
  };
}

function* csvLines(header: readonly string[], rows: Iterable<readonly string[]>): Generator<string> {
  let chunk = `${renderCsvLine(header)}\r\n`;
  for (const row of rows) {
    chunk += `${renderCsvLine(row)}\r\n`;
    if (chunk.length >= 64 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}
