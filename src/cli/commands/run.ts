/** `tableau-export run [EXPORT_ID...] [--all] [--dry-run] [--json]`. */
import { UsageError } from '../../shared/errors.js';
import type { RunReport } from '../../contracts/run-report.js';
import type { AppContext } from '../app-context.js';
import { createProgress, EXIT_OK, EXIT_RUN_FAILED, formatTable } from '../output.js';

export interface RunCommandOptions {
  readonly all: boolean;
  readonly dryRun: boolean;
  readonly json: boolean;
}

/** Runs the selected exports one after another; prints reports; returns the exit code. */
export async function runCommand(
  ctx: AppContext,
  ids: readonly string[],
  options: RunCommandOptions,
  signal: AbortSignal,
): Promise<number> {
  if (ids.length === 0 && !options.all) {
    throw new UsageError(
      `name the exports to run, or --all; exports: ${ctx.config.exports.map((e) => e.id).join(', ')}`,
    );
  }
  if (ids.length > 0 && options.all) throw new UsageError('give export ids or --all, not both');
  const selected = options.all ? ctx.config.exports.map((e) => e.id) : [...new Set(ids)];
  for (const id of selected) ctx.findExport(id); // fail fast on a typo, before any run starts

  const reports: RunReport[] = [];
  for (const id of selected) {
    if (signal.aborted) break;
    const progress = createProgress();
    // In queue mode a run goes through the fleet (never overlapping a run of the same export elsewhere); a dry run
    // delivers nothing and stays local.
    const report =
      ctx.config.queue !== undefined && !options.dryRun
        ? await (await import('./run-queued.js')).runQueued(ctx, id, signal)
        : await ctx.runOne(id, {
            trigger: { kind: 'cli' },
            dryRun: options.dryRun,
            signal,
            onProgress: (p) =>
              progress.update(
                p.stage === 'write'
                  ? `${id}: ${p.sheet}: ${p.rows.toLocaleString('en-US')} rows written`
                  : `${id}: ${p.stage} ${p.sheet}`,
              ),
          });
    progress.done();
    reports.push(report);
    // Queue-mode runs are notified by the worker that ran them.
    if (!options.dryRun && ctx.config.queue === undefined) await ctx.afterRun.finished(report);
    if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else printReport(report);
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
  return reports.every((r) => r.status !== 'failed') ? EXIT_OK : EXIT_RUN_FAILED;
}

function printReport(r: RunReport): void {
  const out: string[] = [];
  const seconds = ((r.durationMs ?? 0) / 1000).toFixed(1);
  if (r.status === 'failed') {
    out.push(`✗ ${r.exportId}: failed after ${seconds}s [${r.error?.code ?? 'ERROR'}] ${r.error?.message ?? ''}`);
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
