/**
 * `validate --online` for update-mode exports: downloads the team's workbook as a run would (size cap included)
 * and checks that it can be refreshed, that each managed table is there (or will be added), and that each key
 * column is a column of its table. Nothing is written anywhere.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExportConfig } from '../../config/schema.js';
import { viewSheetName } from '../../config/rules.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { checkUpdateTarget } from '../../workbook/update/update-target.js';
import type { AppContext } from '../app-context.js';

/** Checks every update-mode export of the config; prints what is fine, returns the problems. */
export async function checkUpdateExports(
  ctx: AppContext,
  exports: readonly ExportConfig[],
  logger: Logger,
  print: (line: string) => void,
): Promise<string[]> {
  const problems: string[] = [];
  for (const exp of exports) {
    if (exp.destination.mode !== 'update') continue;
    try {
      const found = await checkOne(ctx, exp, logger);
      for (const line of found.ok) print(`  ✓ ${exp.id}: ${line}`);
      problems.push(...found.problems.map((p) => `${exp.id}: ${p}`));
    } catch (err) {
      problems.push(`${exp.id}: team workbook: ${err instanceof AppError ? err.userMessage : String(err)}`);
    }
  }
  return problems;
}

async function checkOne(
  ctx: AppContext,
  exp: ExportConfig,
  logger: Logger,
): Promise<{ ok: string[]; problems: readonly string[] }> {
  // A burst into files updates one workbook per value, at paths known once the values are: each run checks its own.
  if (exp.burst !== undefined)
    return { ok: [`update mode per burst part: each value's workbook is checked when its part runs`], problems: [] };
  const destination = ctx.destinationFor(exp);
  const fetchCurrent = destination.fetchCurrent?.bind(destination);
  if (fetchCurrent === undefined)
    return {
      ok: [],
      problems: [`${destination.describe()} cannot be updated in place; use destination.mode: replace`],
    };
  const tempDir = await mkdtemp(join(tmpdir(), 'tee-validate-'));
  try {
    const current = await fetchCurrent({
      logger,
      signal: new AbortController().signal,
      tempDir,
      maxBytes: exp.destination.update.maxBytes,
    });
    if (current === undefined)
      return { ok: [`team workbook ${destination.describe()}: not there yet; the first run creates it`], problems: [] };
    if ('unchanged' in current) return { ok: [], problems: [] };
    // A dashboard's sheets are its worksheets, known only when a run lists them: their tables are added then.
    const targets = exp.views.flatMap((v, i) =>
      v.dashboard !== undefined
        ? []
        : [{ sheet: viewSheetName(v), table: v.table, key: v.key, setting: `views[${i}]` }],
    );
    const report = await checkUpdateTarget(current.path, current.location, targets);
    return { ok: [`team workbook ${current.location} can be updated`, ...report.ok], problems: report.problems };
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}
