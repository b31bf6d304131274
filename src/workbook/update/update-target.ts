/**
 * The update mode's up-front check, for `validate --online`: is the team's workbook one the export can refresh,
 * and are the tables and keys it names there? It reads the package's structure only (no sheet data), so it is
 * quick even for a large workbook. A run makes the same checks again, with the view's columns in hand.
 */
import { AppError, WorkbookError } from '../../shared/errors.js';
import { sanitizeSheetName } from '../sheet-names.js';
import { toTableName } from '../table-part.js';
import { readPackageModel, type PackageModel } from './package-model.js';
import { refuseSheetWithoutTable } from './workbook-update.js';

/** One managed table as the config names it. */
export interface ManagedTableTarget {
  /** The sheet name of the view (`views[].sheet`, or the view's name). */
  readonly sheet: string;
  /** `views[].table`, when set. */
  readonly table?: string | undefined;
  /** `views[].key`, when set (the key column must then be a column of the table). */
  readonly key?: string | undefined;
  /** Where the view sits in the config, for messages (`views[0]`). */
  readonly setting: string;
}

/** What the check found: one line per table that is fine, one problem per table that is not. */
export interface UpdateTargetReport {
  readonly ok: readonly string[];
  readonly problems: readonly string[];
}

/**
 * Checks the downloaded team workbook at `path` against the tables the export manages.
 * @throws WorkbookError `WORKBOOK_UPDATE_INVALID_TARGET` when the file is not an .xlsx/.xlsm package at all.
 */
export async function checkUpdateTarget(
  path: string,
  label: string,
  targets: readonly ManagedTableTarget[],
): Promise<UpdateTargetReport> {
  const model = await readPackageModel(path, label);
  try {
    const ok: string[] = [];
    const problems: string[] = [];
    for (const target of targets) {
      try {
        ok.push(checkTable(model, target));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        problems.push(`${target.setting}: ${err.userMessage}`);
      }
    }
    return { ok, problems };
  } finally {
    await model.zip.close();
  }
}

function checkTable(model: PackageModel, target: ManagedTableTarget): string {
  const tableName = target.table ?? toTableName(sanitizeSheetName(target.sheet));
  const wanted = tableName.toLocaleUpperCase('en-US');
  const table = model.tables.find((t) => t.name.toLocaleUpperCase('en-US') === wanted);
  if (table === undefined) {
    refuseSheetWithoutTable(model, target.sheet, tableName);
    return `table '${tableName}': not in the workbook yet; the first run adds it on a new sheet '${sanitizeSheetName(target.sheet)}'`;
  }
  const columns = table.columns.map((c) => c.name);
  if (target.key !== undefined) {
    const key = target.key.toLocaleUpperCase('en-US');
    if (!columns.some((c) => c.toLocaleUpperCase('en-US') === key)) {
      throw new WorkbookError(
        'WORKBOOK_UPDATE_KEY_MISSING',
        `the key column "${target.key}" is not a column of table '${table.name}' on sheet '${table.sheet.name}'; its columns: ${columns.map((c) => `"${c}"`).join(', ')}`,
        { hint: `set ${target.setting}.key to a column the view and the table both have` },
      );
    }
  }
  const keyText = target.key === undefined ? '' : `, key "${target.key}"`;
  return `table '${table.name}' on sheet '${table.sheet.name}': ${columns.length} columns${keyText}`;
}
