/**
 * One export run end to end: source → typing (and pivot) → metrics → workbook (temp file) → destination.
 * A run either delivers a complete workbook or leaves the previous one untouched; temp files are always removed;
 * the run never throws — failures come back as a failed RunReport (and are recorded when a store is given).
 */
import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExportConfig, ViewConfig } from '../config/schema.js';
import { viewSheetName } from '../config/rules.js';
import { AbortedError, AppError, SourceError, toAppError } from '../shared/errors.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { Redactor } from '../shared/redact.js';
import type { SheetSpec } from '../shared/sheet-spec.js';
import type { RawRow, TypedRow } from '../shared/table.js';
import { createTypeInference, createRowConverter } from '../transforms/infer-types.js';
import { hasMeasureColumns, pivotMeasureValues } from '../transforms/pivot-measures.js';
import { createFilterCheck } from '../transforms/filter-check.js';
import {
  createDealCollector,
  computePipelineMetrics,
  buildMetricSheets,
  deriveDealHistory,
  snapshotWindow,
  describeDealQuality,
} from '../transforms/metrics/index.js';
import { createWorkbookWriter, type WorkbookWriter } from '../workbook/workbook-writer.js';
import { sanitizeSheetName } from '../workbook/sheet-names.js';
import type { RunStore } from '../contracts/run-store.js';
import type { SnapshotStore } from '../contracts/snapshot-store.js';
import type { Destination, RawTable, Source, SourceSession, ViewRequest } from '../contracts/ports.js';
import { blankRunReport, type RunReport, type RunTrigger, type SheetReport } from '../contracts/run-report.js';
import { isoWithOffset, wallDate } from '../shared/time.js';
import { buildAboutSheet } from './about-sheet.js';
import { writeRunOwner } from './orphaned-runs.js';

export interface ExportJob {
  readonly exportConfig: ExportConfig;
  /** IANA zone of the export (its own or the config default). */
  readonly timezone: string;
  readonly runId: string;
  readonly trigger: RunTrigger;
  /** Resolve and fetch, build the workbook, but do not deliver it. */
  readonly dryRun?: boolean;
  /** Attempt number in queue mode. */
  readonly attempt?: number;
}

export interface RunProgress {
  readonly sheet: string;
  readonly rows: number;
  readonly stage: 'fetch' | 'parse' | 'write' | 'upload';
}

export interface PipelineDeps {
  /** The source for a view: the Tableau source, or the CSV source for `file:` views. */
  readonly sourceFor: (view: ViewConfig) => Source;
  readonly destination: Destination;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly redactor: Redactor;
  /** Folder for temp files (spooled downloads, the workbook before delivery). */
  readonly tempDir: string;
  readonly store?: RunStore | undefined;
  readonly snapshots?: SnapshotStore | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((p: RunProgress) => void) | undefined;
  /** Called once the run is recorded as running (the admin API answers 202 then). */
  readonly onStart?: ((runId: string) => void) | undefined;
  readonly toolVersion: string;
  /** maxAge for views that do not set their own (tableau.maxAgeMinutes). */
  readonly defaultMaxAgeMinutes?: number | undefined;
  /** Excel's row limit per sheet; overridable so limits can be exercised with small data. */
  readonly maxRowsPerSheet?: number | undefined;
}

interface SheetOutcome {
  readonly report: SheetReport;
  /** Every tab the view filled (more than one past Excel's row limit). */
  readonly sheetNames: readonly string[];
  readonly provenance: Readonly<Record<string, string>>;
  readonly filters: string;
}

/** Runs one export. Never throws: the returned report says succeeded, unchanged or failed. */
export async function runExport(job: ExportJob, deps: PipelineDeps): Promise<RunReport> {
  const { exportConfig: exp, runId } = job;
  // The scheduler hands over a logger that already carries the run's ids; binding them twice repeats them per line.
  const logger =
    deps.logger.bindings()['runId'] === runId ? deps.logger : deps.logger.child({ runId, exportId: exp.id });
  const started = deps.clock.now();
  const startedAt = isoWithOffset(started, job.timezone, { milliseconds: true });
  const timings: Record<string, number> = {};
  const warnings: string[] = [];
  const sheets: SheetOutcome[] = [];
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(deps.signal?.reason);
  if (deps.signal?.aborted === true) controller.abort(deps.signal.reason);
  deps.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = controller.signal;

  const alerts: string[] = [];
  let previous: RunReport | undefined;
  try {
    previous = deps.store === undefined ? undefined : await deps.store.lastSuccess(exp.id);
    await deps.store?.insertRun({
      runId,
      exportId: exp.id,
      trigger: job.trigger,
      startedAt,
      status: 'running',
      ...(job.attempt === undefined ? {} : { attempt: job.attempt }),
    });
  } catch (err) {
    // Without its history the run cannot record itself: say so as a failed report rather than throw.
    const e = toAppError(err, 'RUN_STORE_UNAVAILABLE');
    logger.error(
      { code: e.code },
      `run not started: the run history is unavailable: ${deps.redactor.redact(e.message)}`,
    );
    deps.signal?.removeEventListener('abort', onAbort);
    return blankRunReport({
      runId,
      exportId: exp.id,
      trigger: job.trigger,
      status: 'failed',
      startedAt,
      finishedAt: startedAt,
      durationMs: 0,
      error: {
        code: 'RUN_STORE_UNAVAILABLE',
        message: deps.redactor.redact(`the run history is unavailable: ${e.message}`),
      },
    });
  }
  deps.onStart?.(runId);
  logger.info({ trigger: job.trigger }, 'run started');

  const runTemp = join(deps.tempDir, `${exp.id}-${runId}`);
  const workbookPath = join(runTemp, `${exp.id}.xlsx`);
  const sessions = new Map<Source, Promise<SourceSession>>();
  const timed = async <T>(stage: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      timings[stage] = (timings[stage] ?? 0) + Math.round(performance.now() - t0);
    }
  };

  let bytes = 0;
  let dataHash: string | undefined;
  let destination: RunReport['destination'];
  let status: RunReport['status'] = 'succeeded';
  let error: RunReport['error'];
  let writer: WorkbookWriter | undefined;
  try {
    await mkdir(runTemp, { recursive: true });
    await writeRunOwner(runTemp, runId);
    // Created only now: the writer opens its file at once, so the folder must exist first.
    const book = createWorkbookWriter({
      filePath: workbookPath,
      zipLevel: exp.zipLevel,
      creator: `tableau-excel-export ${deps.toolVersion}`,
      now: started,
      ...(deps.maxRowsPerSheet === undefined ? {} : { maxRowsPerSheet: deps.maxRowsPerSheet }),
    });
    writer = book;
    const hash = createHash('sha256');
    const metricSheets: string[] = [];
    const collector =
      exp.metrics === undefined
        ? undefined
        : { config: exp.metrics, value: undefined as ReturnType<typeof createDealCollector> | undefined };

    for (const view of exp.views) {
      throwIfAborted(signal);
      const sheetName = viewSheetName(view);
      const source = deps.sourceFor(view);
      let session = sessions.get(source);
      if (session === undefined) {
        session = source.open({ logger, signal });
        sessions.set(source, session);
      }
      const open = await session;
      deps.onProgress?.({ sheet: sheetName, rows: 0, stage: 'fetch' });
      const raw = await timed('fetch', () =>
        open.fetchView(toViewRequest(view, deps.defaultMaxAgeMinutes ?? 1), { logger, signal, tempDir: runTemp }),
      );
      try {
        warnings.push(...raw.warnings.map((w) => `${sheetName}: ${w}`));
        const previousColumns = previous?.sheets.find((s) => s.sheet === sanitizeSheetName(sheetName))?.columns;
        const outcome = await writeViewSheet({
          view,
          sheetName,
          raw,
          writer: book,
          hash,
          signal,
          timed,
          deps,
          logger,
          warnings,
          alerts,
          collector,
          previousColumns,
        });
        sheets.push(outcome);
      } finally {
        await raw.dispose();
      }
    }
    // What else shapes the workbook: the export's settings, the tool version, and the metrics' as-of date (days in
    // stage change daily even on the same data). Same hash = the teammates' file would not change.
    hash.update(`\u001d${JSON.stringify(exp)}\u001d${deps.toolVersion}`);
    if (exp.metrics !== undefined)
      hash.update(`\u001d${(exp.metrics.asOf ?? wallDate(started, job.timezone)).toISOString().slice(0, 10)}`);
    dataHash = hash.digest('hex');
    // Everything is spooled to temp files now: end the Tableau session (and free its PAT) before metrics, writing and
    // a possibly long upload, so another export sharing the PAT is not held up by a workbook open in Excel.
    await closeSessions(sessions);

    if (collector?.value !== undefined) {
      const metricsConfig = collector.config;
      const specs = await timed('metrics', async () => {
        const asOf = metricsConfig.asOf ?? wallDate(started, job.timezone);
        const deals = collector.value!.deals();
        warnings.push(...describeDealQuality(collector.value!.quality(), metricsConfig.from));
        let history;
        if (deps.snapshots !== undefined) {
          const window = snapshotWindow(metricsConfig, asOf);
          // A dry run leaves no trace in the history.
          if (job.dryRun !== true) {
            deps.snapshots.saveSnapshot(exp.id, window.runDate, deals);
            deps.snapshots.prune(exp.id, window.pruneBefore);
          }
          history = deriveDealHistory(deps.snapshots.loadHistory(exp.id, window.loadSince), deals, asOf);
        }
        const metrics = computePipelineMetrics(deals, metricsConfig, asOf, history);
        return buildMetricSheets(metrics, metricsConfig);
      });
      for (const spec of specs) metricSheets.push(await book.addSpecSheet(spec));
    }

    const about: SheetSpec = buildAboutSheet({
      exportId: exp.id,
      description: exp.description,
      refreshedAt: isoWithOffset(started, job.timezone),
      timezone: job.timezone,
      runId,
      trigger: job.trigger,
      toolVersion: deps.toolVersion,
      sheets: sheets.map((s) => ({
        sheet: s.report.sheet,
        rows: s.report.rows,
        source: s.report.source,
        filters: s.filters,
        provenance: s.provenance,
      })),
      warnings,
      destination: deps.destination.describe(),
    });
    const aboutName = await book.addSpecSheet(about);
    // Summary first (it answers "how healthy is the pipeline?"), then the data, the other metric sheets, About last.
    const [summary, ...otherMetrics] = metricSheets;
    book.setTabOrder([
      ...(summary === undefined ? [] : [summary]),
      ...sheets.flatMap((s) => s.sheetNames),
      ...otherMetrics,
      aboutName,
    ]);
    const committed = await timed('write', () => book.commit());
    bytes = committed.bytes;
    warnings.push(...committed.warnings);

    if (job.dryRun === true) {
      destination = { location: `(dry run) ${deps.destination.describe()}` };
    } else {
      const skipUnchanged = exp.destination.skipUnchanged;
      const unchanged =
        skipUnchanged &&
        previous?.dataHash === dataHash &&
        previous.destination !== undefined &&
        (await deps.destination
          .holds?.({ ...previous.destination, bytes: previous.bytes }, { signal })
          .catch(() => false)) === true;
      if (unchanged && previous?.destination !== undefined) {
        status = 'unchanged';
        destination = previous.destination;
        // What is at the destination is the file delivered before, not the one just rebuilt.
        bytes = previous.bytes;
        logger.info('data unchanged since the last delivery; upload skipped');
      } else {
        throwIfAborted(signal);
        deps.onProgress?.({ sheet: '', rows: 0, stage: 'upload' });
        const delivered = await timed('upload', () =>
          deps.destination.deliver(
            { path: workbookPath, bytes, suggestedName: `${exp.id}.xlsx` },
            { logger, signal, runStartedAt: started, timezone: job.timezone },
          ),
        );
        warnings.push(...delivered.warnings);
        destination = {
          location: delivered.location,
          webUrl: delivered.webUrl,
          itemId: delivered.itemId,
          eTag: delivered.eTag,
        };
      }
    }
  } catch (err) {
    await writer?.abort();
    const appError =
      signal.aborted && !(err instanceof AppError && err.code !== 'ABORTED')
        ? new AbortedError('run aborted (service shutting down or cancelled)', { cause: err })
        : toAppError(err);
    status = 'failed';
    error = {
      code: appError.code === 'ABORTED' ? 'INTERRUPTED' : appError.code,
      message: deps.redactor.redact(appError.userMessage),
    };
    logger.error(
      {
        code: appError.code,
        err: appError.cause instanceof Error && appError.code === 'INTERNAL' ? appError.cause : undefined,
      },
      `run failed: ${error.message}`,
    );
  } finally {
    deps.signal?.removeEventListener('abort', onAbort);
    await closeSessions(sessions);
    await rm(runTemp, { recursive: true, force: true }).catch(() => undefined);
  }

  const finished = deps.clock.now();
  const report: RunReport = {
    runId,
    exportId: exp.id,
    trigger: job.trigger,
    status,
    startedAt,
    finishedAt: isoWithOffset(finished, job.timezone, { milliseconds: true }),
    durationMs: finished.getTime() - started.getTime(),
    sheets: sheets.map((s) => s.report),
    rows: sheets.reduce((n, s) => n + s.report.rows, 0),
    bytes: status === 'failed' ? 0 : bytes,
    destination,
    warnings: warnings.map((w) => deps.redactor.redact(w)),
    error,
    timings,
    dataHash,
    attempt: job.attempt,
    alerts: alerts.length === 0 ? undefined : alerts.map((w) => deps.redactor.redact(w)),
  };
  await deps.store
    ?.finishRun(report)
    .catch((err: unknown) =>
      logger.error(
        { err: err instanceof Error ? err.message : String(err) },
        'could not record the end of the run in the history',
      ),
    );
  logger.info(
    { status, rows: report.rows, bytes: report.bytes, durationMs: report.durationMs, timings },
    'run finished',
  );
  return report;
}

interface WriteViewArgs {
  readonly view: ViewConfig;
  readonly sheetName: string;
  readonly raw: RawTable;
  readonly writer: WorkbookWriter;
  readonly hash: ReturnType<typeof createHash>;
  readonly signal: AbortSignal;
  readonly timed: <T>(stage: string, fn: () => Promise<T>) => Promise<T>;
  readonly deps: PipelineDeps;
  readonly logger: Logger;
  readonly warnings: string[];
  readonly alerts: string[];
  readonly previousColumns: readonly string[] | undefined;
  readonly collector:
    | { config: NonNullable<ExportConfig['metrics']>; value: ReturnType<typeof createDealCollector> | undefined }
    | undefined;
}

/** Pass 1 types the columns (and checks filters), pass 2 converts and streams rows into the workbook. */
async function writeViewSheet(a: WriteViewArgs): Promise<SheetOutcome> {
  const { view, sheetName, raw } = a;
  let header: readonly string[] = raw.header;
  let rows: () => AsyncIterable<RawRow> = () => raw.rows();
  let formats: Record<string, string> | undefined;
  if (view.pivot && hasMeasureColumns(header)) {
    const wide = await a.timed('parse', () => pivotMeasureValues(raw.header, raw.rows()));
    header = wide.header;
    rows = () => iterate(wide.rows);
    formats = wide.formats;
    a.warnings.push(...wide.warnings.map((w) => `${sheetName}: ${w}`));
  }

  const filters = filterValues(view);
  const columns = await a.timed('parse', async () => {
    const inference = createTypeInference(header, formats === undefined ? undefined : { formats });
    const check = Object.keys(filters).length > 0 ? createFilterCheck(header, filters) : undefined;
    let count = 0;
    for await (const row of rows()) {
      inference.observe(row);
      check?.observe(row);
      a.hash.update(row.join('\u001f'));
      a.hash.update('\u001e');
      if (++count % 65_536 === 0) throwIfAborted(a.signal);
    }
    a.hash.update(`\u001d${sheetName}\u001d${header.join('\u001f')}`);
    if (count === 0) {
      const message = `view "${sheetName}" returned no rows${Object.keys(filters).length > 0 ? ' (the filters matched nothing, or a filter field name is wrong)' : ''}`;
      if (view.onEmpty === 'fail')
        throw new SourceError('VIEW_EMPTY', message, {
          hint: 'check the view and its filters in Tableau, or set onEmpty: warn',
        });
      a.warnings.push(`${sheetName}: ${message}`);
    }
    if (check !== undefined) {
      const result = check.result();
      if (result.unfiltered && view.onEmpty === 'fail') {
        throw new SourceError('VIEW_UNFILTERED', `${sheetName}: ${result.warnings.join('; ')}`, {
          hint: 'Tableau ignores unknown filter fields and values silently; use the field caption exactly as shown in Tableau',
        });
      }
      a.warnings.push(
        ...result.warnings.filter((w) => count > 0 || !/no rows/i.test(w)).map((w) => `${sheetName}: ${w}`),
      );
    }
    return inference.columns();
  });
  if (a.previousColumns !== undefined) {
    const removed = a.previousColumns.filter((c) => !header.includes(c));
    const added = header.filter((c) => !a.previousColumns?.includes(c));
    if (removed.length > 0) {
      const message = `${sheetName}: schema change — column${removed.length === 1 ? '' : 's'} ${removed.map((c) => `"${c}"`).join(', ')} no longer in the view since the last successful run`;
      a.alerts.push(message);
      a.warnings.push(message);
    }
    if (added.length > 0)
      a.warnings.push(
        `${sheetName}: new column${added.length === 1 ? '' : 's'} in the view: ${added.map((c) => `"${c}"`).join(', ')}`,
      );
  }

  let metricsTap: ((row: TypedRow) => void) | undefined;
  if (a.collector !== undefined && a.collector.config.from === sheetName) {
    try {
      a.collector.value = createDealCollector(columns, a.collector.config);
      const c = a.collector.value;
      metricsTap = (row) => c.observe(row);
    } catch (err) {
      // A mapped column vanished from the view: the data is still worth delivering; the metrics are not computed,
      // and the run says so loudly (warning + alert) instead of failing.
      if (!(err instanceof AppError && err.code === 'METRICS_COLUMN_MISSING')) throw err;
      const message = `metrics not computed: ${err.userMessage}`;
      a.alerts.push(message);
      a.warnings.push(message);
    }
  }

  const convert = createRowConverter(columns);
  const typed = async function* (): AsyncGenerator<TypedRow> {
    for await (const row of rows()) {
      const t = convert(row);
      metricsTap?.(t);
      yield t;
    }
  };
  const result = await a.timed('write', () =>
    a.writer.addDataSheet({
      name: sheetName,
      columns,
      rows: typed(),
      signal: a.signal,
      onProgress: (n) => a.deps.onProgress?.({ sheet: sheetName, rows: n, stage: 'write' }),
    }),
  );
  a.warnings.push(...result.warnings.map((w) => `${sheetName}: ${w}`));
  const filterText = Object.entries(view.filters)
    .map(([k, v]) => `${k} = ${(Array.isArray(v) ? v : [v]).join(' | ')}`)
    .concat(Object.entries(view.parameters).map(([k, v]) => `Parameter ${k} = ${String(v)}`))
    .join('; ');
  return {
    report: {
      sheet: result.sheetNames[0] ?? sheetName,
      rows: result.rows,
      source: describeSource(view, raw),
      columns: header,
    },
    sheetNames: result.sheetNames,
    provenance: raw.provenance,
    filters: filterText,
  };
}

function describeSource(view: ViewConfig, raw: RawTable): string {
  const p = raw.provenance;
  if (view.file !== undefined) return `CSV file ${p['file'] ?? view.file}`;
  const name =
    view.workbook !== undefined ? `${view.workbook} / ${view.view ?? ''}` : (view.contentUrl ?? view.viewId ?? '');
  return `Tableau view ${name}${p['viewUrl'] !== undefined ? ` (${p['viewUrl']})` : ''}`;
}

/** A view's filters as field → accepted values (strings, as Tableau compares them). */
function filterValues(view: ViewConfig): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(view.filters).map(([k, v]) => [k, (Array.isArray(v) ? v : [v]).map(String)]),
  );
}

/** The source-facing request of a configured view. */
export function toViewRequest(view: ViewConfig, defaultMaxAge: number): ViewRequest {
  return {
    workbook: view.workbook,
    view: view.view,
    project: view.project,
    contentUrl: view.contentUrl,
    viewId: view.viewId,
    file: view.file,
    filters: filterValues(view),
    parameters: Object.fromEntries(Object.entries(view.parameters).map(([k, v]) => [k, String(v)])),
    maxAgeMinutes: view.maxAgeMinutes ?? defaultMaxAge,
  };
}

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** Ends every source session (Tableau sign-out); idempotent, never throws. */
async function closeSessions(sessions: Map<Source, Promise<SourceSession>>): Promise<void> {
  const open = [...sessions.values()];
  sessions.clear();
  for (const s of open) await s.then((session) => session.close()).catch(() => undefined);
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new AbortedError('run aborted (service shutting down or cancelled)');
}
