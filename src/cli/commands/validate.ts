/**
 * `tableau-export validate [--online]`: every config error at once; --online also signs in and resolves targets.
 * One verdict at the end: valid, or what failed (never "valid" and then "failed").
 */
import { loadConfig } from '../../config/load.js';
import { AppError, ConfigError, formatConfigIssues } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { createRedactor } from '../../shared/redact.js';
import { createAppContext } from '../app-context.js';
import { toViewRequest } from '../../pipeline/run-export.js';
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
    const tableauViews = loaded.config.exports.flatMap((exp) =>
      exp.views.filter((v) => v.file === undefined).map((v) => ({ exp, v })),
    );
    if (tableauViews.length > 0) {
      const results = await ctx
        .tableau()
        .checkViews(tableauViews.map(({ v }) => toViewRequest(v, loaded.config.tableau?.maxAgeMinutes ?? 1)));
      results.forEach((r, i) => {
        const item = tableauViews[i];
        if (item === undefined) return;
        const label = `${item.exp.id}: view ${item.v.workbook !== undefined ? `"${item.v.workbook} / ${item.v.view ?? ''}"` : (item.v.contentUrl ?? item.v.viewId ?? '')}`;
        if (r.ok) {
          const kind = r.sheetType === undefined ? '' : ` (${r.sheetType})`;
          process.stdout.write(`  ✓ ${label} → ${r.id}${kind}\n`);
          if (r.sheetType === 'dashboard' || r.sheetType === 'story')
            problems.push(
              `${label}: is a ${r.sheetType}; the data endpoint returns only one of its worksheets — export the worksheets instead`,
            );
        } else {
          problems.push(`${label}: ${r.error instanceof AppError ? r.error.userMessage : String(r.error)}`);
        }
      });
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
