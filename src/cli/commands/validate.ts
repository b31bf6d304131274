/**
 * `tableau-export validate [--online]`: every config error at once; --online also signs in and resolves targets.
 * One verdict at the end: valid, or what failed (never "valid" and then "failed").
 */
import { loadConfig } from '../../config/load.js';
import { AppError, ConfigError, formatConfigIssues } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { createRedactor } from '../../shared/redact.js';
import { createAppContext, type AppContext } from '../app-context.js';
import type { DataFreshness } from '../../contracts/ports.js';
import type { BurstConfig, ExportConfig, FreshnessConfig } from '../../config/schema.js';
import { formatAge, freshnessRuleFor } from '../../pipeline/freshness.js';
import { toViewRequest } from '../../pipeline/run-export.js';
import type { TableauSource } from '../../sources/tableau/index.js';
import { burstTemplate, resolveBurstValues } from '../../pipeline/burst.js';
import { renderBurstPath } from '../../shared/burst-names.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_OK, EXIT_RUN_FAILED } from '../output.js';
import { checkUpdateExports } from './validate-update.js';

export async function validateCommand(file: string, options: { online: boolean; logger: Logger }): Promise<number> {
  const loaded = await loadConfig(file, { checkEnv: true }); // throws ConfigError (exit 2) with every issue
  if (loaded.warnings.length > 0) process.stdout.write(`warnings:\n${formatConfigIssues(loaded.warnings)}\n`);
  const count = `${loaded.config.exports.length} export${loaded.config.exports.length === 1 ? '' : 's'}`;
  if (!options.online) {
    process.stdout.write(`${loaded.file}: valid (${count})\n`);
    return EXIT_OK;
  }
  process.stdout.write(`checking ${loaded.file} (${count}) online: signing in, resolving every view and drive\n`);

  const ctx = createAppContext(loaded, { logger: options.logger, redactor: createRedactor() });
  const problems: string[] = [];
  try {
    const maxAge = loaded.config.tableau?.maxAgeMinutes ?? 1;
    const tableauViews = loaded.config.exports.flatMap((exp) =>
      exp.views.filter((v) => v.file === undefined && v.dashboard === undefined).map((v) => ({ exp, v })),
    );
    if (tableauViews.length > 0) {
      const requests = tableauViews.map(({ v }) => toViewRequest(v, maxAge));
      const results = await ctx.tableau().checkViews(requests);
      const ages = await ctx.tableau().readDataAges(requests.filter((_, i) => results[i]?.ok === true));
      let aged = 0;
      results.forEach((r, i) => {
        const item = tableauViews[i];
        if (item === undefined) return;
        const label = `${item.exp.id}: view ${item.v.workbook !== undefined ? `"${item.v.workbook} / ${item.v.view ?? ''}"` : (item.v.contentUrl ?? item.v.viewId ?? '')}`;
        if (r.ok) {
          const kind = r.sheetType === undefined ? '' : ` (${r.sheetType})`;
          const age = ages[aged++];
          process.stdout.write(
            `  ✓ ${label} → ${r.id}${kind}; ${age === undefined ? '' : describeDataAge(age, freshnessRuleFor(item.v, item.exp))}\n`,
          );
          if (r.sheetType === 'dashboard' || r.sheetType === 'story')
            problems.push(
              `${label}: is a ${r.sheetType}; the data endpoint returns only one of its worksheets — export the worksheets instead, or the whole dashboard with dashboard: { workbook, name }`,
            );
        } else {
          problems.push(`${label}: ${r.error instanceof AppError ? r.error.userMessage : String(r.error)}`);
        }
      });
    }
    problems.push(...(await checkDashboards(ctx.tableau.bind(ctx), loaded.config.exports)));
    for (const exp of loaded.config.exports) {
      if (exp.burst !== undefined) problems.push(...(await checkBurst(ctx, { ...exp, burst: exp.burst })));
    }
    for (const exp of loaded.config.exports) {
      const dest = ctx.destinationFor(exp);
      if (dest.check === undefined) continue;
      try {
        await dest.check();
        process.stdout.write(`  ✓ ${exp.id}: destination ${dest.describe()}\n`);
      } catch (err) {
        problems.push(
          `${exp.id}: destination ${dest.describe()}: ${err instanceof AppError ? err.userMessage : String(err)}`,
        );
      }
    }
    problems.push(
      ...(await checkUpdateExports(ctx, loaded.config.exports, options.logger, (line) =>
        process.stdout.write(`${line}\n`),
      )),
    );
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    problems.push(err instanceof AppError ? `[${err.code}] ${err.userMessage}` : String(err));
  } finally {
    await ctx.close();
  }
  if (problems.length > 0) {
    process.stderr.write(
      `${loaded.file}: online check failed (${problems.length} problem${problems.length === 1 ? '' : 's'}; the file itself is well formed):\n${problems.map((p) => `  ✗ ${ctx.redactor.redact(p)}`).join('\n')}\n`,
    );
    return EXIT_RUN_FAILED;
  }
  process.stdout.write(`${loaded.file}: valid (${count}), online check passed\n`);
  return EXIT_OK;
}

/** `data as of 2026-12-01T05:00:00.000Z (3h 10m old)`, `live connection`, with the freshness rule's verdict. */
function describeDataAge(age: DataFreshness, rule: FreshnessConfig | undefined): string {
  if (age.kind === 'live') return 'data: live connection (always fresh)';
  if (age.kind === 'unknown') return `data age unknown (${age.reason})`;
  const ms = Date.now() - Date.parse(age.refreshedAt);
  const verdict =
    rule === undefined
      ? ''
      : ms > rule.maxAge
        ? ` — older than freshness.maxAge ${formatAge(rule.maxAge)}: a run now would ${rule.then === 'warn' ? 'warn' : rule.then === 'skip' ? 'be skipped' : 'fail'}`
        : ` — within freshness.maxAge ${formatAge(rule.maxAge)}`;
  return `data as of ${age.refreshedAt} (${formatAge(Math.max(0, ms))} old, extract '${age.datasource}')${verdict}`;
}

/**
 * Lists the sheets of every `dashboard:` entry and their data age; returns the problems (a dashboard not found...).
 * Hidden sheets and a Metadata API fallback are printed as warnings: a run works with them.
 */
async function checkDashboards(tableau: () => TableauSource, exports: readonly ExportConfig[]): Promise<string[]> {
  const items = exports.flatMap((exp) =>
    exp.views.flatMap((v) => (v.dashboard === undefined ? [] : [{ exp, v, dashboard: v.dashboard }])),
  );
  if (items.length === 0) return [];
  const problems: string[] = [];
  const results = await tableau().checkDashboards(items.map((i) => i.dashboard));
  for (const [i, r] of results.entries()) {
    const item = items[i];
    if (item === undefined) continue;
    const d = item.dashboard;
    const label = `${item.exp.id}: dashboard ${d.contentUrl ?? `"${d.workbook ?? ''} / ${d.name ?? ''}"`}`;
    if (!r.ok) {
      problems.push(`${label}: ${r.error instanceof AppError ? r.error.userMessage : String(r.error)}`);
      continue;
    }
    const exportable = r.sheets.sheets.filter((s) => s.viewId !== undefined);
    const via = r.sheets.via === 'metadata' ? 'Metadata API' : "the workbook's views (fallback)";
    process.stdout.write(
      `  ✓ ${label} → ${exportable.length} sheet(s), via ${via}: ${exportable.map((s) => s.name).join(', ')}\n`,
    );
    for (const w of r.sheets.warnings) process.stdout.write(`    ! ${w}\n`);
    const first = exportable[0];
    if (first?.viewId !== undefined) {
      const [age] = await tableau().readDataAges([
        { viewId: first.viewId, filters: {}, parameters: {}, maxAgeMinutes: 1 },
      ]);
      if (age !== undefined) process.stdout.write(`    ${describeDataAge(age, freshnessRuleFor(item.v, item.exp))}\n`);
    }
    if (exportable.length === 0) problems.push(`${label}: shows no worksheet published as a view`);
  }
  return problems;
}

/**
 * Lists a burst's values (`values: all`: read from the first view now, as a run would) and, into files, the file of
 * each; returns the problems (a value whose file name cannot be made valid, a field the view does not have).
 */
async function checkBurst(ctx: AppContext, exp: ExportConfig & { readonly burst: BurstConfig }): Promise<string[]> {
  const { burst } = exp;
  const tempDir = await mkdtemp(join(tmpdir(), 'tableau-export-validate-'));
  try {
    const { values, discovered } = await resolveBurstValues(exp, {
      sourceFor: () => ctx.tableau(),
      logger: ctx.logger,
      signal: new AbortController().signal,
      tempDir,
      request: (v) => toViewRequest(v, ctx.config.tableau?.maxAgeMinutes ?? 1),
    });
    const origin = discovered ? 'read from the data' : 'listed';
    process.stdout.write(
      `  ✓ ${exp.id}: burst by "${burst.by}" into ${burst.into}: ${values.length} value${values.length === 1 ? '' : 's'} (${origin}): ${values.join(', ')}\n`,
    );
    if (burst.into !== 'files') return [];
    const problems: string[] = [];
    for (const value of values) {
      const rendered = renderBurstPath(burstTemplate(exp), burst.by, value);
      if (rendered.errors.length > 0)
        problems.push(`${exp.id}: burst value "${value}": its file "${rendered.path}": ${rendered.errors.join('; ')}`);
      else
        process.stdout.write(`      ${value} → ${rendered.path}${rendered.renamed ? ' (renamed for OneDrive)' : ''}\n`);
    }
    return problems;
  } catch (err) {
    return [`${exp.id}: burst by "${burst.by}": ${err instanceof AppError ? err.userMessage : String(err)}`];
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}
