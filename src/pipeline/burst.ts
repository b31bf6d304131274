/**
 * Burst: one export fanned out per value of a field (`exports[].burst`). Each part is the export's views fetched with
 * one more `vf_` filter (`by = value`), escaped, sent and verified exactly as a configured filter is.
 *
 * - `into: sheets` is one run of the ordinary pipeline over an export whose views are repeated per value
 *   ({@link expandIntoSheets}); each part gets its own metric sheets, named after the value.
 * - `into: files` runs the ordinary build-and-deliver once per value ({@link runBurstIntoFiles}), each with its own
 *   destination (the path template filled in), its own previous delivery (skip unchanged, update mode) and its own
 *   snapshots. A failed part does not stop the others; the run fails when any part failed, and a retry keeps the
 *   parts an earlier attempt delivered.
 *
 * Parts run one after another, so every fetch goes through the Tableau source's per-site limit and PAT lock as any
 * run's would; each part signs in for its fetches and signs out before writing, as a whole run does.
 */
import { join } from 'node:path';
import type { Destination, Source, ViewRequest } from '../contracts/ports.js';
import {
  blankRunReport,
  type BurstSummary,
  type PartReport,
  type RunReport,
  type SheetReport,
} from '../contracts/run-report.js';
import type { RunStore } from '../contracts/run-store.js';
import type { BurstConfig, ExportConfig, ViewConfig } from '../config/schema.js';
import { viewSheetName } from '../config/rules.js';
import { renderBurstPath } from '../shared/burst-names.js';
import { AppError, SourceError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { SheetSpec } from '../shared/sheet-spec.js';
import { createSheetNamer } from '../workbook/sheet-names.js';
import { createSourceSessions } from './source-sessions.js';
import { throwIfAborted } from './abort.js';

/** The part of a `sheets` burst each (expanded) view belongs to, by view index. */
export interface SheetPart {
  readonly value: string;
  /** The sheet name of the configured view the part's view repeats (`metrics.from` names these). */
  readonly baseSheet: string;
}

/** The burst values as text (how Tableau compares filter values). */
export function listedValues(burst: BurstConfig): string[] | undefined {
  return burst.values === 'all' ? undefined : burst.values.map(String);
}

/**
 * The values of a burst: the listed ones, or (`values: all`) the distinct non-empty values of `by` in the first
 * view, fetched with its own filters only, sorted. Throws SourceError `BURST_FIELD_MISSING` when the view has no such
 * column (naming its columns).
 */
export async function resolveBurstValues(
  exp: ExportConfig & { readonly burst: BurstConfig },
  ctx: {
    readonly sourceFor: (view: ViewConfig) => Source;
    readonly logger: Logger;
    readonly signal: AbortSignal;
    readonly tempDir: string;
    /** The request of a configured view (its filters, parameters and maxAge). */
    readonly request: (view: ViewConfig) => ViewRequest;
  },
): Promise<{ values: string[]; discovered: boolean }> {
  const listed = listedValues(exp.burst);
  if (listed !== undefined) return { values: listed, discovered: false };
  const first = exp.views[0];
  if (first === undefined) return { values: [], discovered: true };
  const sessions = createSourceSessions({ logger: ctx.logger, signal: ctx.signal });
  try {
    const session = await sessions.sessionFor(ctx.sourceFor(first));
    const raw = await session.fetchView(ctx.request(first), {
      logger: ctx.logger,
      signal: ctx.signal,
      tempDir: ctx.tempDir,
    });
    try {
      return {
        values: await distinctValues(raw.header, raw.rows(), exp.burst.by, viewSheetName(first)),
        discovered: true,
      };
    } finally {
      await raw.dispose();
    }
  } finally {
    await sessions.closeAll();
  }
}

/** The distinct non-empty values of column `by`, sorted (case-sensitive: Tableau's filters are). */
async function distinctValues(
  header: readonly string[],
  rows: AsyncIterable<readonly string[]>,
  by: string,
  sheet: string,
): Promise<string[]> {
  let column = header.indexOf(by);
  if (column < 0) column = header.findIndex((h) => h.toLocaleLowerCase('en-US') === by.toLocaleLowerCase('en-US'));
  if (column < 0) {
    throw new SourceError(
      'BURST_FIELD_MISSING',
      `burst.by "${by}" is not a column of view "${sheet}", so its values cannot be read; its columns: ${header.map((h) => `"${h}"`).join(', ')}`,
      { hint: 'set burst.by to the field as Tableau names it in the view, or list the values in burst.values' },
    );
  }
  const seen = new Set<string>();
  for await (const row of rows) {
    const v = row[column];
    if (v !== undefined && v.trim() !== '') seen.add(v);
  }
  return [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A view of one part: the configured view with `by = value` added to its filters. */
export function partView(view: ViewConfig, by: string, value: string, sheet?: string): ViewConfig {
  return { ...view, filters: { ...view.filters, [by]: value }, ...(sheet === undefined ? {} : { sheet }) };
}

/**
 * `into: sheets`: the export with its views repeated per value, each on a sheet named after the value (the value
 * alone for a one-view export, `EMEA Opportunities` otherwise), made valid and unique for Excel; and the part of
 * each expanded view.
 */
export function expandIntoSheets(
  exp: ExportConfig,
  by: string,
  values: readonly string[],
): { exportConfig: ExportConfig; parts: SheetPart[] } {
  const namer = createSheetNamer();
  const views: ViewConfig[] = [];
  const parts: SheetPart[] = [];
  for (const value of values) {
    for (const view of exp.views) {
      const baseSheet = viewSheetName(view);
      const sheet = namer.take(exp.views.length === 1 ? value : `${value} ${baseSheet}`);
      views.push(partView(view, by, value, sheet));
      parts.push({ value, baseSheet });
    }
  }
  return { exportConfig: { ...exp, views }, parts };
}

/**
 * A part's metric sheets in a `sheets` burst: named after the value (`EMEA Summary`, the writer keeps names valid and
 * unique), without workbook-level names, which exist once per workbook.
 */
export function partMetricSheets(value: string, specs: readonly SheetSpec[]): SheetSpec[] {
  return specs.map((spec) => {
    const renamed = { ...spec, name: `${value} ${spec.name}` };
    delete (renamed as { definedNames?: unknown }).definedNames;
    return renamed;
  });
}

/** The snapshot history of a part is its own, so "since the last refresh" compares a region with itself. */
export function partSnapshotKey(exportId: string, value: string | undefined): string {
  return value === undefined ? exportId : `${exportId}/${value}`;
}

/** `into: files`: the export of one part: its views filtered, its destination at the template filled in. */
export function partExport(
  exp: ExportConfig & { readonly burst: BurstConfig },
  value: string,
  path: string,
): ExportConfig {
  const d = exp.destination;
  const destination = d.type === 'onedrive' ? { ...d, path } : { ...d, fileName: path };
  return {
    ...exp,
    burst: undefined,
    views: exp.views.map((v) => partView(v, exp.burst.by, value)),
    destination,
  };
}

/** The destination path template of an export (`path`, or a local `fileName`). */
export function burstTemplate(exp: ExportConfig): string {
  const d = exp.destination;
  return d.type === 'onedrive' ? d.path : (d.fileName ?? `${exp.id}.xlsx`);
}

/** How one part ended, as the pipeline's build-and-deliver left it. */
export interface PartEnd {
  /** `skipped`: its data was stale under `freshness.then: skip`; its file was left as it was. */
  readonly status: 'succeeded' | 'unchanged' | 'failed' | 'skipped';
  readonly bytes: number;
  readonly destination: RunReport['destination'];
  readonly error: RunReport['error'];
  readonly note?: string | undefined;
  readonly sheets: readonly SheetReport[];
  readonly warnings: readonly string[];
  readonly dataHash: string | undefined;
}

/** What running the parts of a `files` burst needs from the pipeline. */
export interface FilesBurstDeps {
  readonly exportConfig: ExportConfig & { readonly burst: BurstConfig };
  readonly runId: string;
  readonly values: readonly string[];
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Parts an earlier attempt of this run (or the failed run a retry repeats) delivered: kept, not run again. */
  readonly kept: readonly PartReport[];
  readonly keptFrom: string | undefined;
  /** The last delivery of each value's file, from the history (skip unchanged, update mode, schema changes). */
  readonly previousOf: (value: string) => RunReport | undefined;
  readonly destinationFor: (partExport: ExportConfig) => Destination;
  /** Builds and delivers one part (the ordinary pipeline, on the part's export and destination). Never throws. */
  readonly runPart: (part: {
    readonly value: string;
    readonly exportConfig: ExportConfig;
    readonly destination: Destination;
    readonly previous: RunReport | undefined;
    readonly tempDir: string;
  }) => Promise<PartEnd>;
  readonly tempDir: string;
  readonly redact: (text: string) => string;
  /**
   * Told after each part ends (never throws): the run records its parts so far, so that a worker that dies midway
   * leaves them for the attempt that retries the run.
   */
  readonly onPartDone?: (() => Promise<void>) | undefined;
}

/**
 * Runs every part of a `files` burst, one after another, appending each outcome to `parts` as it ends (a run
 * aborted midway still reports the parts done); a failed part is recorded and the next one runs.
 */
export async function runBurstIntoFiles(deps: FilesBurstDeps, parts: PartReport[]): Promise<void> {
  const exp = deps.exportConfig;
  const template = burstTemplate(exp);
  const keptByValue = new Map(
    deps.kept.filter((p) => p.status === 'succeeded' || p.status === 'unchanged').map((p) => [p.value, p]),
  );
  const paths = new Map<string, string>();
  for (const [index, value] of deps.values.entries()) {
    throwIfAborted(deps.signal);
    const kept = keptByValue.get(value);
    if (kept !== undefined) {
      parts.push({ ...kept, keptFrom: kept.keptFrom ?? deps.keptFrom });
      deps.logger.info({ part: value }, `burst part "${value}" was delivered by an earlier attempt; kept`);
      continue;
    }
    const rendered = renderBurstPath(template, exp.burst.by, value);
    const clash = paths.get(rendered.path.toLowerCase());
    const problem =
      rendered.errors.length > 0
        ? `its file "${rendered.path}" is not a valid OneDrive/Windows path: ${rendered.errors.join('; ')}`
        : clash !== undefined
          ? `its file "${rendered.path}" is also the file of value "${clash}" (names are compared ignoring case, after refused characters became "_")`
          : undefined;
    if (problem !== undefined) {
      parts.push(failedPart(value, 'BURST_NAME_INVALID', deps.redact(`burst value "${value}": ${problem}`)));
      await deps.onPartDone?.();
      continue;
    }
    paths.set(rendered.path.toLowerCase(), value);
    const exportConfig = partExport(exp, value, rendered.path);
    const end = await deps.runPart({
      value,
      exportConfig,
      destination: deps.destinationFor(exportConfig),
      previous: deps.previousOf(value),
      tempDir: join(deps.tempDir, `part-${index + 1}`),
    });
    if (deps.signal.aborted) throwIfAborted(deps.signal);
    const warnings = rendered.renamed
      ? [
          `value "${value}" has characters OneDrive or Windows refuse in a name; its file is "${rendered.path}"`,
          ...end.warnings,
        ]
      : end.warnings;
    parts.push({
      value,
      status: end.status,
      sheets: end.sheets,
      rows: end.sheets.reduce((n, s) => n + s.rows, 0),
      bytes: end.bytes,
      destination: end.destination,
      dataHash: end.dataHash,
      warnings,
      error: end.error,
      note: end.note,
    });
    await deps.onPartDone?.();
  }
}

function failedPart(value: string, code: string, message: string): PartReport {
  return { value, status: 'failed', sheets: [], rows: 0, bytes: 0, warnings: [], error: { code, message } };
}

/**
 * The parts of a `sheets` burst once the run ended: each value's sheets and warnings. One workbook is delivered
 * whole, so when one part failed (`failedPart`) the others are `skipped`; when the build or delivery failed, all
 * parts carry the run's error.
 */
export function sheetPartReports(input: {
  readonly values: readonly string[];
  readonly parts: readonly SheetPart[];
  /** The run's sheets, in the order of the expanded views (one per view, as the report lists them). */
  readonly sheets: readonly SheetReport[];
  readonly warnings: readonly string[];
  readonly end: { readonly status: RunReport['status']; readonly error: RunReport['error'] };
  readonly failedPart: string | undefined;
}): PartReport[] {
  const { end } = input;
  return input.values.map((value) => {
    const sheets = input.sheets.filter((_, i) => input.parts[i]?.value === value);
    const names = sheets.map((s) => s.sheet);
    const warnings = input.warnings.filter(
      (w) => w.startsWith(`${value}: `) || names.some((n) => w.startsWith(`${n}: `) || w.includes(`"${n}"`)),
    );
    const base = { value, sheets, rows: sheets.reduce((n, s) => n + s.rows, 0), bytes: 0, warnings };
    if (end.status !== 'failed')
      return { ...base, status: end.status === 'unchanged' ? ('unchanged' as const) : ('succeeded' as const) };
    if (input.failedPart === undefined || input.failedPart === value)
      return { ...base, status: 'failed' as const, error: end.error };
    return {
      ...base,
      status: 'skipped' as const,
      note: `not delivered: the workbook is delivered whole, and part "${input.failedPart}" failed`,
    };
  });
}

/**
 * The run's outcome from its parts: failed when any part failed (its error lists them), unchanged when every part
 * was, else succeeded.
 */
export function summarizeParts(
  parts: readonly PartReport[],
  template: string,
): Pick<PartEnd, 'status' | 'bytes' | 'destination' | 'error'> & { note?: string } {
  const failed = parts.filter((p) => p.status === 'failed');
  const delivered = parts.filter((p) => p.destination !== undefined);
  const bytes = parts.reduce((n, p) => n + p.bytes, 0);
  const times = delivered.map((p) => p.destination?.deliveredAt).filter((t): t is string => t !== undefined);
  const destination =
    delivered.length === 0
      ? undefined
      : {
          location: `${delivered.length} of ${parts.length} workbooks at ${template}`,
          deliveredAt: times.sort().at(-1),
        };
  if (failed.length > 0) {
    const list = failed.map((p) => `"${p.value}" [${p.error?.code ?? 'ERROR'}] ${p.error?.message ?? ''}`).join('; ');
    return {
      status: 'failed',
      bytes,
      destination,
      error: {
        code: 'BURST_PARTS_FAILED',
        message: `${failed.length} of ${parts.length} burst parts failed (the others were delivered): ${list}`,
      },
    };
  }
  if (parts.length > 0 && parts.every((p) => p.status === 'skipped')) {
    return {
      status: 'skipped',
      bytes,
      destination,
      error: undefined,
      note: `every part (${parts.length}) was skipped: stale data; each file was left as it was`,
    };
  }
  if (parts.length > 0 && parts.every((p) => p.status === 'unchanged')) {
    return {
      status: 'unchanged',
      bytes,
      destination,
      error: undefined,
      note: `data unchanged for every part (${parts.length}); no file was re-uploaded`,
    };
  }
  return { status: 'succeeded', bytes, destination, error: undefined };
}

/** The report's record of the burst. */
export function burstSummary(burst: BurstConfig, values: readonly string[], discovered: boolean): BurstSummary {
  return { by: burst.by, into: burst.into, values: [...values], discovered };
}

/**
 * Parts a retry keeps: the parts of the run it repeats (`run --failed`) or, for attempt 2+ of a queued run, of the
 * run's record as the earlier attempt left it.
 */
export async function partsToKeep(
  job: { readonly runId: string; readonly attempt?: number | undefined; readonly retryOf?: RetryOf | undefined },
  store: RunStore | undefined,
): Promise<RetryOf | undefined> {
  // A later attempt: the run's record holds what the earlier attempt delivered (kept parts included).
  if ((job.attempt ?? 1) > 1 && store !== undefined) {
    const record = await store.getRun(job.runId).catch(() => undefined);
    if (record?.parts !== undefined) return { runId: record.runId, parts: record.parts };
  }
  return job.retryOf;
}

/** A failed run whose delivered parts a retry keeps. */
export interface RetryOf {
  readonly runId: string;
  readonly parts: readonly PartReport[];
}

/**
 * The last delivery of each value's file: the newest finished run (other than this one) in which that part
 * succeeded or was unchanged, as a report of that part alone.
 */
export async function previousParts(
  exportId: string,
  runId: string,
  store: RunStore | undefined,
): Promise<(value: string) => RunReport | undefined> {
  const runs = store === undefined ? [] : await store.listRuns({ exportId, limit: 50 }).catch(() => [] as RunReport[]);
  const found = new Map<string, RunReport>();
  for (const run of runs) {
    if (run.runId === runId || run.status === 'running') continue;
    for (const p of run.parts ?? []) {
      if (found.has(p.value) || (p.status !== 'succeeded' && p.status !== 'unchanged')) continue;
      found.set(
        p.value,
        blankRunReport({
          runId: run.runId,
          exportId,
          trigger: run.trigger,
          status: p.status,
          startedAt: run.startedAt,
          finishedAt: run.finishedAt,
          sheets: p.sheets,
          rows: p.rows,
          bytes: p.bytes,
          destination: p.destination,
          dataHash: p.dataHash,
        }),
      );
    }
  }
  return (value) => found.get(value);
}

/** A thrown error's code, for a part the pipeline could not even start. */
export function errorCode(err: unknown): string {
  return err instanceof AppError ? err.code : 'INTERNAL';
}
