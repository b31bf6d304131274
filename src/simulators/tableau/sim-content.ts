/**
 * The simulated Tableau site content: a `Sales Pipeline` workbook (project `Sales`) with the row-level
 * `Opportunities` worksheet, the aggregated `Pipeline by Stage` (Measure Names/Values long form, like Tableau's own
 * CSV of such a sheet) and `Rep Performance` worksheets, and a `Pipeline Overview` dashboard; plus a small
 * `Marketing Funnel` workbook so listings and paging have more than one workbook.
 *
 * Views render their CSV in Tableau's display format from the seeded demo pipeline, after applying `vf_` filters
 * with Tableau's semantics: exact match on display strings, values OR-ed, unknown fields ignored.
 */
import {
  PIPELINE_HEADER,
  PIPELINE_STAGES,
  generatePipelineRows,
  type PipelineOptions,
} from '../demo-data/pipeline-generator.js';

export interface SimView {
  readonly id: string;
  readonly name: string;
  readonly viewUrlName: string;
  readonly contentUrl: string;
  readonly sheetType: 'worksheet' | 'dashboard';
  readonly workbookId: string;
  /**
   * For dashboards: the worksheets on it, in the dashboard's order (Tableau's `/data` returns the first published
   * one, alphabetically); a name that is not a view of the workbook is a hidden sheet.
   */
  readonly sheets?: readonly string[];
}

/** A data source of a workbook, as the Metadata API describes it: an extract or a live connection. */
export interface SimDatasource {
  readonly name: string;
  readonly hasExtracts: boolean;
}

export interface SimWorkbook {
  readonly id: string;
  readonly name: string;
  readonly contentUrl: string;
  readonly projectId: string;
  readonly projectName: string;
  readonly views: readonly SimView[];
  /** Embedded data sources (the Metadata API's `embeddedDatasources`). */
  readonly datasources: readonly SimDatasource[];
}

export interface SimTable {
  readonly header: readonly string[];
  readonly rows: Iterable<readonly string[]>;
}

/** `vf_` filters: field → accepted values (OR). An empty list means "all". */
export type SimFilters = ReadonlyMap<string, readonly string[]>;

const OWNER_ID = '7d0f8e3c-1b2a-4c5d-9e6f-0a1b2c3d4e5f';

/** Deterministic LUID-shaped ids, so tests and demos can address views by id. */
function luid(kind: number, n: number): string {
  return `5a1e5000-${String(kind).padStart(4, '0')}-4000-8000-${String(n).padStart(12, '0')}`;
}

function urlName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '');
}

function makeWorkbook(
  n: number,
  name: string,
  contentUrl: string,
  project: { id: string; name: string },
  views: readonly { name: string; sheetType?: 'dashboard'; sheets?: readonly string[] }[],
  datasources: readonly SimDatasource[],
): SimWorkbook {
  const id = luid(2, n);
  return {
    id,
    name,
    contentUrl,
    projectId: project.id,
    projectName: project.name,
    views: views.map((v, i) => ({
      id: luid(3, n * 100 + i + 1),
      name: v.name,
      viewUrlName: urlName(v.name),
      contentUrl: `${contentUrl}/sheets/${urlName(v.name)}`,
      sheetType: v.sheetType ?? 'worksheet',
      workbookId: id,
      ...(v.sheets === undefined ? {} : { sheets: v.sheets }),
    })),
    datasources,
  };
}

/**
 * Builds the workbooks of a site. `duplicateSalesPipelineIn` adds a second `Sales Pipeline` workbook in that project
 * (names are not unique on real sites), for ambiguity tests.
 */
export function buildSimContent(
  options: { readonly duplicateSalesPipelineIn?: string | undefined } = {},
): SimWorkbook[] {
  const sales = { id: luid(1, 1), name: 'Sales' };
  const marketing = { id: luid(1, 2), name: 'Marketing' };
  const pipelineViews = [
    { name: 'Opportunities' },
    { name: 'Pipeline by Stage' },
    { name: 'Rep Performance' },
    // Three published worksheets and `Stage Targets`, a sheet hidden in the workbook (so not a view).
    {
      name: 'Pipeline Overview',
      sheetType: 'dashboard' as const,
      sheets: ['Pipeline by Stage', 'Rep Performance', 'Stage Targets', 'Opportunities'],
    },
  ];
  const pipelineExtract = [{ name: 'Sales Pipeline (extract)', hasExtracts: true }];
  const workbooks = [
    makeWorkbook(1, 'Sales Pipeline', 'SalesPipeline', sales, pipelineViews, pipelineExtract),
    makeWorkbook(
      2,
      'Marketing Funnel',
      'MarketingFunnel',
      marketing,
      [{ name: 'Leads by Source' }],
      [{ name: 'Marketing Leads (live)', hasExtracts: false }],
    ),
  ];
  if (options.duplicateSalesPipelineIn !== undefined) {
    workbooks.push(
      makeWorkbook(
        3,
        'Sales Pipeline',
        'SalesPipeline_0',
        { id: luid(1, 3), name: options.duplicateSalesPipelineIn },
        pipelineViews,
        pipelineExtract,
      ),
    );
  }
  return workbooks;
}

export const SIM_OWNER_ID = OWNER_ID;

/**
 * Splits a `vf_` value into its OR-ed values: `,` separates, `\,` is a literal comma. An empty string means no
 * restriction (Tableau's "clear the saved filter").
 */
export function splitFilterValues(raw: string): string[] {
  if (raw === '') return [];
  const values: string[] = [];
  let current = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '\\' && raw[i + 1] === ',') {
      current += ',';
      i++;
    } else if (c === ',') {
      values.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  values.push(current);
  return values;
}

function parseDollars(display: string): number {
  const n = Number(display.replace(/[$,]/g, ''));
  return Number.isFinite(n) ? n : 0;
}

function parsePercent(display: string): number {
  const n = Number(display.replace('%', ''));
  return Number.isFinite(n) ? n / 100 : 0;
}

const dollars = (n: number): string => `$${Math.round(n).toLocaleString('en-US')}`;
const integer = (n: number): string => Math.round(n).toLocaleString('en-US');
const precise = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 6 });

/** Keeps rows whose `field` display value is one of the accepted values; fields not in `header` are ignored. */
function* filterRows(
  header: readonly string[],
  rows: Iterable<readonly string[]>,
  filters: SimFilters,
): Generator<readonly string[]> {
  const active = [...filters.entries()]
    .filter(([, values]) => values.length > 0)
    .map(([field, values]) => ({ index: header.indexOf(field), values: new Set(values) }))
    .filter((f) => f.index >= 0);
  for (const row of rows) {
    if (active.every((f) => f.values.has(row[f.index] ?? ''))) yield row;
  }
}

function opportunities(pipeline: PipelineOptions, filters: SimFilters): Iterable<readonly string[]> {
  return filterRows(PIPELINE_HEADER, generatePipelineRows(pipeline), filters);
}

const COL = Object.fromEntries(PIPELINE_HEADER.map((h, i) => [h, i])) as Record<string, number>;
const cell = (row: readonly string[], name: string): string => row[COL[name] ?? -1] ?? '';

function pipelineByStage(pipeline: PipelineOptions, filters: SimFilters): SimTable {
  const byStage = new Map<string, { count: number; amount: number; weighted: number }>();
  for (const row of opportunities(pipeline, filters)) {
    const stage = cell(row, 'Stage');
    const agg = byStage.get(stage) ?? { count: 0, amount: 0, weighted: 0 };
    const amount = parseDollars(cell(row, 'Amount'));
    agg.count += 1;
    agg.amount += amount;
    agg.weighted += amount * parsePercent(cell(row, 'Probability'));
    byStage.set(stage, agg);
  }
  const header = ['Measure Names', 'Stage', 'Count of Opportunities', 'Measure Values', 'Amount', 'Weighted Amount'];
  const rows: string[][] = [];
  for (const stage of PIPELINE_STAGES) {
    const agg = byStage.get(stage);
    if (agg === undefined) continue;
    const perMeasure = [integer(agg.count), dollars(agg.amount), dollars(agg.weighted)];
    const measures: [string, number][] = [
      ['Count of Opportunities', agg.count],
      ['Amount', agg.amount],
      ['Weighted Amount', agg.weighted],
    ];
    for (const [measure, value] of measures) {
      rows.push([measure, stage, perMeasure[0] ?? '', precise(value), perMeasure[1] ?? '', perMeasure[2] ?? '']);
    }
  }
  return { header, rows: filterRows(header, rows, filters) };
}

function repPerformance(pipeline: PipelineOptions, filters: SimFilters): SimTable {
  const byOwner = new Map<string, { region: string; deals: number; won: number; lost: number; wonAmount: number }>();
  for (const row of opportunities(pipeline, filters)) {
    const owner = cell(row, 'Owner');
    const agg = byOwner.get(owner) ?? { region: cell(row, 'Region'), deals: 0, won: 0, lost: 0, wonAmount: 0 };
    agg.deals += 1;
    if (cell(row, 'Stage') === 'Closed Won') {
      agg.won += 1;
      agg.wonAmount += parseDollars(cell(row, 'Amount'));
    } else if (cell(row, 'Stage') === 'Closed Lost') {
      agg.lost += 1;
    }
    byOwner.set(owner, agg);
  }
  const header = ['Owner', 'Region', 'Deals', 'Won', 'Win Rate', 'Won Amount'];
  const rows = [...byOwner.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([owner, a]) => [
      owner,
      a.region,
      integer(a.deals),
      integer(a.won),
      // Tableau shows a null (blank) for 0/0.
      a.won + a.lost === 0 ? '' : `${((a.won / (a.won + a.lost)) * 100).toFixed(1)}%`,
      dollars(a.wonAmount),
    ]);
  return { header, rows: filterRows(header, rows, filters) };
}

function leadsBySource(pipeline: PipelineOptions, filters: SimFilters): SimTable {
  const bySource = new Map<string, { count: number; amount: number }>();
  for (const row of opportunities(pipeline, filters)) {
    const source = cell(row, 'Lead Source');
    const agg = bySource.get(source) ?? { count: 0, amount: 0 };
    agg.count += 1;
    agg.amount += parseDollars(cell(row, 'Amount'));
    bySource.set(source, agg);
  }
  const header = ['Lead Source', 'Opportunities', 'Amount'];
  const rows = [...bySource.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, a]) => [s, integer(a.count), dollars(a.amount)]);
  return { header, rows: filterRows(header, rows, filters) };
}

/**
 * The CSV table of a view for the given filters. A dashboard yields its first worksheet alphabetically, as Tableau
 * does.
 */
export function renderViewTable(
  view: SimView,
  workbook: SimWorkbook,
  pipeline: PipelineOptions,
  filters: SimFilters,
): SimTable {
  let name = view.name;
  if (view.sheetType === 'dashboard') {
    const published = (view.sheets ?? []).filter((s) => workbook.views.some((v) => v.name === s));
    name = [...published].sort((a, b) => a.localeCompare(b))[0] ?? '';
  }
  switch (name) {
    case 'Opportunities':
      return { header: PIPELINE_HEADER, rows: opportunities(pipeline, filters) };
    case 'Pipeline by Stage':
      return pipelineByStage(pipeline, filters);
    case 'Rep Performance':
      return repPerformance(pipeline, filters);
    case 'Leads by Source':
      return leadsBySource(pipeline, filters);
    default:
      return { header: [], rows: [] };
  }
}
