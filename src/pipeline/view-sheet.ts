/**
 * One view into one data sheet: pivot (Measure Names/Values), typing of the columns (with the filter check and the
 * data hash), conversion of the rows, streamed into the workbook. A new workbook is written in one read of each view
 * ({@link writeViewOnce}): the rows are written with the typing of the first rows while every row is still typed,
 * and the caller writes the workbook again in two passes when a later row changes it. Update mode keeps two passes,
 * pass 1 ({@link prepareView}) and pass 2 ({@link writePreparedView}): its tables are planned from the row count
 * and keys before anything is written, and when a teammate saved the workbook between our download and our upload
 * the rows are patched into the new version, from the same spooled data.
 */
import type { RawTable } from '../contracts/ports.js';
import type { ExportConfig, ViewConfig } from '../config/schema.js';
import { AppError, SourceError } from '../shared/errors.js';
import type { ColumnSpec, RawRow, TypedRow } from '../shared/table.js';
import {
  createRowConverter,
  createTypeInference,
  firstDifferentColumn,
  sameColumns,
  type TypeInference,
} from '../transforms/infer-types.js';
import { hasMeasureColumns, pivotMeasureValues } from '../transforms/pivot-measures.js';
import { createFilterCheck } from '../transforms/filter-check.js';
import { createDealCollector, type DealCollector } from '../transforms/metrics/index.js';
import type { TableUpdateSummary, WorkbookWriter } from '../workbook/workbook-writer.js';
import type { DataSheetResult } from '../workbook/data-sheet.js';
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
  const shaped = await input.timer.timed('parse', () => shapeRows(input.view, input.raw));
  const typed = await input.timer.timed('parse', () => typeColumns(shaped, input));
  return preparedFrom(input, shaped, typed);
}

/**
 * A view whose rows were all typed: its schema changes and deal collector (`deals`: one opened for these columns
 * already, else a new one) added to what pass 1 found.
 */
function preparedFrom(
  input: ViewSheetInput,
  shaped: ShapedRows,
  typed: Typed,
  deals: OpenedDeals = openDealCollector(typed.columns, input.metrics, input.sheetName),
): PreparedView {
  const { sheetName, raw } = input;
  const prefixed = (list: readonly string[]): string[] => list.map((w) => `${sheetName}: ${w}`);
  const changes = describeSchemaChanges(sheetName, input.previousColumns, shaped.header);
  return {
    input,
    shaped,
    columns: typed.columns,
    rowCount: typed.rowCount,
    hashPart: typed.hashPart,
    warnings: [
      ...prefixed(raw.warnings),
      ...prefixed(shaped.warnings),
      ...prefixed(typed.warnings),
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
  const convert = createRowConverter(prepared.columns);
  const tap = options.collectDeals ? prepared.deals : undefined;
  const rows = mapRows(prepared.shaped.rows(), (row) => {
    const t = convert(row);
    tap?.observe(t);
    return t;
  });
  const written = await addRows(prepared, rows, prepared.rowCount, options);
  return outcomeOf(prepared, written);
}

/** Streams converted rows into the view's data sheet (or sheets); `rowsTotal` for progress, when known. */
async function addRows(
  view: Pick<PreparedView, 'input' | 'columns' | 'rowCount'>,
  rows: AsyncIterable<TypedRow>,
  rowsTotal: number | undefined,
  options: WriteViewOptions,
): Promise<DataSheetResult> {
  const { sheetName, timer, signal } = view.input;
  return timer.timed('write', () =>
    options.writer.addDataSheet({
      name: sheetName,
      columns: view.columns,
      rows,
      signal,
      table: options.table,
      update: options.update
        ? {
            key: options.key?.column,
            keySetting: options.key?.setting ?? 'views[].key',
            previousColumns: view.input.previousColumns,
            rowCount: view.rowCount,
          }
        : undefined,
      onProgress: (n) => options.onProgress?.({ sheet: sheetName, rows: n, rowsTotal, stage: 'write' }),
    }),
  );
}

function outcomeOf(prepared: PreparedView, written: DataSheetResult): ViewOutcome {
  const { view, sheetName, raw } = prepared.input;
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

/** Rows a one-pass write types before writing; a view no longer than this is typed from all its rows. */
export const GUESS_ROWS = 10_000;
/** How often (in rows) a one-pass write checks that the typing of the first rows still holds. */
const CHECK_EVERY_ROWS = 4_096;

/**
 * A one-pass write: the view written (and what pass 1 would have found), or the typing of its first rows, which a
 * later row changed.
 */
export type OnePassResult =
  | { readonly written: true; readonly prepared: PreparedView; readonly outcome: ViewOutcome }
  | {
      readonly written: false;
      /** The first column whose type or format is not the one its first rows gave. */
      readonly column: string | undefined;
      /** The data row (1-based) by which the change was seen. */
      readonly row: number;
    };

/**
 * Types and writes one view in one read of its rows, into a new workbook (replace mode). Its first
 * {@link GUESS_ROWS} rows are typed first (a view that ends there is typed exactly and written as in two passes,
 * from a second read of those few rows). Otherwise the rows are read again from the start and written with that
 * typing while every one of them is still typed; the typing is checked every few thousand rows and at the end.
 * When it no longer holds, the write stops and says so (`written: false`): the sheet written so far is not the
 * view's, and the caller discards the workbook and writes it in two passes. When it holds, the sheet is the one two
 * passes write (each value is converted as pass 2 converts it, see `observingConverter`). Throws what pass 1 and
 * pass 2 throw.
 *
 * The first rows are read twice rather than kept: 10,000 rows kept in memory until they are written live long
 * enough to reach V8's old generation, and cost ≈ 25 MiB of peak RSS in a 1M-row run; reading them twice, ≈ 0.1 s.
 */
export async function writeViewOnce(input: ViewSheetInput, options: WriteViewOptions): Promise<OnePassResult> {
  const { sheetName, signal, timer } = input;
  const shaped = await timer.timed('parse', () => shapeRows(input.view, input.raw));
  const first = startTyping(shaped, input);
  input.onProgress?.({ sheet: sheetName, rows: 0, stage: 'type' });
  const ended = await timer.timed('parse', () => typeFirstRows(shaped, first));
  if (ended) {
    // The whole view was typed: exactly, as in two passes.
    input.onProgress?.({ sheet: sheetName, rows: first.count, rowsTotal: first.count, stage: 'type' });
    const prepared = preparedFrom(input, shaped, first.finish());
    return { written: true, prepared, outcome: await writePreparedView(prepared, options) };
  }

  const guess = first.inference.columns();
  // The typing of every row, this time with the filter check and the digest.
  const typing = startTyping(shaped, input);
  // The deals go into a collector opened for the first rows' typing (the final one, when the write holds).
  const deals = openDealCollector(guess, input.metrics, sheetName);
  const tap = options.collectDeals ? deals.collector : undefined;
  const convert = typing.inference.observingConverter(guess);
  const source = shaped.rows()[Symbol.asyncIterator]();
  let finished = false;
  let changedBy: number | undefined;
  const rows: AsyncIterator<TypedRow> = {
    async next(): Promise<IteratorResult<TypedRow>> {
      if (finished || changedBy !== undefined) return { value: undefined, done: true };
      const next = await source.next();
      if (next.done === true) {
        finished = true;
        return { value: undefined, done: true };
      }
      const row = next.value;
      typing.take(row);
      const count = ++typing.count;
      const t = convert(row);
      // Before the first rows were all typed again, the typing so far may still differ from theirs.
      if (count % CHECK_EVERY_ROWS === 0 && count >= GUESS_ROWS) {
        if (count % 65_536 === 0) throwIfAborted(signal);
        if (!sameColumns(typing.inference.columns(), guess)) {
          // The rest of the sheet would be written with the wrong typing: stop here.
          changedBy = count;
          return { value: undefined, done: true };
        }
      }
      tap?.observe(t);
      return { value: t, done: false };
    },
  };
  try {
    const written = await addRows(
      { input, columns: guess, rowCount: 0 },
      { [Symbol.asyncIterator]: () => rows },
      undefined,
      options,
    );
    const final = typing.inference.columns();
    if (changedBy !== undefined || !sameColumns(final, guess)) {
      return { written: false, column: firstDifferentColumn(final, guess), row: changedBy ?? typing.count };
    }
    input.onProgress?.({ sheet: sheetName, rows: typing.count, rowsTotal: typing.count, stage: 'write' });
    const prepared = preparedFrom(input, shaped, typing.finish(), deals);
    return { written: true, prepared, outcome: outcomeOf(prepared, written) };
  } finally {
    if (!finished) await source.return?.();
  }
}

/** Types up to {@link GUESS_ROWS} rows of `shaped` into `typing`; true when the view ended within them. */
async function typeFirstRows(shaped: ShapedRows, typing: Typing): Promise<boolean> {
  const source = shaped.rows()[Symbol.asyncIterator]();
  let ended = false;
  try {
    while (typing.count < GUESS_ROWS) {
      const next = await source.next();
      if (next.done === true) {
        ended = true;
        break;
      }
      typing.inference.observe(next.value);
      typing.take(next.value);
      typing.count += 1;
    }
  } finally {
    if (!ended) await source.return?.();
  }
  return ended;
}

interface ShapedRows {
  readonly header: readonly string[];
  /** Re-reads the rows from the start at every call (a view is read for its typing, then again to write it). */
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

/** What pass 1 found: the typing, the row count, the data hash part, the warnings. */
interface Typed {
  readonly columns: ColumnSpec[];
  readonly hashPart: string;
  readonly rowCount: number;
  readonly warnings: string[];
}

/**
 * Pass 1's state over one view's rows: the type inference, the filter check and (when the source does not digest
 * its bytes) the row digest. Each row goes to the inference (`inference.observe`, or a converter observing it) and
 * to `take`, and is counted in `count`; `finish` once the rows were read to the end.
 */
interface Typing {
  readonly inference: TypeInference;
  /** Takes a row into the filter check and the digest (not into the inference). */
  take(row: RawRow): void;
  count: number;
  /** The typing of every row seen; throws SourceError VIEW_EMPTY / VIEW_UNFILTERED under `onEmpty: fail`. */
  finish(): Typed;
}

function startTyping(shaped: ShapedRows, input: ViewSheetInput): Typing {
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
  const typing: Typing = {
    inference,
    count: 0,
    take(row: RawRow): void {
      check?.observe(row);
      digest?.addRow(row);
    },
    finish(): Typed {
      const count = typing.count;
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
    },
  };
  return typing;
}

/** Pass 1: infers each column's type, checks that the filters took, and digests the rows for the data hash. */
async function typeColumns(shaped: ShapedRows, input: ViewSheetInput): Promise<Typed> {
  const typing = startTyping(shaped, input);
  const { sheetName } = input;
  input.onProgress?.({ sheet: sheetName, rows: 0, stage: 'type' });
  for await (const row of shaped.rows()) {
    typing.inference.observe(row);
    typing.take(row);
    const count = ++typing.count;
    if (count % 65_536 === 0) throwIfAborted(input.signal);
    if (count % 10_000 === 0) input.onProgress?.({ sheet: sheetName, rows: count, stage: 'type' });
  }
  input.onProgress?.({ sheet: sheetName, rows: typing.count, rowsTotal: typing.count, stage: 'type' });
  return typing.finish();
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
/** A view's deal collector, if it has one, and what opening it found. */
interface OpenedDeals {
  readonly collector: DealCollector | undefined;
  readonly warnings: readonly string[];
  readonly alerts: readonly string[];
}

function openDealCollector(
  columns: readonly ColumnSpec[],
  metrics: ExportConfig['metrics'],
  sheetName: string,
): OpenedDeals {
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
