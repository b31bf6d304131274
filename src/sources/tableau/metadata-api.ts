/**
 * The Tableau Metadata API (GraphQL, `POST /api/metadata/graphql`), for the two facts REST does not give: which
 * worksheets a dashboard shows, and when the extracts behind a workbook were last refreshed. Tableau answers GraphQL
 * errors with HTTP 200 and an `errors` array (possibly next to partial `data`); a Tableau Server where the Metadata
 * API is off answers an error rather than data. Every such answer becomes one SourceError
 * `TABLEAU_METADATA_UNAVAILABLE` whose message says why, so callers fall back to REST and say so.
 */
import { z } from 'zod';
import type { DataFreshness } from '../../contracts/ports.js';
import { AppError, SourceError } from '../../shared/errors.js';

/** Authenticated GraphQL posts (the session's token); resolves with the body of a 2xx answer. */
export interface MetadataApi {
  post(body: string, what: string): Promise<string>;
}

const graphqlError = z.looseObject({
  message: z.string(),
  extensions: z.looseObject({ code: z.string().optional() }).nullish(),
});

const graphqlAnswer = z.looseObject({
  data: z.unknown().optional(),
  errors: z.array(graphqlError).nullish(),
});

const ENABLE_HINT =
  'on Tableau Server an administrator enables it with `tsm maintenance metadata-services enable` (Tableau Cloud always has it)';

function unavailable(what: string, reason: string, cause?: unknown): SourceError {
  return new SourceError('TABLEAU_METADATA_UNAVAILABLE', `the Tableau Metadata API could not ${what}: ${reason}`, {
    hint: ENABLE_HINT,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** `Metadata API is disabled (FEATURE_DISABLED); …` from a GraphQL `errors` array. */
export function describeGraphqlErrors(errors: readonly z.infer<typeof graphqlError>[]): string {
  return errors
    .map((e) => {
      const code = e.extensions?.code;
      return code === undefined ? e.message : `${e.message} (${code})`;
    })
    .join('; ');
}

/**
 * Runs one query and returns its `data` as `dataSchema` reads it.
 * @throws SourceError `TABLEAU_METADATA_UNAVAILABLE` for an HTTP error, a body that is not JSON, GraphQL `errors`
 *   or data of an unexpected shape; AbortedError when the run is aborted.
 */
export async function queryMetadata<T>(
  api: MetadataApi,
  request: { readonly query: string; readonly variables: Readonly<Record<string, unknown>>; readonly what: string },
  dataSchema: z.ZodType<T>,
): Promise<T> {
  let text: string;
  try {
    text = await api.post(JSON.stringify({ query: request.query, variables: request.variables }), request.what);
  } catch (err) {
    if (err instanceof AppError && err.code === 'ABORTED') throw err;
    throw unavailable(request.what, err instanceof Error ? err.message : String(err), err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw unavailable(request.what, `the answer is not JSON (${JSON.stringify(text.slice(0, 120))})`);
  }
  const answer = graphqlAnswer.safeParse(json);
  if (!answer.success) throw unavailable(request.what, 'the answer is not a GraphQL response');
  const errors = answer.data.errors ?? [];
  // Partial data next to errors is not trusted: a dashboard with some sheets missing would export the wrong set.
  if (errors.length > 0) throw unavailable(request.what, describeGraphqlErrors(errors));
  const data = dataSchema.safeParse(answer.data.data);
  if (!data.success) {
    throw unavailable(
      request.what,
      `unexpected answer: ${data.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return data.data;
}

/** The dashboards of one workbook and the sheets on each, in the order Tableau lists them. */
export const DASHBOARD_SHEETS_QUERY = `query dashboardSheets($luid: String!) {
  workbooks(filter: { luid: $luid }) {
    name
    luid
    dashboards { name luid path sheets { name luid path } }
  }
}`;

const sheetNode = z.looseObject({ name: z.string(), luid: z.string().nullish(), path: z.string().nullish() });
const dashboardNode = z.looseObject({
  name: z.string(),
  luid: z.string().nullish(),
  path: z.string().nullish(),
  sheets: z.array(sheetNode).nullish(),
});
export const dashboardSheetsData = z.looseObject({
  workbooks: z.array(
    z.looseObject({ name: z.string(), luid: z.string().nullish(), dashboards: z.array(dashboardNode).nullish() }),
  ),
});

export interface MetadataDashboard {
  readonly name: string;
  readonly luid: string | undefined;
  /** Sheets in the dashboard's order; `luid` undefined for a sheet not published as a view (hidden). */
  readonly sheets: readonly { readonly name: string; readonly luid: string | undefined }[];
}

/** The dashboards of the workbook in a {@link DASHBOARD_SHEETS_QUERY} answer (empty luids read as none). */
export function readDashboards(data: z.infer<typeof dashboardSheetsData>): MetadataDashboard[] {
  const present = (s: string | null | undefined): string | undefined => (s === null || s === '' ? undefined : s);
  return data.workbooks.flatMap((w) =>
    (w.dashboards ?? []).map((d) => ({
      name: d.name,
      luid: present(d.luid),
      sheets: (d.sheets ?? []).map((s) => ({ name: s.name, luid: present(s.luid) })),
    })),
  );
}

/** The data sources behind one workbook: embedded ones and the published ones they connect to. */
export const WORKBOOK_FRESHNESS_QUERY = `query workbookFreshness($luid: String!) {
  workbooks(filter: { luid: $luid }) {
    name
    embeddedDatasources { name hasExtracts extractLastRefreshTime extractLastIncrementalUpdateTime extractLastUpdateTime }
    upstreamDatasources { name hasExtracts extractLastRefreshTime extractLastIncrementalUpdateTime extractLastUpdateTime }
  }
}`;

const datasourceNode = z.looseObject({
  name: z.string(),
  hasExtracts: z.boolean().nullish(),
  extractLastRefreshTime: z.string().nullish(),
  extractLastIncrementalUpdateTime: z.string().nullish(),
  extractLastUpdateTime: z.string().nullish(),
});
export const workbookFreshnessData = z.looseObject({
  workbooks: z.array(
    z.looseObject({
      name: z.string(),
      embeddedDatasources: z.array(datasourceNode).nullish(),
      upstreamDatasources: z.array(datasourceNode).nullish(),
    }),
  ),
});

/** The latest instant of the given ISO times that parse; undefined when none does. */
function latest(times: readonly (string | null | undefined)[]): number | undefined {
  const parsed = times.map((t) => (t == null ? Number.NaN : Date.parse(t))).filter((t) => !Number.isNaN(t));
  return parsed.length === 0 ? undefined : Math.max(...parsed);
}

/**
 * The freshness of a workbook's data from a {@link WORKBOOK_FRESHNESS_QUERY} answer (pure): no extract anywhere is a
 * live connection; otherwise the oldest extract decides, each extract dated by its last full or incremental refresh
 * (its last update, creation included, when it was never refreshed).
 */
export function readFreshness(data: z.infer<typeof workbookFreshnessData>, workbook: string): DataFreshness {
  const workbookNode = data.workbooks[0];
  if (workbookNode === undefined)
    return { kind: 'unknown', reason: `workbook '${workbook}' is not in the Metadata API yet (indexing may lag)` };
  const sources = [...(workbookNode.embeddedDatasources ?? []), ...(workbookNode.upstreamDatasources ?? [])];
  // No data source at all is not proof of a live connection (permissions or indexing can hide them).
  if (sources.length === 0)
    return { kind: 'unknown', reason: `the Metadata API shows no data source of workbook '${workbook}'` };
  const extracts = sources.filter((s) => s.hasExtracts === true);
  if (extracts.length === 0) return { kind: 'live', datasources: [...new Set(sources.map((s) => s.name))] };
  let oldest: { at: number; name: string } | undefined;
  for (const s of extracts) {
    const at =
      latest([s.extractLastRefreshTime, s.extractLastIncrementalUpdateTime]) ?? latest([s.extractLastUpdateTime]);
    if (at === undefined)
      return { kind: 'unknown', reason: `the extract of data source '${s.name}' has no refresh time` };
    if (oldest === undefined || at < oldest.at) oldest = { at, name: s.name };
  }
  const found = oldest as { at: number; name: string };
  return { kind: 'extract', refreshedAt: new Date(found.at).toISOString(), datasource: found.name };
}
