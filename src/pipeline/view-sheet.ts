/**
 * One view into one data sheet: pivot (Measure Names/Values), pass 1 types the columns and checks the filters
 * ({@link prepareView}), pass 2 converts the rows and streams them into the workbook ({@link writePreparedView}).
 * The two are apart because update mode may write a view again: when a teammate saved the workbook between our
 * download and our upload, the rows are patched into the new version, from the same spooled data.
 */
import type { RawTable } from '../contracts/ports.js';
import type { ExportConfig, ViewConfig } from '../config/schema.js';
import { AppError, SourceError } from '../shared/errors.js';
import type { ColumnSpec, RawRow, TypedRow } from '../shared/table.js';
import { createTypeInference, createRowConverter } from '../transforms/infer-types.js';
import { hasMeasureColumns, pivotMeasureValues } from '../transforms/pivot-measures.js';
import { createFilterCheck } from '../transforms/filter-check.js';
import { createDealCollector, type DealCollector } from '../transforms/metrics/index.js';
import type { TableUpdateSummary, WorkbookWriter } from '../workbook/workbook-writer.js';
import { contentViewDigest, createViewDigest, type ViewDigest } from './data-hash.js';
import type { StageTimer } from './stage-timer.js';
import { throwIfAborted } from './abort.js';
import type { RunProgress } from './run-progress.js';

/** What a view left in the workbook, for the run report and the About sheet. */
export interface SheetOutcome {
  readonly sheet: string;
  readonly rows: number;
  /** Where its data came from (view, file...). */
  readonly source: string;
  /** The view's column headers, to notice a schema change at the next run. */
  readonly columns: readonly string[];
  /** Every tab the view filled (more than one past Excel's row limit). */
  readonly sheetNames: readonly string[];
  readonly provenance: Readonly<Record<string, string>>;
  /** The filters and parameters, as the About sheet prints them. */
  readonly filters: string;
}

export interface ViewOutcome {
  readonly sheet: SheetOutcome;
  readonly warnings: readonly string[];
  /** Findings worth a notification even when the run succeeds (schema change, metrics off). */
  readonly alerts: readonly string[];
  /** The deals, when this is the metrics sheet and its columns are all there. */
  readonly deals: DealCollector | undefined;
  /** The view's part of the run's data hash. */
  readonly hashPart: string;
  /** Update mode: what the refresh did to the team's own cells of the view's table. */
  readonly update: TableUpdateSummary | undefined;
}

export interface ViewSheetInput {
  readonly view: ViewConfig;
  readonly sheetName: string;
  readonly raw: RawTable;
  /** The export's metrics settings; the deals are collected when `metrics.from` is this sheet. */
  readonly metrics: ExportConfig['metrics'];
  /** The columns of this sheet at the last successful run, if any. */
  readonly previousColumns: readonly string[] | undefined;
  readonly signal: AbortSignal;
  readonly timer: StageTimer;
  /** Hears the typing pass's progress (rows typed so far). */
  readonly onProgress?: ((p: RunProgress) => void) | undefined;
}

/** A view after pass 1: typed columns, row count, warnings; its rows are read again (from the spool) to write. */
export interface PreparedView {
  readonly input: ViewSheetInput;
  readonly shaped: ShapedRows;
  readonly columns: readonly ColumnSpec[];
  readonly rowCount: number;
  readonly hashPart: string;
  /** Warnings and alerts found before writing (source, pivot, typing, filters, schema, metrics columns). */
  readonly warnings: readonly string[];
  readonly alerts: readonly string[];
  /** The collector the deals go into while the rows are first written (the metrics sheet only). */
  readonly deals: DealCollector | undefined;
}

/** Pass 1 of one view. Throws SourceError for an empty/unfiltered view under `onEmpty: fail`. */
export async function prepareView(input: ViewSheetInput): Promise<PreparedView> {
  const { view, sheetName, raw, timer } = input;
  const prefixed = (list: readonly string[]): string[] => list.map((w) => `${sheetName}: ${w}`);
  const shaped = await timer.timed('parse', () => shapeRows(view, raw));
  const typing = await timer.timed('parse', () => typeColumns(shaped, input));
  const changes = describeSchemaChanges(sheetName, input.previousColumns, shaped.header);
  const deals = openDealCollector(typing.columns, input.metrics, sheetName);
  return {
    input,
    shaped,
    columns: typing.columns,
    rowCount: typing.rowCount,
    hashPart: typing.hashPart,
    warnings: [
      ...prefixed(raw.warnings),
      ...prefixed(shaped.warnings),
      ...prefixed(typing.warnings),
      ...changes.warnings,
      ...deals.warnings,
    ],
    alerts: [...changes.alerts, ...deals.alerts],
    deals: deals.collector,
  };
}

export interface WriteViewOptions {
  readonly writer: WorkbookWriter;
  /** True for the first write of the run only: the deals are collected once. */
  readonly collectDeals: boolean;
  /** Update mode: the table to refresh and the column that keys the team's own values. */
  readonly table?: string | undefined;
  readonly key?: { readonly column: string | undefined; readonly setting: string } | undefined;
  readonly update: boolean;
  readonly onProgress?: ((p: RunProgress) => void) | undefined;
}

/** Pass 2 of one view: converts the rows and streams them into `options.writer`. */
export async function writePreparedView(prepared: PreparedView, options: WriteViewOptions): Promise<ViewOutcome> {
  const { view, sheetName, raw, timer, signal } = prepared.input;
  const convert = createRowConverter(prepared.columns);
  const tap = options.collectDeals ? prepared.deals : undefined;
  const typed = (): AsyncIterable<TypedRow> =>
    mapRows(prepared.shaped.rows(), (row) => {
      const t = convert(row);
      tap?.observe(t);
      return t;
    });
  const written = await timer.timed('write', () =>
    options.writer.addDataSheet({
      name: sheetName,
      columns: prepared.columns,
      rows: typed(),
      signal,
      table: options.table,
      update: options.update
        ? {
            key: options.key?.column,
            keySetting: options.key?.setting ?? 'views[].key',
            previousColumns: prepared.input.previousColumns,
            rowCount: prepared.rowCount,
          }
        : undefined,
      onProgress: (n) =>
        options.onProgress?.({ sheet: sheetName, rows: n, rowsTotal: prepared.rowCount, stage: 'write' }),
    }),
  );
  return {
    sheet: {
      sheet: written.sheetNames[0] ?? sheetName,
      rows: written.rows,
      source: describeSource(view, raw),
      columns: prepared.shaped.header,
      sheetNames: written.sheetNames,
      provenance: raw.provenance,
      filters: describeFilters(view),
    },
    warnings: [...prepared.warnings, ...written.warnings.map((w) => `${sheetName}: ${w}`)],
    alerts: prepared.alerts,
    deals: prepared.deals,
    hashPart: prepared.hashPart,
    update: written.update,
  };
}

interface ShapedRows {
  readonly header: readonly string[];
  /** Re-reads the rows from the start at every call (typing needs a whole pass before converting). */
  readonly rows: () => AsyncIterable<RawRow>;
  /** Display formats Tableau gave the measures, when the view was pivoted. */
  readonly formats: Record<string, string> | undefined;
  readonly warnings: readonly string[];
}

/** Measure Names/Measure Values in long form become one column per measure (the pivot holds the rows in memory). */
async function shapeRows(view: ViewConfig, raw: RawTable): Promise<ShapedRows> {
  if (!view.pivot || !hasMeasureColumns(raw.header)) {
    return { header: raw.header, rows: () => raw.rows(), formats: undefined, warnings: [] };
  }
  const wide = await pivotMeasureValues(raw.header, raw.rows());
  return { header: wide.header, rows: () => iterate(wide.rows), formats: wide.formats, warnings: wide.warnings };
}

/** Pass 1: infers each column's type, checks that the filters took, and digests the rows for the data hash. */
async function typeColumns(
  shaped: ShapedRows,
  input: ViewSheetInput,
): Promise<{ columns: ColumnSpec[]; hashPart: string; rowCount: number; warnings: string[] }> {
  const { view, sheetName } = input;
  const filters = filterValues(view);
  const filtered = Object.keys(filters).length > 0;
  const inference = createTypeInference(
    shaped.header,
    shaped.formats === undefined ? undefined : { formats: shaped.formats },
  );
  const check = filtered ? createFilterCheck(shaped.header, filters) : undefined;
  // A table read from bytes digests them as it reads; the rows are digested only when it does not.
  const contentDigest = input.raw.contentDigest;
  const digest = contentDigest === undefined ? createViewDigest() : undefined;
  let count = 0;
  input.onProgress?.({ sheet: sheetName, rows: 0, stage: 'type' });
  for await (const row of shaped.rows()) {
    inference.observe(row);
    check?.observe(row);
    digest?.addRow(row);
    if (++count % 65_536 === 0) throwIfAborted(input.signal);
    if (count % 10_000 === 0) input.onProgress?.({ sheet: sheetName, rows: count, stage: 'type' });
  }
  input.onProgress?.({ sheet: sheetName, rows: count, rowsTotal: count, stage: 'type' });
  const hashPart = viewHashPart(digest, contentDigest, sheetName, shaped.header);
  const warnings: string[] = [];
  if (count === 0) {
    const message = `view "${sheetName}" returned no rows${filtered ? ' (the filters matched nothing, or a filter field name is wrong)' : ''}`;
    if (view.onEmpty === 'fail') {
      throw new SourceError('VIEW_EMPTY', message, {
        hint: 'check the view and its filters in Tableau, or set onEmpty: warn',
      });
    }
    warnings.push(message);
  }
  if (check !== undefined) {
    const result = check.result();
    if (result.unfiltered && view.onEmpty === 'fail') {
      throw new SourceError('VIEW_UNFILTERED', `${sheetName}: ${result.warnings.join('; ')}`, {
        hint: 'Tableau ignores unknown filter fields and values silently; use the field caption exactly as shown in Tableau',
      });
    }
    warnings.push(...result.warnings.filter((w) => count > 0 || !/no rows/i.test(w)));
  }
  return { columns: inference.columns(), hashPart, rowCount: count, warnings };
}

/** The view's part of the data hash, once its rows were read to the end (by the pivot, or by the typing pass). */
function viewHashPart(
  digest: ViewDigest | undefined,
  contentDigest: (() => string | undefined) | undefined,
  sheetName: string,
  header: readonly string[],
): string {
  if (digest !== undefined) return digest.finish(sheetName, header);
  const content = contentDigest?.();
  // Not possible after a complete pass; a broken source must not make every run look unchanged.
  if (content === undefined) throw new Error(`${sheetName}: the source did not digest its bytes after a complete pass`);
  return contentViewDigest(content, sheetName, header);
}

/** A column gone since the last success is a warning and an alert; a new one is a warning. */
function describeSchemaChanges(
  sheetName: string,
  previousColumns: readonly string[] | undefined,
  header: readonly string[],
): { warnings: string[]; alerts: string[] } {
  if (previousColumns === undefined) return { warnings: [], alerts: [] };
  const removed = previousColumns.filter((c) => !header.includes(c));
  const added = header.filter((c) => !previousColumns.includes(c));
  const quoted = (list: readonly string[]): string => list.map((c) => `"${c}"`).join(', ');
  const warnings: string[] = [];
  const alerts: string[] = [];
  if (removed.length > 0) {
    const message = `${sheetName}: schema change — column${removed.length === 1 ? '' : 's'} ${quoted(removed)} no longer in the view since the last successful run`;
    alerts.push(message);
    warnings.push(message);
  }
  if (added.length > 0)
    warnings.push(`${sheetName}: new column${added.length === 1 ? '' : 's'} in the view: ${quoted(added)}`);
  return { warnings, alerts };
}

/**
 * The deal collector for the metrics sheet. A mapped column that vanished from the view does not fail the run: the
 * data is still worth delivering, the metrics are not computed, and the run says so loudly (warning + alert).
 */
function openDealCollector(
  columns: readonly ColumnSpec[],
  metrics: ExportConfig['metrics'],
  sheetName: string,
): { collector: DealCollector | undefined; warnings: string[]; alerts: string[] } {
  if (metrics === undefined || metrics.from !== sheetName) return { collector: undefined, warnings: [], alerts: [] };
  try {
    return { collector: createDealCollector(columns, metrics), warnings: [], alerts: [] };
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'METRICS_COLUMN_MISSING')) throw err;
    const message = `metrics not computed: ${err.userMessage}`;
    return { collector: undefined, warnings: [message], alerts: [message] };
  }
}

function describeSource(view: ViewConfig, raw: RawTable): string {
  const p = raw.provenance;
  if (view.file !== undefined) return `CSV file ${p['file'] ?? view.file}`;
  const name =
    view.workbook !== undefined ? `${view.workbook} / ${view.view ?? ''}` : (view.contentUrl ?? view.viewId ?? '');
  return `Tableau view ${name}${p['viewUrl'] !== undefined ? ` (${p['viewUrl']})` : ''}`;
}

function describeFilters(view: ViewConfig): string {
  return Object.entries(view.filters)
    .map(([k, v]) => `${k} = ${(Array.isArray(v) ? v : [v]).join(' | ')}`)
    .concat(Object.entries(view.parameters).map(([k, v]) => `Parameter ${k} = ${String(v)}`))
    .join('; ');
}

/** A view's filters as field → accepted values (strings, as Tableau compares them). */
export function filterValues(view: ViewConfig): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(view.filters).map(([k, v]) => [k, (Array.isArray(v) ? v : [v]).map(String)]),
  );
}

/**
 * `rows` mapped by `map` as they are read. A hand-made iterator, not an async generator: one promise per row
 * instead of a generator's suspend and resume around each `yield` (the write's hot path, as in `read-csv.ts`).
 * Finishing it early (`return()`) finishes `rows` too.
 */
function mapRows<T, U>(rows: AsyncIterable<T>, map: (row: T) => U): AsyncIterable<U> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<U> {
      const inner = rows[Symbol.asyncIterator]();
      const step = (result: IteratorResult<T>): IteratorResult<U> =>
        result.done === true ? { value: undefined, done: true } : { value: map(result.value), done: false };
      return {
        next: () => inner.next().then(step),
        async return(): Promise<IteratorResult<U>> {
          await inner.return?.();
          return { value: undefined, done: true };
        },
      };
    },
  };
}

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}
