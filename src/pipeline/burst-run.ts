/**
 * How a burst run goes (`exports[].burst`; the naming, template and part rules are in burst.ts): reads the values,
 * then runs the ordinary build-and-deliver of run-export.ts over the views repeated per value (into sheets), or once
 * per value with the part's own destination, previous delivery and snapshots (into files). The pipeline's own steps
 * come in as {@link BurstRunHooks}, so this module adds to `runExport` without reaching into it.
 */
import { StaleDataSkip } from './freshness.js';
import { writeRunOwner } from './orphaned-runs.js';
import type { PartReport, RunReport } from '../contracts/run-report.js';
import type { BurstConfig, ExportConfig, ViewConfig } from '../config/schema.js';
import { DestinationError, SourceError } from '../shared/errors.js';
import { ensurePrivateDir } from '../shared/private-files.js';
import { isoWithOffset } from '../shared/time.js';
import {
  burstSummary,
  burstTemplate,
  expandIntoSheets,
  partsToKeep,
  previousParts,
  resolveBurstValues,
  runBurstIntoFiles,
  sheetPartReports,
  summarizeParts,
  type FilesBurstDeps,
  type PartEnd,
} from './burst.js';
import type { ViewRequest } from '../contracts/ports.js';
import type { RunEnd, RunScope, RunSoFar } from './run-export.js';

/** The steps of run-export.ts a burst run repeats per part. */
export interface BurstRunHooks {
  /** Fetches, builds and delivers the scope's export (throws on failure). */
  readonly buildAndDeliver: (scope: RunScope, soFar: RunSoFar) => Promise<RunEnd>;
  /** A thrown error as a failed end (logged once). */
  readonly describeFailure: (scope: RunScope, err: unknown) => RunEnd;
  readonly assembleReport: (scope: RunScope, soFar: RunSoFar, end: RunEnd, startedAt: string) => RunReport;
  readonly toViewRequest: (view: ViewConfig, defaultMaxAge: number) => ViewRequest;
}

/** What a part has found before it starts. */
function emptyRunSoFar(): RunSoFar {
  return { sheets: [], warnings: [], alerts: [], dataHash: undefined, updates: [], update: undefined };
}

/**
 * A burst run (burst.ts): reads the values (`values: all`: from the first view, in this run), then builds one
 * workbook with a sheet group per value, or builds and delivers one workbook per value.
 */
export async function runBurst(
  scope: RunScope,
  soFar: RunSoFar,
  burst: BurstConfig,
  hooks: BurstRunHooks,
): Promise<RunEnd> {
  const { job, deps, logger, signal, timer } = scope;
  const exp = { ...job.exportConfig, burst };
  await ensurePrivateDir(scope.runTemp);
  // Owned from the start: a killed burst run is found by the orphan sweep even before any part began.
  await writeRunOwner(scope.runTemp, job.runId);
  const { values, discovered } = await timer.timed('fetch', () =>
    resolveBurstValues(exp, {
      sourceFor: deps.sourceFor,
      logger,
      signal,
      tempDir: scope.runTemp,
      request: (v) => hooks.toViewRequest(v, deps.defaultMaxAgeMinutes ?? 1),
    }),
  );
  soFar.burst = burstSummary(burst, values, discovered);
  if (discovered) logger.info({ values }, `burst by "${burst.by}": ${values.length} values found in the data`);
  if (values.length === 0) {
    const message = `burst by "${burst.by}": the first view has no values of "${burst.by}", so there is nothing to export`;
    if (exp.views[0]?.onEmpty === 'fail')
      throw new SourceError('VIEW_EMPTY', message, { hint: 'check the view in Tableau' });
    soFar.warnings.push(message);
    soFar.parts = [];
    return { status: 'succeeded', bytes: 0, destination: undefined, error: undefined, note: message };
  }
  return burst.into === 'sheets'
    ? burstIntoSheets(scope, soFar, exp, values, hooks)
    : burstIntoFiles(scope, soFar, exp, values, hooks);
}

/** A burst into sheets: the ordinary run over the views repeated per value; one workbook, delivered whole. */
async function burstIntoSheets(
  scope: RunScope,
  soFar: RunSoFar,
  exp: ExportConfig & { readonly burst: BurstConfig },
  values: readonly string[],
  hooks: BurstRunHooks,
): Promise<RunEnd> {
  const { exportConfig, parts } = expandIntoSheets(exp, exp.burst.by, values);
  const sheetsScope: RunScope = { ...scope, job: { ...scope.job, exportConfig }, sheetParts: parts };
  let end: RunEnd;
  try {
    end = await hooks.buildAndDeliver(sheetsScope, soFar);
  } catch (err) {
    // Stale data under freshness.then: skip skips the one workbook: the run is skipped, as without a burst.
    if (err instanceof StaleDataSkip) throw err;
    end = hooks.describeFailure(scope, err);
  }
  const failedPart =
    end.status === 'failed' && soFar.viewIndex !== undefined ? parts[soFar.viewIndex]?.value : undefined;
  soFar.parts = sheetPartReports({
    values,
    parts,
    sheets: soFar.sheets,
    warnings: soFar.warnings.map((w) => scope.deps.redactor.redact(w)),
    end,
    failedPart,
  });
  return end;
}

/**
 * A burst into files: each value built and delivered as its own export (its destination, previous delivery and
 * snapshots); a part that fails is recorded and the next one runs. The run fails when any part failed.
 */
async function burstIntoFiles(
  scope: RunScope,
  soFar: RunSoFar,
  exp: ExportConfig & { readonly burst: BurstConfig },
  values: readonly string[],
  hooks: BurstRunHooks,
): Promise<RunEnd> {
  const { job, deps: d, logger, signal } = scope;
  const partDestination = d.partDestination;
  if (partDestination === undefined && job.dryRun !== true) {
    throw new DestinationError(
      'DESTINATION_WRITE_FAILED',
      `${d.destination.describe()} cannot take one file per burst value`,
      {
        hint: 'use burst.into: sheets for this destination',
      },
    );
  }
  const retry = await partsToKeep(job, d.store);
  const previousOf = await previousParts(exp.id, job.runId, d.store);
  const parts: PartReport[] = [];
  soFar.parts = parts;
  const redact = (text: string): string => d.redactor.redact(text);
  try {
    await runBurstIntoFiles(
      {
        exportConfig: exp,
        runId: job.runId,
        values,
        signal,
        logger,
        kept: retry?.parts ?? [],
        keptFrom: retry?.runId,
        previousOf,
        destinationFor: partDestination ?? (() => d.destination),
        tempDir: scope.runTemp,
        redact,
        onPartDone: () => recordPartsSoFar(scope, soFar, hooks),
        runPart: (part) => runFilesPart(scope, soFar, hooks, part),
      },
      parts,
    );
  } finally {
    for (const p of parts) {
      for (const s of p.sheets)
        soFar.sheets.push({
          ...s,
          sheet: `${p.value}: ${s.sheet}`,
          columns: s.columns ?? [],
          sheetNames: [],
          provenance: {},
          filters: '',
        });
      soFar.warnings.push(...p.warnings.map((w) => `${p.value}: ${w}`));
    }
  }
  const summary = summarizeParts(parts, burstTemplate(exp));
  return { ...summary, note: summary.note };
}

/** One part of a burst into files: the ordinary build-and-deliver on the part's export and destination. */
async function runFilesPart(
  scope: RunScope,
  soFar: RunSoFar,
  hooks: BurstRunHooks,
  part: Parameters<FilesBurstDeps['runPart']>[0],
): Promise<PartEnd> {
  const { job, deps: d, logger } = scope;
  const redact = (text: string): string => d.redactor.redact(text);
  const partScope: RunScope = {
    ...scope,
    job: { ...job, exportConfig: part.exportConfig },
    deps: { ...d, destination: part.destination },
    logger: logger.child({ part: part.value }),
    previous: part.previous,
    runTemp: part.tempDir,
    partValue: part.value,
  };
  const partSoFar = emptyRunSoFar();
  let end: RunEnd;
  try {
    end = await hooks.buildAndDeliver(partScope, partSoFar);
  } catch (err) {
    if (err instanceof StaleDataSkip) {
      // This part's data is stale (freshness.then: skip): its file stays as it was; the other parts go on.
      const note = `skipped (stale data): ${err.reason}; its file was left as it was`;
      logger.warn({ part: part.value }, note);
      partSoFar.alerts.push(note);
      end = { status: 'skipped', bytes: 0, destination: part.previous?.destination, error: undefined, note };
    } else end = hooks.describeFailure(partScope, err);
  }
  soFar.alerts.push(...partSoFar.alerts.map((a) => `${part.value}: ${a}`));
  return {
    status:
      end.status === 'unchanged' || end.status === 'succeeded' || end.status === 'skipped' ? end.status : 'failed',
    bytes: end.bytes,
    destination: end.destination,
    error: end.error,
    note: end.note,
    sheets: partSoFar.sheets.map((s) => ({
      sheet: s.sheet,
      rows: s.rows,
      source: s.source,
      columns: s.columns,
    })),
    warnings: partSoFar.warnings.map(redact),
    dataHash: partSoFar.dataHash,
  };
}

/** The run as `running` with its parts so far, in the history (a retry after a crash keeps the delivered parts). */
async function recordPartsSoFar(scope: RunScope, soFar: RunSoFar, hooks: BurstRunHooks): Promise<void> {
  const startedAt = isoWithOffset(scope.started, scope.job.timezone, { milliseconds: true });
  const running = { status: 'running' as const, bytes: 0, destination: undefined, error: undefined };
  const report = {
    ...hooks.assembleReport(scope, soFar, running, startedAt),
    finishedAt: undefined,
    durationMs: undefined,
  };
  await scope.deps.store
    ?.finishRun(report)
    .catch((err: unknown) =>
      scope.logger.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'could not record the burst parts so far',
      ),
    );
}
