/**
 * One export run end to end: source → typing (and pivot) → metrics → workbook (temp file) → destination.
 * A run either delivers a complete workbook or leaves the previous one untouched; temp files are always removed;
 * the run never throws — failures come back as a failed RunReport (and are recorded when a store is given).
 *
 * `runExport` only orchestrates: each stage is a function that returns what it found (view-sheet.ts,
 * metric-sheets.ts, about-sheet.ts, data-hash.ts), and this file gathers their results into the report.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  CurrentFile,
  DeliveryResult,
  Destination,
  PreviousDelivery,
  Source,
  SourceSession,
  ViewRequest,
} from '../contracts/ports.js';
import {
  blankRunReport,
  type BurstSummary,
  type PartReport,
  type RunReport,
  type RunTrigger,
  type TableUpdateSummary,
  type WorkbookUpdateReport,
} from '../contracts/run-report.js';
import type { RunStore } from '../contracts/run-store.js';
import type { SnapshotStore } from '../contracts/snapshot-store.js';
import type { ExportConfig, ViewConfig } from '../config/schema.js';
import { viewSheetName } from '../config/rules.js';
import { AbortedError, AppError, DestinationError, SourceError, toAppError } from '../shared/errors.js';
import { ensurePrivateDir } from '../shared/private-files.js';
import type { SheetSpec } from '../shared/sheet-spec.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { Redactor } from '../shared/redact.js';
import { createTranslator } from '../shared/i18n/translator.js';
import { formatLocalTime, isoWithOffset, wallDate } from '../shared/time.js';
import type { DealCollector } from '../transforms/metrics/index.js';
import { createWorkbookWriter, type KeptParts, type WorkbookWriter } from '../workbook/workbook-writer.js';
import { openWorkbookUpdate } from '../workbook/update/workbook-update.js';
import { sanitizeSheetName } from '../workbook/sheet-names.js';
import { buildAboutSheet } from './about-sheet.js';
import { partMetricSheets, partSnapshotKey, type RetryOf, type SheetPart } from './burst.js';
import { runBurst } from './burst-run.js';
import { throwIfAborted } from './abort.js';
import { annotateTable } from './annotate-table.js';
import { planViews, type PlannedView } from './dashboard-views.js';
import { freshnessRuleFor, guardFreshness, oldestDataAsOf, StaleDataSkip, type FreshnessFinding } from './freshness.js';
import { combineDataHash } from './data-hash.js';
import { buildMetricsStage, previousRunDate } from './metric-sheets.js';
import { writeRunOwner } from './orphaned-runs.js';
import type { RunProgress } from './run-progress.js';
import { createSourceSessions } from './source-sessions.js';
import { createStageTimer, type StageTimer } from './stage-timer.js';
import {
  filterValues,
  GUESS_ROWS,
  prepareView,
  writePreparedView,
  writeViewOnce,
  type PreparedView,
  type SheetOutcome,
  type ViewOutcome,
  type ViewSheetInput,
  type WriteViewOptions,
} from './view-sheet.js';

export type { RunProgress } from './run-progress.js';

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
  /** A burst retry (`run --failed`): the failed run whose delivered parts are kept instead of run again. */
  readonly retryOf?: RetryOf | undefined;
}

export interface PipelineDeps {
  /** The source for a view: the Tableau source, or the CSV source for `file:` views. */
  readonly sourceFor: (view: ViewConfig) => Source;
  readonly destination: Destination;
  /** A burst into files: the destination of one part (its export's destination has the path filled in). */
  readonly partDestination?: ((partExport: ExportConfig) => Destination) | undefined;
  /** The run's logger; `runId` and `exportId` are bound unless it already carries them. */
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
}

/** What the run found so far: a failed run reports it too. Filled only by {@link runExport}'s own steps. */
export interface RunSoFar {
  readonly sheets: SheetOutcome[];
  readonly warnings: string[];
  readonly alerts: string[];
  dataHash: string | undefined;
  /** Update mode: what each refreshed table kept and added (the last build's). */
  readonly updates: TableUpdateSummary[];
  update: WorkbookUpdateReport | undefined;
  /** A burst: its values, and every part's outcome. */
  burst?: BurstSummary | undefined;
  parts?: PartReport[] | undefined;
  /** The view being fetched and typed (unset once every view is), to tell which burst part failed. */
  viewIndex?: number | undefined;
}

/** How the run ended, apart from what {@link RunSoFar} holds. */
export interface RunEnd {
  readonly status: RunReport['status'];
  readonly bytes: number;
  readonly destination: RunReport['destination'];
  readonly error: RunReport['error'];
  readonly note?: string | undefined;
}

/** The context every step of one run shares. */
export interface RunScope {
  readonly job: ExportJob;
  readonly deps: PipelineDeps;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly timer: StageTimer;
  readonly started: Date;
  /** The last successful run (succeeded or unchanged), for schema changes and skip-unchanged. */
  readonly previous: RunReport | undefined;
  /** This run's temp folder; removed at the end whatever happens. */
  readonly runTemp: string;
  /** A burst into sheets: the part of each view (by index). */
  readonly sheetParts?: readonly SheetPart[] | undefined;
  /** A burst into files: the value of the part this scope builds (its own snapshots). */
  readonly partValue?: string | undefined;
}

/** Runs one export. Never throws: the returned report says succeeded, unchanged or failed. */
export async function runExport(job: ExportJob, deps: PipelineDeps): Promise<RunReport> {
  const { exportConfig: exp, runId } = job;
  // The scheduler hands over a logger that already carries the run's ids; binding them twice repeats them per line.
  const logger =
    deps.logger.bindings()['runId'] === runId ? deps.logger : deps.logger.child({ runId, exportId: exp.id });
  const started = deps.clock.now();
  const startedAt = isoWithOffset(started, job.timezone, { milliseconds: true });
  const begun = await recordStart(job, deps, logger, startedAt);
  if ('failed' in begun) return begun.failed;
  deps.onStart?.(runId);
  logger.info({ trigger: job.trigger }, 'run started');

  const controller = new AbortController();
  const onAbort = (): void => controller.abort(deps.signal?.reason);
  if (deps.signal?.aborted === true) controller.abort(deps.signal.reason);
  deps.signal?.addEventListener('abort', onAbort, { once: true });
  const scope: RunScope = {
    job,
    deps,
    logger,
    signal: controller.signal,
    timer: createStageTimer(),
    started,
    previous: begun.previous,
    runTemp: join(deps.tempDir, `${exp.id}-${runId}`),
  };
  const soFar: RunSoFar = { sheets: [], warnings: [], alerts: [], dataHash: undefined, updates: [], update: undefined };
  let end: RunEnd;
  try {
    const burst = exp.burst;
    end = await (burst === undefined
      ? buildAndDeliver(scope, soFar)
      : runBurst(scope, soFar, burst, { buildAndDeliver, describeFailure, assembleReport, toViewRequest }));
  } catch (err) {
    end = err instanceof StaleDataSkip ? staleDataEnd(scope, soFar, err) : describeFailure(scope, err);
  } finally {
    deps.signal?.removeEventListener('abort', onAbort);
    await rm(scope.runTemp, { recursive: true, force: true }).catch(() => undefined);
  }

  const report = assembleReport(scope, soFar, end, startedAt);
  await deps.store
    ?.finishRun(report)
    .catch((err: unknown) =>
      logger.error(
        { err: err instanceof Error ? err.message : String(err) },
        'could not record the end of the run in the history',
      ),
    );
  logger.info(
    {
      status: report.status,
      rows: report.rows,
      bytes: report.bytes,
      durationMs: report.durationMs,
      timings: report.timings,
    },
    'run finished',
  );
  return report;
}

/**
 * Reads the last success and records the run as running. Without its history the run cannot record itself: that
 * is a failed report rather than a throw.
 */
async function recordStart(
  job: ExportJob,
  deps: PipelineDeps,
  logger: Logger,
  startedAt: string,
): Promise<{ previous: RunReport | undefined } | { failed: RunReport }> {
  const { exportConfig: exp, runId } = job;
  try {
    const previous = deps.store === undefined ? undefined : await deps.store.lastSuccess(exp.id);
    await deps.store?.insertRun({
      runId,
      exportId: exp.id,
      trigger: job.trigger,
      startedAt,
      status: 'running',
      ...(job.attempt === undefined ? {} : { attempt: job.attempt }),
    });
    return { previous };
  } catch (err) {
    const e = toAppError(err, 'RUN_STORE_UNAVAILABLE');
    logger.error(
      { code: e.code },
      `run not started: the run history is unavailable: ${deps.redactor.redact(e.message)}`,
    );
    const message = deps.redactor.redact(`the run history is unavailable: ${e.message}`);
    return {
      failed: blankRunReport({
        runId,
        exportId: exp.id,
        trigger: job.trigger,
        status: 'failed',
        startedAt,
        finishedAt: startedAt,
        durationMs: 0,
        error: { code: 'RUN_STORE_UNAVAILABLE', message },
      }),
    };
  }
}

/**
 * Fetches every view, then builds the workbook and delivers it. A new workbook (replace mode, and dry runs) is
 * written in one read of each view ({@link writeViewsOnce}); update mode types every view first (its tables are
 * planned from the row counts and keys) and writes the team's current file, again on a newer version when a
 * teammate saved it meanwhile.
 */
async function buildAndDeliver(scope: RunScope, soFar: RunSoFar): Promise<RunEnd> {
  const { job } = scope;
  await ensurePrivateDir(scope.runTemp);
  await writeRunOwner(scope.runTemp, job.runId);
  const inputs: ViewSheetInput[] = [];
  try {
    await fetchViews(scope, soFar, inputs);
    const metrics: MetricsCache = { specs: undefined };
    if (job.exportConfig.destination.mode === 'update' && job.dryRun !== true) {
      const prepared = await typeViews(scope, soFar, inputs);
      checkKeys(job.exportConfig, prepared);
      return await updateTeamWorkbook(scope, soFar, prepared, metrics);
    }
    const built = await writeViewsOnce(scope, soFar, inputs, metrics);
    return await deliverWorkbook(scope, soFar, built, {});
  } finally {
    for (const input of inputs) await input.raw.dispose();
  }
}

/**
 * Fetches every view (one session per source) into `inputs`. The sessions end before any view is read: everything
 * is spooled to temp files by then, so another export sharing the PAT is not held up by a long write or by a
 * workbook open in Excel.
 */
async function fetchViews(scope: RunScope, soFar: RunSoFar, inputs: ViewSheetInput[]): Promise<void> {
  const { job, deps, logger, signal, timer } = scope;
  const exp = job.exportConfig;
  const sessions = createSourceSessions({ logger, signal });
  try {
    const planned = await planViews(exp.views, {
      sourceFor: deps.sourceFor,
      sessionFor: (source) => sessions.sessionFor(source),
      logger,
      signal,
    });
    for (const [index, plan] of planned.entries()) {
      throwIfAborted(signal);
      const view = plan.view;
      soFar.viewIndex = index;
      const sheetName = viewSheetName(view);
      const onProgress = progressAt(deps, index, planned.length);
      onProgress?.({ sheet: sheetName, rows: 0, stage: 'resolve' });
      const session = await sessions.sessionFor(deps.sourceFor(view));
      const request = toViewRequest(view, deps.defaultMaxAgeMinutes ?? 1);
      const found = await checkFreshness(scope, { plan, session, request });
      soFar.alerts.push(...found.alerts);
      onProgress?.({ sheet: sheetName, rows: 0, stage: 'fetch' });
      const fetched = await timer.timed('fetch', () =>
        session.fetchView(request, { logger, signal, tempDir: scope.runTemp }),
      );
      inputs.push({
        view,
        sheetName,
        raw: annotateTable(fetched, {
          warnings: [...plan.warnings, ...found.warnings],
          provenance: found.provenance,
        }),
        metrics: metricsOfView(scope, index),
        previousColumns: scope.previous?.sheets.find((s) => s.sheet === sanitizeSheetName(sheetName))?.columns,
        signal,
        timer,
        onProgress,
      });
    }
  } finally {
    await sessions.closeAll();
  }
  soFar.viewIndex = undefined;
}

/** Pass 1 over every fetched view (see prepareView); the run's data hash is known afterwards. */
async function typeViews(scope: RunScope, soFar: RunSoFar, inputs: readonly ViewSheetInput[]): Promise<PreparedView[]> {
  const prepared: PreparedView[] = [];
  for (const [index, input] of inputs.entries()) {
    throwIfAborted(scope.signal);
    soFar.viewIndex = index;
    prepared.push(await prepareView(input));
  }
  soFar.viewIndex = undefined;
  setDataHash(scope, soFar, prepared);
  return prepared;
}

/** The run's data hash, from every view's part (see data-hash.ts), the settings and the metrics' as-of date. */
function setDataHash(scope: RunScope, soFar: RunSoFar, prepared: readonly PreparedView[]): void {
  const exp = scope.job.exportConfig;
  const asOf =
    exp.metrics === undefined ? undefined : (exp.metrics.asOf ?? wallDate(scope.started, scope.job.timezone));
  soFar.dataHash = combineDataHash({
    views: prepared.map((p) => p.hashPart),
    exportSettings: exp,
    toolVersion: scope.deps.toolVersion,
    metricsAsOf: asOf,
  });
}

/**
 * A new workbook, each view typed and written in one read (see writeViewOnce). When a view's later rows change the
 * typing its first rows gave, that workbook is discarded and the views are written in two passes, typed first:
 * slower, same file.
 */
async function writeViewsOnce(
  scope: RunScope,
  soFar: RunSoFar,
  inputs: readonly ViewSheetInput[],
  metrics: MetricsCache,
): Promise<BuiltWorkbook> {
  const onePass: PreparedView[] = [];
  const alertsBefore = soFar.alerts.length;
  const built = await buildWorkbook(
    scope,
    soFar,
    inputs,
    async (index, options) => {
      const input = inputs[index] as ViewSheetInput;
      soFar.viewIndex = index;
      const result = await writeViewOnce(input, options);
      soFar.viewIndex = undefined;
      if (!result.written) {
        scope.logger.info(
          { sheet: input.sheetName, column: result.column, row: result.row },
          `the typing of the first ${GUESS_ROWS.toLocaleString('en-US')} rows of "${input.sheetName}" did not hold (column "${result.column ?? '?'}" changed by row ${result.row.toLocaleString('en-US')}); typing every view before writing`,
        );
        return undefined;
      }
      onePass.push(result.prepared);
      return result.outcome;
    },
    { team: undefined, attempt: 0, metrics },
  );
  if (built !== undefined) {
    setDataHash(scope, soFar, onePass);
    return built;
  }
  // What the discarded workbook's views said is said again by the two-pass build.
  soFar.alerts.length = alertsBefore;
  const prepared = await typeViews(scope, soFar, inputs);
  return buildPrepared(scope, soFar, prepared, { team: undefined, attempt: 0, metrics });
}

/** The freshness guard of one planned view, when its view or export sets `freshness` (else nothing to check). */
async function checkFreshness(
  scope: RunScope,
  at: { readonly plan: PlannedView; readonly session: SourceSession; readonly request: ViewRequest },
): Promise<FreshnessFinding> {
  const rule = freshnessRuleFor(at.plan.view, scope.job.exportConfig);
  if (rule === undefined) return { provenance: {}, warnings: [], alerts: [] };
  return guardFreshness({
    ...at,
    rule,
    label: at.plan.label,
    now: scope.deps.clock.now(),
    timezone: scope.job.timezone,
    logger: scope.logger,
    signal: scope.signal,
  });
}

/** The run's progress reporter for the view at `index` of `count` (1-based position added), if anyone listens. */
function progressAt(deps: PipelineDeps, index: number, count: number): ((p: RunProgress) => void) | undefined {
  const report = deps.onProgress;
  if (report === undefined) return undefined;
  return (p) => report({ ...p, sheetIndex: index + 1, sheetCount: count });
}

/** The metric sheets, computed once per run (after the first write collected the deals): snapshots are saved once. */
interface MetricsCache {
  specs: SheetSpec[] | undefined;
}

/** What a workbook is built on: a new file or the team's, which try of the run, the run's metric sheets. */
interface BuildTarget {
  readonly team: CurrentFile | undefined;
  readonly attempt: number;
  readonly metrics: MetricsCache;
}

/**
 * Writes the view at `index` into `options.writer`; undefined when it could not (a one-pass write whose typing did
 * not hold): the workbook is then discarded.
 */
type WriteView = (index: number, options: WriteViewOptions) => Promise<ViewOutcome | undefined>;

/** A workbook built in the run's temp folder, and what its views and sheets said. */
interface BuiltWorkbook {
  readonly path: string;
  readonly bytes: number;
  /** Update mode: what of the team's workbook was kept as it was. */
  readonly kept?: KeptParts | undefined;
}

/**
 * Writes every prepared view, the metric sheets and the About sheet into a new workbook, or (update mode, `team`
 * given) into the team's current file; commits it. Records the views' outcomes and warnings in `soFar`.
 */
async function buildWorkbook(
  scope: RunScope,
  soFar: RunSoFar,
  views: readonly ViewSheetInput[],
  writeView: WriteView,
  target: BuildTarget,
): Promise<BuiltWorkbook | undefined> {
  const { job, deps, timer, started } = scope;
  const exp = job.exportConfig;
  const path = join(scope.runTemp, `${exp.id}-${target.attempt + 1}.xlsx`);
  const common = {
    zipLevel: exp.zipLevel,
    creator: `tableau-excel-export ${deps.toolVersion}`,
    now: started,
    printFooter: createTranslator(exp.workbook.language).t('format.printFooter'),
  };
  const updating = target.team !== undefined;
  let book: WorkbookWriter;
  if (target.team === undefined) book = createWorkbookWriter({ filePath: path, ...common });
  else {
    const tempDir = join(scope.runTemp, `update-${target.attempt + 1}`);
    await ensurePrivateDir(tempDir);
    book = await timer.timed('write', () =>
      openWorkbookUpdate({
        teamFile: target.team?.path ?? '',
        label: target.team?.location ?? '',
        filePath: path,
        tempDir,
        ...common,
      }),
    );
  }
  try {
    soFar.sheets.length = 0;
    soFar.updates.length = 0;
    const warnings: string[] = [];
    // One deal set per run; a burst into sheets has one per part (each part its own metrics).
    const dealSets: { part: string | undefined; deals: DealCollector }[] = [];
    for (const [index, input] of views.entries()) {
      const outcome = await writeView(index, {
        writer: book,
        collectDeals: target.attempt === 0,
        table: input.view.table,
        update: updating,
        onProgress: progressAt(deps, index, views.length),
      });
      if (outcome === undefined) {
        await book.abort();
        return undefined;
      }
      soFar.sheets.push(outcome.sheet);
      warnings.push(...outcome.warnings);
      if (target.attempt === 0) soFar.alerts.push(...outcome.alerts);
      if (outcome.update !== undefined) soFar.updates.push(outcome.update);
      const part = scope.sheetParts?.[index]?.value;
      if (outcome.deals !== undefined && (dealSets.length === 0 || part !== undefined))
        dealSets.push({ part, deals: outcome.deals });
    }
    const from = exp.metrics?.from;
    if (from !== undefined && dealSets.length === 0 && target.metrics.specs === undefined) {
      // Only a dashboard's sheets are known this late (validate checks every other metrics.from): say why the
      // metric sheets are missing rather than leaving them out silently.
      warnings.push(
        `metrics.from "${from}" is none of this run's sheets (${soFar.sheets.map((s) => `"${s.sheet}"`).join(', ')}); no metric sheets were written: set metrics.from to one of them`,
      );
    }
    target.metrics.specs ??= await allMetricSheets(
      scope,
      dealSets,
      warnings,
      oldestDataAsOf(soFar.sheets.map((s) => s.provenance)),
    );
    const metricNames: string[] = [];
    for (const spec of target.metrics.specs) metricNames.push(await book.addSpecSheet(spec));
    soFar.warnings.splice(0, soFar.warnings.length, ...warnings);
    const dataAsOf = dataAsOfText(soFar.sheets, job.timezone);
    const aboutName = await book.addSpecSheet(
      buildAboutSheet({
        exportId: exp.id,
        description: exp.description,
        refreshedAt: isoWithOffset(started, job.timezone),
        timezone: job.timezone,
        runId: job.runId,
        trigger: job.trigger,
        toolVersion: deps.toolVersion,
        sheets: soFar.sheets,
        warnings: soFar.warnings,
        destination: deps.destination.describe(),
        updates: soFar.updates,
        language: exp.workbook.language,
        dataAsOf,
      }),
    );
    // Summary first (it answers "how healthy is the pipeline?"), then the data, the other metric sheets, About last.
    // A burst into sheets: each part's metric sheets after the data (they carry the part's name).
    const [summary, ...otherMetrics]: (string | undefined)[] =
      scope.sheetParts === undefined ? metricNames : [undefined, ...metricNames];
    book.setTabOrder([
      ...(summary === undefined ? [] : [summary]),
      ...soFar.sheets.flatMap((s) => s.sheetNames),
      ...otherMetrics.filter((n): n is string => n !== undefined),
      aboutName,
    ]);
    const committed = await timer.timed('write', () => book.commit());
    soFar.warnings.push(...committed.warnings);
    return { path, bytes: committed.bytes, kept: committed.kept };
  } catch (err) {
    await book.abort();
    throw err;
  }
}

/** {@link buildWorkbook} from views typed beforehand (pass 1), each with its update-mode key. */
async function buildPrepared(
  scope: RunScope,
  soFar: RunSoFar,
  prepared: readonly PreparedView[],
  target: BuildTarget,
): Promise<BuiltWorkbook> {
  const exp = scope.job.exportConfig;
  const built = await buildWorkbook(
    scope,
    soFar,
    prepared.map((p) => p.input),
    (index, options) => {
      const p = prepared[index] as PreparedView;
      return writePreparedView(p, { ...options, key: keyOf(exp, p, index) });
    },
    target,
  );
  // Only a one-pass write stops short (writeViewOnce).
  if (built === undefined) throw new Error('a view typed beforehand was not written');
  return built;
}

/** The About sheet's "Data as of": the oldest data behind the sheets, in the export's zone (see oldestDataAsOf). */
function dataAsOfText(sheets: readonly SheetOutcome[], timezone: string): string | undefined {
  const oldest = oldestDataAsOf(sheets.map((s) => s.provenance));
  return oldest instanceof Date ? isoWithOffset(oldest, timezone) : oldest;
}

/** The metric sheets of every deal set: the run's, or (burst into sheets) each part's, named after its value. */
async function allMetricSheets(
  scope: RunScope,
  dealSets: readonly { part: string | undefined; deals: DealCollector }[],
  warnings: string[],
  dataAsOf: Date | 'live' | undefined,
): Promise<SheetSpec[]> {
  if (scope.sheetParts === undefined)
    return metricSheets(scope, dealSets[0]?.deals, warnings, dataAsOf, scope.partValue);
  const specs: SheetSpec[] = [];
  for (const { part, deals } of dealSets) {
    const partWarnings: string[] = [];
    const own = await metricSheets(scope, deals, partWarnings, dataAsOf, part);
    specs.push(...(part === undefined ? own : partMetricSheets(part, own)));
    warnings.push(...partWarnings.map((w) => (part === undefined ? w : `${part}: ${w}`)));
  }
  return specs;
}

/** The metrics settings a view's pass 1 sees: a burst into sheets collects the deals of each part's metrics view. */
function metricsOfView(scope: RunScope, index: number): ExportConfig['metrics'] {
  const exp = scope.job.exportConfig;
  const part = scope.sheetParts?.[index];
  const view = exp.views[index];
  if (part === undefined || exp.metrics === undefined || view === undefined) return exp.metrics;
  return part.baseSheet === exp.metrics.from ? { ...exp.metrics, from: viewSheetName(view) } : undefined;
}

/** Computes the metric sheets from the deals the first write collected (empty when metrics are off). */
async function metricSheets(
  scope: RunScope,
  deals: DealCollector | undefined,
  warnings: string[],
  dataAsOf: Date | 'live' | undefined,
  part?: string,
): Promise<SheetSpec[]> {
  const { job, deps, timer, started } = scope;
  const exp = job.exportConfig;
  const metrics = exp.metrics;
  if (metrics === undefined || deals === undefined) return [];
  const stage = await timer.timed('metrics', async () =>
    buildMetricsStage({
      exportId: partSnapshotKey(exp.id, part),
      metrics,
      deals,
      asOf: metrics.asOf ?? wallDate(started, job.timezone),
      snapshots: deps.snapshots,
      saveSnapshot: job.dryRun !== true,
      language: exp.workbook.language,
      refresh: { at: started, timeZone: job.timezone, dataAsOf, part },
      previousRunDate: previousRunDate(scope.previous?.startedAt, metrics.asOf, job.timezone),
    }),
  );
  warnings.push(...stage.warnings);
  return stage.specs;
}

/**
 * Update mode: downloads the team's workbook, patches it, and writes it back only if nobody saved meanwhile; on a
 * teammate's save (DESTINATION_CHANGED) it downloads and patches again, up to `update.conflictRetries` times.
 */
async function updateTeamWorkbook(
  scope: RunScope,
  soFar: RunSoFar,
  prepared: readonly PreparedView[],
  metrics: MetricsCache,
): Promise<RunEnd> {
  const { job, deps, logger, signal, timer } = scope;
  const settings = job.exportConfig.destination.update;
  const fetchCurrent = deps.destination.fetchCurrent?.bind(deps.destination);
  if (fetchCurrent === undefined) {
    throw new DestinationError(
      'DESTINATION_WRITE_FAILED',
      `${deps.destination.describe()} cannot be updated in place`,
      {
        hint: 'use destination.mode: replace for this destination',
      },
    );
  }
  const previous = previousDelivery(scope.previous);
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(signal);
    deps.onProgress?.({ sheet: '', rows: 0, stage: 'download' });
    const current = await timer.timed('download', () =>
      fetchCurrent({
        logger,
        signal,
        tempDir: scope.runTemp,
        maxBytes: settings.maxBytes,
        dataHash: soFar.dataHash,
        previous,
      }),
    );
    if (current !== undefined && 'unchanged' in current) return unchangedEnd(scope, previous, current.location);
    try {
      const built = await buildPrepared(scope, soFar, prepared, { team: current, attempt, metrics });
      soFar.update = {
        created: current === undefined,
        conflicts: attempt,
        tables: [...soFar.updates],
        keptParts: built.kept?.parts,
        teamSheets: built.kept?.sheets,
      };
      return await deliverWorkbook(
        scope,
        soFar,
        built,
        current === undefined ? { ifAbsent: true } : { ifMatch: current.version },
      );
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'DESTINATION_CHANGED')) throw err;
      if (attempt >= settings.conflictRetries) {
        throw new DestinationError(
          'WORKBOOK_UPDATE_CONFLICT',
          `${deps.destination.describe()} was saved by someone else ${attempt + 1} time(s) while the export was updating it; the teammates' version was kept and the refresh was not written`,
          {
            hint: 'the next run will try again; raise destination.update.conflictRetries if this keeps happening',
            cause: err,
          },
        );
      }
      logger.warn(
        { attempt: attempt + 1 },
        `a teammate saved the workbook while it was being refreshed; downloading it again and patching the new version`,
      );
    } finally {
      if (current !== undefined) await rm(current.path, { force: true });
    }
  }
}

/** A key column named in the config must be a column of its view (else nothing could follow it). */
function checkKeys(exp: ExportConfig, prepared: readonly PreparedView[]): void {
  prepared.forEach((p, j) => {
    const key = p.input.view.key;
    if (
      key === undefined ||
      p.columns.some((c) => c.name.toLocaleUpperCase('en-US') === key.toLocaleUpperCase('en-US'))
    )
      return;
    throw new SourceError(
      'WORKBOOK_UPDATE_KEY_MISSING',
      `the key column "${key}" (views[${j}].key of export '${exp.id}') is not a column of view "${p.input.sheetName}"; its columns: ${p.columns.map((c) => `"${c.name}"`).join(', ')}`,
      { hint: "set views[].key to one of the view's columns (as Tableau names it); the workbook was not changed" },
    );
  });
}

/** The column that keys a view's rows in update mode: `views[].key`, else the metrics id column when the view has it. */
function keyOf(exp: ExportConfig, p: PreparedView, index: number): { column: string | undefined; setting: string } {
  const setting = `views[${index}].key`;
  if (p.input.view.key !== undefined) return { column: p.input.view.key, setting };
  const id = exp.metrics?.columns.id;
  if (id !== undefined && p.columns.some((c) => c.name === id))
    return { column: id, setting: `${setting} (default: metrics.columns.id)` };
  return { column: undefined, setting };
}

/** Hands the finished file to the destination (which may find it unchanged), or stops there on a dry run. */
async function deliverWorkbook(
  scope: RunScope,
  soFar: RunSoFar,
  file: BuiltWorkbook,
  condition: { readonly ifMatch?: string; readonly ifAbsent?: boolean },
): Promise<RunEnd> {
  const { job, deps, logger, signal, timer } = scope;
  const exp = job.exportConfig;
  if (job.dryRun === true) {
    return {
      status: 'succeeded',
      bytes: file.bytes,
      destination: { location: `(dry run) ${deps.destination.describe()}` },
      error: undefined,
    };
  }
  throwIfAborted(signal);
  const previous = previousDelivery(scope.previous);
  const onUpload = (bytesSent: number, bytesTotal: number): void =>
    deps.onProgress?.({ sheet: '', rows: 0, stage: 'upload', bytesSent, bytesTotal });
  onUpload(0, file.bytes);
  const delivered: DeliveryResult = await timer.timed('upload', () =>
    deps.destination.deliver(
      { ...file, suggestedName: `${exp.id}.xlsx`, dataHash: soFar.dataHash ?? '' },
      { logger, signal, runStartedAt: scope.started, timezone: job.timezone, previous, onUpload, ...condition },
    ),
  );
  soFar.warnings.push(...delivered.warnings);
  const where = {
    location: delivered.location,
    webUrl: delivered.webUrl,
    itemId: delivered.itemId,
    eTag: delivered.eTag,
  };
  if (delivered.unchanged === true && previous !== undefined) {
    const note = describeUnchanged(scope, previous);
    logger.info(note);
    // What is at the destination is the file delivered before, not the one just rebuilt.
    return {
      status: 'unchanged',
      bytes: previous.bytes,
      destination: { ...where, deliveredAt: previous.deliveredAt },
      error: undefined,
      note,
    };
  }
  const deliveredAt = isoWithOffset(deps.clock.now(), job.timezone, { milliseconds: true });
  return { status: 'succeeded', bytes: file.bytes, destination: { ...where, deliveredAt }, error: undefined };
}

/** The run found its data unchanged and the delivered file in place (update mode, before downloading anything). */
function unchangedEnd(scope: RunScope, previous: PreviousDelivery | undefined, location: string): RunEnd {
  const note = describeUnchanged(scope, previous);
  scope.logger.info(note);
  return {
    status: 'unchanged',
    bytes: previous?.bytes ?? 0,
    destination: keptDestination(previous) ?? { location },
    error: undefined,
    note,
  };
}

/**
 * `freshness.then: skip`: nothing was fetched or written; the destination still holds the last delivery, which the
 * run names (a `skipped` run with its reason as note, warning and alert).
 */
function staleDataEnd(scope: RunScope, soFar: RunSoFar, skip: StaleDataSkip): RunEnd {
  const previous = previousDelivery(scope.previous);
  const kept =
    previous === undefined
      ? 'there is no previous file yet'
      : `teammates keep the file of ${formatLocalTime(previous.deliveredAt ?? scope.previous?.startedAt ?? '', scope.job.timezone)}`;
  const note = `skipped (stale data): ${skip.reason}; ${kept}`;
  scope.logger.warn(note);
  soFar.alerts.push(note);
  return {
    status: 'skipped',
    bytes: previous?.bytes ?? 0,
    destination: keptDestination(previous),
    error: undefined,
    note,
  };
}

/** The report's destination when the run left the last delivery in place (unchanged, or skipped). */
function keptDestination(previous: PreviousDelivery | undefined): RunReport['destination'] {
  if (previous === undefined) return undefined;
  const { location, webUrl, itemId, eTag, deliveredAt } = previous;
  return { location, webUrl, itemId, eTag, deliveredAt };
}

/** The last success's file as the destination sees it: where, how big, which data, since when. */
function previousDelivery(previous: RunReport | undefined): PreviousDelivery | undefined {
  if (previous?.destination === undefined) return undefined;
  return {
    ...previous.destination,
    bytes: previous.bytes,
    dataHash: previous.dataHash,
    deliveredAt: previous.destination.deliveredAt ?? previous.finishedAt,
  };
}

/** "data unchanged since <last check>; the file was not re-uploaded (teammates still have the version of <time>)". */
function describeUnchanged(scope: RunScope, previous: PreviousDelivery | undefined): string {
  const zone = scope.job.timezone;
  const at = (iso: string | undefined): string => (iso === undefined ? 'an earlier run' : formatLocalTime(iso, zone));
  return `data unchanged since ${at(scope.previous?.startedAt)}; the file was not re-uploaded (teammates still have the version of ${at(previous?.deliveredAt)})`;
}

/** A thrown error as the report's status and error; an abort by the caller reads INTERRUPTED. */
function describeFailure(scope: RunScope, err: unknown): RunEnd {
  const { signal, deps, logger } = scope;
  const appError =
    signal.aborted && !(err instanceof AppError && err.code !== 'ABORTED')
      ? new AbortedError('run aborted (service shutting down or cancelled)', { cause: err })
      : toAppError(err);
  const error = {
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
  return { status: 'failed', bytes: 0, destination: undefined, error };
}

function assembleReport(scope: RunScope, soFar: RunSoFar, end: RunEnd, startedAt: string): RunReport {
  const { job, deps } = scope;
  const finished = deps.clock.now();
  return {
    runId: job.runId,
    exportId: job.exportConfig.id,
    trigger: job.trigger,
    status: end.status,
    startedAt,
    finishedAt: isoWithOffset(finished, job.timezone, { milliseconds: true }),
    durationMs: finished.getTime() - scope.started.getTime(),
    sheets: soFar.sheets.map((s) => ({ sheet: s.sheet, rows: s.rows, source: s.source, columns: s.columns })),
    rows: soFar.sheets.reduce((n, s) => n + s.rows, 0),
    bytes: end.bytes,
    destination: end.destination,
    warnings: soFar.warnings.map((w) => deps.redactor.redact(w)),
    error: end.error,
    timings: scope.timer.timings(),
    dataHash: soFar.dataHash,
    attempt: job.attempt,
    alerts: soFar.alerts.length === 0 ? undefined : soFar.alerts.map((w) => deps.redactor.redact(w)),
    note: end.note,
    update: soFar.update,
    burst: soFar.burst,
    parts: soFar.parts === undefined ? undefined : [...soFar.parts],
  };
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
