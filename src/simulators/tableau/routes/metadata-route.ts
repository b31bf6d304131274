/**
 * The Metadata API: `POST /api/metadata/graphql`, JSON `{ query, variables }`, the REST session's `X-Tableau-Auth`.
 * Like Tableau it answers GraphQL errors with HTTP 200 and an `errors` array (`message`, `extensions.code`), and
 * errors too when the Metadata API is disabled. It is not a GraphQL engine: it recognises the two query shapes the
 * client sends — `workbooks(filter: { luid })` with `dashboards { … sheets { … } }`, and with
 * `embeddedDatasources`/`upstreamDatasources` — and refuses any other query as a validation error.
 */
import type { IncomingMessage } from 'node:http';
import type { SimResponse } from '../sim-reply.js';
import type { SimWorkbook } from '../sim-content.js';
import type { TableauSimState } from '../sim-state.js';
import { authenticate, readBody } from './auth-routes.js';

const json = (status: number, value: unknown): SimResponse => ({
  status,
  headers: { 'Content-Type': 'application/json;charset=utf-8' },
  body: Buffer.from(JSON.stringify(value)),
});

const graphqlErrors = (message: string, code: string): SimResponse =>
  json(200, { data: null, errors: [{ message, extensions: { code } }] });

/** Answers one Metadata API request. */
export async function metadataGraphql(
  state: TableauSimState,
  req: IncomingMessage,
  method: string,
): Promise<SimResponse> {
  if (method !== 'POST') {
    req.resume();
    return json(405, { errors: [{ message: 'Only POST is supported', extensions: { code: 'METHOD_NOT_ALLOWED' } }] });
  }
  const session = authenticate(state, req, state.config.maxApi);
  const text = await readBody(req);
  if ('status' in session) return session;
  if (!state.metadata.enabled) {
    return graphqlErrors(
      'Metadata API is disabled. A server administrator can enable it with tsm maintenance metadata-services enable.',
      'FEATURE_DISABLED',
    );
  }
  let body: { query?: unknown; variables?: unknown };
  try {
    body = JSON.parse(text) as { query?: unknown; variables?: unknown };
  } catch {
    return json(400, { errors: [{ message: 'Invalid JSON body', extensions: { code: 'BAD_REQUEST' } }] });
  }
  const query = typeof body.query === 'string' ? body.query : '';
  const variables = (body.variables ?? {}) as Record<string, unknown>;
  const luid = variables['luid'];
  if (!/workbooks\s*\(\s*filter\s*:\s*\{\s*luid\s*:\s*\$luid\s*\}\s*\)/.test(query) || typeof luid !== 'string') {
    return graphqlErrors(
      "Validation error: the simulator answers workbooks(filter: { luid: $luid }) queries with a String variable 'luid' only",
      'GRAPHQL_VALIDATION_FAILED',
    );
  }
  const workbooks = state.workbooks.filter((w) => w.id === luid);
  if (/\bdashboards\s*\{/.test(query)) return json(200, { data: { workbooks: workbooks.map(dashboardsOf) } });
  if (/\bembeddedDatasources\s*\{/.test(query))
    return json(200, { data: { workbooks: workbooks.map((w) => datasourcesOf(state, w)) } });
  return graphqlErrors('Validation error: field not simulated', 'GRAPHQL_VALIDATION_FAILED');
}

/** A workbook's dashboards with their sheets in dashboard order; a hidden sheet has an empty luid, as in Tableau. */
function dashboardsOf(w: SimWorkbook): unknown {
  return {
    name: w.name,
    luid: w.id,
    dashboards: w.views
      .filter((v) => v.sheetType === 'dashboard')
      .map((d) => ({
        name: d.name,
        luid: d.id,
        path: d.contentUrl.replace('/sheets/', '/'),
        sheets: (d.sheets ?? []).map((name) => {
          const view = w.views.find((v) => v.name === name);
          return {
            name,
            luid: view?.id ?? '',
            path: view === undefined ? '' : view.contentUrl.replace('/sheets/', '/'),
          };
        }),
      })),
  };
}

/** A workbook's embedded data sources: extracts refreshed at the simulator's time, live ones without extract times. */
function datasourcesOf(state: TableauSimState, w: SimWorkbook): unknown {
  const refreshed = (state.metadata.extractRefreshedAt ?? new Date(Date.now() - 3_600_000)).toISOString();
  return {
    name: w.name,
    embeddedDatasources: w.datasources.map((d) => ({
      name: d.name,
      hasExtracts: d.hasExtracts,
      extractLastRefreshTime: d.hasExtracts ? refreshed : null,
      extractLastIncrementalUpdateTime: null,
      extractLastUpdateTime: d.hasExtracts ? refreshed : null,
    })),
    upstreamDatasources: [],
  };
}
