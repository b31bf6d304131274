/** `tableau-export run [EXPORT_ID...] [--all | --failed] [--dry-run] [--json]`. */
import { toAppError, UsageError } from '../../shared/errors.js';
import { blankRunReport, type RunReport } from '../../contracts/run-report.js';
import type { RunProgress } from '../../pipeline/run-export.js';
import type { RetryOf } from '../../pipeline/burst.js';
import { formatPart } from '../../state/history-format.js';
import { newRunId, type AppContext } from '../app-context.js';
import {
  createProgress,
  EXIT_OK,
  EXIT_RUN_FAILED,
  formatLocalTime,
  formatProgressLine,
  formatTable,
  reportError,
  type ProgressLine,
} from '../output.js';

export interface RunCommandOptions {
  readonly all: boolean;
  /** The exports whose last run failed. */
  readonly failed?: boolean;
  readonly dryRun: boolean;
  readonly json: boolean;
}

/** Runs the selected exports one after another; prints reports; returns the exit code. */
export async function runCommand(
  ctx: AppContext,
  ids: readonly string[],
  options: RunCommandOptions,
  signal: AbortSignal,
  progress: ProgressLine = createProgress(),
): Promise<number> {
  // `--failed` repeats failed runs: a burst keeps the parts its failed run delivered (and re-runs only the others).
  const retries = new Map<string, RetryOf>();
  const selected = await selectExports(ctx, ids, options, retries);
  if (selected.length === 0) {
    process.stderr.write('no export has a failed last run; nothing to run\n');
    return EXIT_OK;
  }

  const reports: RunReport[] = [];
  /** The worst exit code of the exports that could not start (2 for a config error, as a config error alone). */
  let notStarted = EXIT_OK;
  for (const id of selected) {
    if (signal.aborted) break;
    const started = Date.now();
    let report: RunReport;
    try {
      report = await runSelected(ctx, id, options, signal, retries.get(id), (p) =>
        progress.update(formatProgressLine(id, p, Date.now() - started)),
      );
    } catch (err) {
      // An export that cannot even start (a secret missing from the environment, another process running it) is a
      // failed report of its own: the exports after it still run. Ctrl-C while following a queued run stops here:
      // the run goes on in the fleet, so no report is made up for it.
      progress.done();
      if (signal.aborted) {
        reportError(err, { verbose: false, redactor: ctx.redactor });
        break;
      }
      report = notStartedReport(ctx, id, started, err);
      notStarted = Math.max(notStarted, reportError(err, { verbose: false, redactor: ctx.redactor }));
      reports.push(report);
      if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      continue;
    }
    progress.done();
    reports.push(report);
    // Queue-mode runs are notified by the worker that ran them.
    if (!options.dryRun && ctx.config.queue === undefined) await ctx.afterRun.finished(report);
    if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else printReport(report, report.status === 'failed' ? await stillDelivered(ctx, report) : undefined);
  }
  if (!options.json && reports.length > 1) {
    process.stdout.write(
      `\n${formatTable(
        ['export', 'status', 'rows', 'bytes', 'where'],
        reports.map((r) => [
          r.exportId,
          r.status,
          String(r.rows),
          String(r.bytes),
          r.destination?.webUrl ?? r.destination?.location ?? r.error?.message ?? '',
        ]),
      )}\n`,
    );
  }
  if (reports.length < selected.length) {
    process.stderr.write(
      `interrupted: ${selected.length - reports.length} of ${selected.length} exports did not run\n`,
    );
    return EXIT_RUN_FAILED;
  }
  if (notStarted !== EXIT_OK) return notStarted;
  return reports.every((r) => r.status !== 'failed') ? EXIT_OK : EXIT_RUN_FAILED;
}

/** One export's run: through the fleet in queue mode (never overlapping a run elsewhere), else in this process. */
async function runSelected(
  ctx: AppContext,
  id: string,
  options: RunCommandOptions,
  signal: AbortSignal,
  retryOf: RetryOf | undefined,
  onProgress: (p: RunProgress) => void,
): Promise<RunReport> {
  // A dry run delivers nothing and stays local.
  if (ctx.config.queue !== undefined && !options.dryRun)
    return (await import('./run-queued.js')).runQueued(ctx, id, signal, retryOf?.runId);
  return ctx.runOne(id, { trigger: { kind: 'cli' }, dryRun: options.dryRun, signal, retryOf, onProgress });
}

/** The failed report of an export that threw before its run started; its error redacted. */
function notStartedReport(ctx: AppContext, exportId: string, startedMs: number, err: unknown): RunReport {
  const at = new Date(startedMs).toISOString();
  const error = toAppError(err);
  return blankRunReport({
    runId: newRunId(new Date(startedMs)),
    exportId,
    trigger: { kind: 'cli' },
    status: 'failed',
    startedAt: at,
    finishedAt: new Date().toISOString(),
    durationMs: Date.now() - startedMs,
    error: { code: error.code, message: ctx.redactor.redact(error.userMessage) },
  });
}

/** The export ids to run: the ones named, every one (`--all`), or those whose last run failed (`--failed`). */
async function selectExports(
  ctx: AppContext,
  ids: readonly string[],
  options: RunCommandOptions,
  retries: Map<string, RetryOf>,
): Promise<string[]> {
  const ways = [ids.length > 0, options.all, options.failed === true].filter(Boolean).length;
  if (ways === 0) {
    throw new UsageError(
      `name the exports to run, or --all, or --failed; exports: ${ctx.config.exports.map((e) => e.id).join(', ')}`,
    );
  }
  if (ways > 1) throw new UsageError('give export ids, --all or --failed: one of them');
  if (options.all) return ctx.config.exports.map((e) => e.id);
  if (options.failed === true) {
    const store = ctx.store();
    const failed: string[] = [];
    for (const exp of ctx.config.exports) {
      // A skipped tick or a run still going says nothing about how the export last ended.
      const recent = await store.listRuns({ exportId: exp.id, limit: 20 });
      const last = recent.find((r) => r.status !== 'running' && r.status !== 'skipped');
      if (last?.status !== 'failed') continue;
      failed.push(exp.id);
      if (last.parts !== undefined) retries.set(exp.id, { runId: last.runId, parts: last.parts });
    }
    if (failed.length > 0 && !options.json) process.stderr.write(`last run failed: ${failed.join(', ')}\n`);
    return failed;
  }
  const unique = [...new Set(ids)];
  for (const id of unique) ctx.findExport(id); // fail fast on a typo, before any run starts
  return unique;
}

/** After a failed run: `teammates still have the workbook of Tue, 5 May 2026, 06:00 EDT (5,019 rows)`. */
async function stillDelivered(ctx: AppContext, failed: RunReport): Promise<string | undefined> {
  const last = await ctx
    .store()
    .lastSuccess(failed.exportId)
    .catch(() => undefined);
  if (last === undefined) return 'nothing was delivered yet: teammates have no workbook from this export';
  const at = last.destination?.deliveredAt ?? last.finishedAt ?? last.startedAt;
  const zone = ctx.exportTimezone(ctx.findExport(failed.exportId));
  const where = last.destination?.webUrl ?? last.destination?.location;
  return `teammates still have the workbook of ${formatLocalTime(at, zone)} (${last.rows.toLocaleString('en-US')} rows)${where === undefined ? '' : `: ${where}`}`;
}

function printReport(r: RunReport, still?: string): void {
  const out: string[] = [];
  const seconds = ((r.durationMs ?? 0) / 1000).toFixed(1);
  if (r.status === 'failed') {
    out.push(`✗ ${r.exportId}: failed after ${seconds}s [${r.error?.code ?? 'ERROR'}] ${r.error?.message ?? ''}`);
    if (still !== undefined && r.parts === undefined) out.push(`    ${still}`);
    for (const p of r.parts ?? []) out.push(`    ${formatPart(p)}`);
  } else if (r.status === 'skipped') {
    // Nothing was fetched or written (stale data): the note says why and which file teammates keep.
    out.push(`– ${r.exportId}: skipped after ${seconds}s`);
    if (r.note !== undefined) out.push(`    ${r.note}`);
  } else if (r.parts !== undefined) {
    out.push(
      `✓ ${r.exportId}: ${r.status} in ${seconds}s — ${r.parts.length} parts, ${r.rows.toLocaleString('en-US')} rows`,
    );
    for (const p of r.parts) out.push(`    ${formatPart(p)}`);
    if (r.note !== undefined) out.push(`    ${r.note}`);
  } else {
    out.push(
      `✓ ${r.exportId}: ${r.status} in ${seconds}s — ${r.rows.toLocaleString('en-US')} rows, ${(r.bytes / 1024).toFixed(0)} KiB`,
    );
    for (const s of r.sheets) out.push(`    ${s.sheet}: ${s.rows.toLocaleString('en-US')} rows from ${s.source}`);
    if (r.note !== undefined) out.push(`    ${r.note}`);
    if (r.destination !== undefined)
      out.push(
        `    → ${r.destination.location}${r.destination.webUrl !== undefined ? `\n    → ${r.destination.webUrl}` : ''}`,
      );
  }
  for (const w of r.warnings) out.push(`    ! ${w}`);
  process.stdout.write(`${out.join('\n')}\n`);
}
