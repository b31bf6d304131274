/**
 * Update mode's workbook writer: the same {@link WorkbookWriter} interface as a new workbook, over the team's own
 * file. `addDataSheet` refreshes the view's table inside the team's sheet (team-table.ts, team-sheet-writer.ts);
 * `addSpecSheet` builds the metric and About sheets in a workbook of their own, which `commit` brings over whole
 * (sheet-transplant.ts). `commit` then writes the team's package again: every part it did not have to change is
 * copied as its stored bytes, the changed ones are rewritten (package-edits.ts), and nothing is written in place.
 */
import { rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { WorkbookError } from '../../shared/errors.js';
import type { SheetSpec } from '../../shared/sheet-spec.js';
import type { DataSheetInput, DataSheetResult, TableUpdateSummary } from '../data-sheet.js';
import { DATETIME_FORMAT, formatForColumn } from '../number-formats.js';
import { sanitizeSheetName } from '../sheet-names.js';
import { toTableColumnNames, toTableName } from '../table-part.js';
import { createWorkbookWriter, type WorkbookWriter } from '../workbook-writer.js';
import { formatRange } from './cell-refs.js';
import {
  readPackageModel,
  REL_SHARED_STRINGS,
  REL_STYLES,
  type PackageModel,
  type TableInfo,
} from './package-model.js';
import { assemblePackage, type RefreshedSheet } from './package-assembly.js';
import { readSharedStrings } from './shared-strings.js';
import { scanSheet } from './sheet-scan.js';
import { createStylesEditor, type StylesEditor } from './styles-editor.js';
import { planTableRefresh, textOfRich, type KeptCell, type TablePlan } from './team-table.js';
import { writeTeamSheet, type KeptByKey } from './team-sheet-writer.js';
import { attributesOf, findElement, findElements, findTags, rootPrefix, withAttribute, cellChild } from './xml-tags.js';
import { createDeflatedSpool } from './zip-writer.js';

export interface WorkbookUpdateOptions {
  /** The team's workbook as downloaded. */
  readonly teamFile: string;
  /** Its name for messages (a OneDrive path or a local path). */
  readonly label: string;
  /** Where the updated workbook is written. */
  readonly filePath: string;
  /** Folder for the built sheets and the rewritten sheet parts. */
  readonly tempDir: string;
  readonly zipLevel: number;
  readonly creator?: string | undefined;
  readonly now?: Date | undefined;
  /** The printed pages' footer of the sheets built whole (see WorkbookWriterOptions.printFooter). */
  readonly printFooter?: string | undefined;
}

/**
 * Opens the team's workbook for an update.
 * @throws WorkbookError `WORKBOOK_UPDATE_INVALID_TARGET` when it is not an .xlsx/.xlsm package.
 */
export async function openWorkbookUpdate(options: WorkbookUpdateOptions): Promise<WorkbookWriter> {
  const model = await readPackageModel(options.teamFile, options.label);
  const relPart = (type: string): string | undefined => model.workbookRels.find((r) => r.type === type)?.partName;
  const stylesPart = relPart(REL_STYLES);
  const stylesEntry = stylesPart === undefined ? undefined : model.zip.get(stylesPart);
  const stylesXml = stylesEntry === undefined ? EMPTY_STYLES : await model.zip.readText(stylesEntry);
  const styles = createStylesEditor(stylesXml);
  const refreshed: RefreshedSheet[] = [];
  const spoolPaths: string[] = [];
  let fresh: WorkbookWriter | undefined;
  const freshPath = join(options.tempDir, 'built-sheets.xlsx');
  const freshSheets: string[] = [];
  let order: readonly string[] = [];
  let state: 'open' | 'committed' | 'aborted' = 'open';
  const built = (): WorkbookWriter =>
    (fresh ??= createWorkbookWriter({
      filePath: freshPath,
      zipLevel: options.zipLevel,
      creator: options.creator,
      now: options.now,
      printFooter: options.printFooter,
    }));
  const ctx: RefreshContext = {
    model,
    styles,
    sharedStringsPart: relPart(REL_SHARED_STRINGS),
    tempDir: options.tempDir,
    zipLevel: options.zipLevel,
    spoolPaths,
  };

  const cleanup = async (): Promise<void> => {
    await Promise.all(spoolPaths.map((p) => rm(p, { force: true })));
    await model.zip.close().catch(() => undefined);
  };

  return {
    async addDataSheet(input) {
      const tableName = input.table ?? toTableName(sanitizeSheetName(input.name));
      const table = findTable(model, tableName);
      if (table === undefined) {
        refuseSheetWithoutTable(model, input.name, tableName);
        // Neither the table nor its sheet is there yet: a new sheet, built like a new workbook's and brought over.
        const result = await built().addDataSheet({ ...input, table: tableName });
        freshSheets.push(...result.sheetNames);
        return result;
      }
      const done = await refreshTable(ctx, table, input);
      refreshed.push(done.sheet);
      return done.result;
    },
    async addSpecSheet(spec: SheetSpec) {
      const name = await built().addSpecSheet(spec);
      freshSheets.push(name);
      return name;
    },
    setTabOrder(names) {
      order = names;
    },
    async commit() {
      if (state !== 'open')
        throw new WorkbookError('WORKBOOK_WRITER_STATE', `the update of '${options.label}' is ${state}`);
      try {
        let warnings: string[] = [];
        let freshModel: PackageModel | undefined;
        if (fresh !== undefined) {
          warnings = (await fresh.commit()).warnings;
          freshModel = await readPackageModel(freshPath, 'the sheets built for the update');
        }
        try {
          const orderedNew = [
            ...order.filter((n) => freshSheets.includes(n)),
            ...freshSheets.filter((n) => !order.includes(n)),
          ];
          const { bytes, keptParts } = await assemblePackage({
            team: model,
            fresh: freshModel,
            freshSheetOrder: orderedNew,
            refreshed,
            styles,
            filePath: options.filePath,
            zipLevel: options.zipLevel,
          });
          state = 'committed';
          const written = new Set(
            [...freshSheets, ...refreshed.map((r) => r.table.sheet)].map((n) => n.toLocaleUpperCase('en-US')),
          );
          const sheets = model.sheets.map((s) => s.name).filter((n) => !written.has(n.toLocaleUpperCase('en-US')));
          return { bytes, warnings, kept: { parts: keptParts, sheets } };
        } finally {
          await freshModel?.zip.close();
        }
      } finally {
        await cleanup();
        await rm(freshPath, { force: true });
      }
    },
    async abort() {
      if (state === 'aborted') return;
      state = 'aborted';
      await fresh?.abort();
      await cleanup();
      await rm(options.filePath, { force: true });
    },
  };
}

const EMPTY_STYLES =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>';

interface RefreshContext {
  readonly model: PackageModel;
  readonly styles: StylesEditor;
  readonly sharedStringsPart: string | undefined;
  readonly tempDir: string;
  readonly zipLevel: number;
  readonly spoolPaths: string[];
}

function findTable(model: PackageModel, name: string): TableInfo | undefined {
  const wanted = name.toLocaleUpperCase('en-US');
  return model.tables.find((t) => t.name.toLocaleUpperCase('en-US') === wanted);
}

/** A sheet of the view's name without the view's table is the team's: refuse rather than write over it. */
export function refuseSheetWithoutTable(model: PackageModel, sheetName: string, tableName: string): void {
  const name = sanitizeSheetName(sheetName).toLocaleUpperCase('en-US');
  const sheet = model.sheets.find((s) => s.name.toLocaleUpperCase('en-US') === name);
  if (sheet === undefined) return;
  const tables = model.tables.map((t) => `'${t.name}' (sheet '${t.sheet.name}')`);
  throw new WorkbookError(
    'WORKBOOK_UPDATE_TABLE_NOT_FOUND',
    `'${model.label}' has a sheet '${sheet.name}' but no table named '${tableName}' to refresh; tables in the workbook: ${tables.length === 0 ? 'none' : tables.join(', ')}`,
    {
      hint: `set views[].table to the table's name, or name the table '${tableName}' in Excel (Table Design > Table Name); the workbook was not changed`,
    },
  );
}

/** The namespace prefix of a sheet part, read from its first bytes. */
async function sheetPrefix(model: PackageModel, partName: string): Promise<string> {
  const entry = model.zip.get(partName);
  if (entry === undefined)
    throw new WorkbookError('WORKBOOK_UPDATE_INVALID_TARGET', `'${model.label}' lacks its part ${partName}`);
  const stream = await model.zip.openStream(entry);
  let head = '';
  try {
    for await (const chunk of stream) {
      head += (chunk as Buffer).toString('utf8');
      if (/<(?!\?|!)[\w.:-]+[\s>]/.test(head)) break;
    }
  } finally {
    stream.destroy();
  }
  return rootPrefix(head);
}

/** Plans and writes one refreshed table: its sheet as a deflated spool, its table part, and what happened. */
async function refreshTable(
  ctx: RefreshContext,
  table: TableInfo,
  input: DataSheetInput,
): Promise<{ sheet: RefreshedSheet; result: DataSheetResult }> {
  const { model } = ctx;
  const entry = model.zip.get(table.sheet.partName);
  if (entry === undefined)
    throw new WorkbookError(
      'WORKBOOK_UPDATE_INVALID_TARGET',
      `'${model.label}' lacks its part ${table.sheet.partName}`,
    );
  const prefix = await sheetPrefix(model, table.sheet.partName);
  const viewColumnNames = toTableColumnNames(input.columns.map((c) => c.name));
  const update = input.update;
  const plan = await planTableRefresh({
    table,
    viewColumns: input.columns,
    viewColumnNames,
    rowCount: update?.rowCount ?? 0,
    key: update?.key,
    keySetting: update?.keySetting ?? 'views[].key',
    previousColumns: update?.previousColumns,
    pieces: scanSheet(await model.zip.openStream(entry), prefix),
    prefix,
    formatCodeOf: (s) => ctx.styles.formatCodeOf(s),
    sheetName: table.sheet.name,
    label: model.label,
    needsFormat: (i) => {
      const column = input.columns[i];
      return column !== undefined && formatForColumn(column) !== undefined;
    },
  });
  const strings = await readSharedStrings(model.zip, ctx.sharedStringsPart, plan.sharedKeyIndexes);
  const { kept, duplicates } = keepByKey(plan, strings);
  const spoolPath = join(ctx.tempDir, `refreshed-${posix.basename(table.sheet.partName)}.deflate`);
  ctx.spoolPaths.push(spoolPath);
  const spool = createDeflatedSpool(spoolPath, ctx.zipLevel);
  const rows = input.rows[Symbol.asyncIterator]();
  let written;
  try {
    written = await writeTeamSheet({
      plan,
      pieces: scanSheet(await model.zip.openStream(entry), prefix),
      prefix,
      rows,
      kept,
      styles: columnStyles(plan, input, ctx.styles),
      out: spool,
      onRow: input.onProgress,
    });
  } catch (err) {
    spool.destroy();
    throw err;
  } finally {
    await Promise.resolve(rows.return?.()).catch(() => undefined);
  }
  const finished = await spool.finish();
  input.onProgress?.(written.rows);
  const dropped = await describeDropped(ctx, written.dropped);
  const summary = summarize(plan, dropped);
  const warnings = [...plan.warnings, ...updateWarnings(plan, summary, duplicates, written.repeatedKeys)];
  return {
    sheet: {
      sheetPart: table.sheet.partName,
      spool: finished,
      tablePart: table.partName,
      tableXml: renderUpdatedTable(table, plan),
      table: {
        name: table.name,
        sheet: table.sheet.name,
        oldRange: { ...table.ref, bottom: table.ref.bottom - table.totalsRowCount },
        newRange: { ...plan.range, bottom: plan.range.bottom - table.totalsRowCount },
      },
    },
    result: {
      sheetNames: [table.sheet.name],
      rows: written.rows,
      truncatedCells: written.issues.truncated,
      warnings,
      update: summary,
    },
  };
}

/** The teammate cells by their row's key (first row of a key wins; the others are counted). */
function keepByKey(plan: TablePlan, strings: ReadonlyMap<number, string>): { kept: KeptByKey; duplicates: number } {
  const kept = new Map<string, ReadonlyMap<number, KeptCell>>();
  let duplicates = 0;
  for (const row of plan.keptRows) {
    const key = row.key === undefined ? undefined : 'shared' in row.key ? strings.get(row.key.shared) : row.key.text;
    if (key === undefined || key === '') continue;
    if (kept.has(key)) duplicates += 1;
    else kept.set(key, row.cells);
  }
  return { kept, duplicates };
}

/** Styles of the planned columns: the team's where they set one, else the view's format appended to theirs. */
function columnStyles(plan: TablePlan, input: DataSheetInput, styles: StylesEditor) {
  const ours = (format: string | undefined): number => (format === undefined ? 0 : styles.cellStyleFor(format));
  const dateStyle = ours(DATETIME_FORMAT);
  const styleIds: number[] = [];
  const dateStyleIds: number[] = [];
  for (const column of plan.columns) {
    if (column.kind !== 'view') {
      styleIds.push(0);
      dateStyleIds.push(0);
      continue;
    }
    const spec = input.columns[column.viewIndex];
    const format = spec === undefined ? undefined : formatForColumn(spec);
    const style = column.style ?? ours(format);
    const isDate = spec?.type === 'date' || spec?.type === 'datetime';
    styleIds.push(style);
    dateStyleIds.push(isDate ? style : dateStyle);
  }
  return { styles: styleIds, dateStyles: dateStyleIds, newHeaderStyle: plan.headerStyle ?? 0 };
}

/** The dropped rows' teammate values as text (shared strings resolved), for the run report and the About sheet. */
async function describeDropped(
  ctx: RefreshContext,
  dropped: readonly { key: string | undefined; cells: readonly KeptCell[] }[],
): Promise<{ key: string; values: string[] }[]> {
  if (dropped.length === 0) return [];
  const wanted = new Set<number>();
  for (const row of dropped)
    for (const cell of row.cells) {
      const shared = sharedIndexOf(cell.xml);
      if (shared !== undefined) wanted.add(shared);
    }
  const strings = await readSharedStrings(ctx.model.zip, ctx.sharedStringsPart, wanted);
  return dropped.map((row) => ({
    key: row.key ?? '',
    values: row.cells.map((cell) => cellText(cell.xml, strings)),
  }));
}

function sharedIndexOf(cellXml: string): number | undefined {
  if (attributesOf(cellXml).get('t') !== 's') return undefined;
  const v = cellChild(cellXml, 'v');
  return v === undefined ? undefined : Number(v.xml.replace(/<[^>]*>/g, ''));
}

/** What a kept cell shows: its text, its number, or its formula. */
function cellText(cellXml: string, strings: ReadonlyMap<number, string>): string {
  const shared = sharedIndexOf(cellXml);
  if (shared !== undefined) return strings.get(shared) ?? '';
  const is = cellChild(cellXml, 'is');
  if (is !== undefined) return textOfRich(is.xml);
  const f = cellChild(cellXml, 'f');
  if (f !== undefined) return `=${f.xml.replace(/<[^>]*>/g, '')}`;
  const v = cellChild(cellXml, 'v');
  return v === undefined ? '' : v.xml.replace(/<[^>]*>/g, '');
}

function summarize(plan: TablePlan, dropped: readonly { key: string; values: string[] }[]): TableUpdateSummary {
  const names = (kind: string): string[] => plan.columns.filter((c) => c.kind === kind).map((c) => c.name);
  return {
    table: plan.table.name,
    calculatedColumns: names('calculated'),
    teammateColumns: names('teammate'),
    addedColumns: [...plan.newColumnNames],
    droppedRows: dropped.map((d) => ({ key: d.key, values: d.values })),
  };
}

function updateWarnings(plan: TablePlan, summary: TableUpdateSummary, duplicates: number, repeated: number): string[] {
  const warnings: string[] = [];
  const table = `table '${plan.table.name}'`;
  if (summary.addedColumns.length > 0) {
    warnings.push(
      `${table}: new view column(s) ${summary.addedColumns.map((c) => `"${c}"`).join(', ')} added at the right`,
    );
  }
  for (const row of summary.droppedRows) {
    warnings.push(
      `${table}: the row of key "${row.key}" left the view; its teammate values were removed with it: ${row.values.map((v) => `"${v}"`).join(', ')}`,
    );
  }
  if (duplicates > 0)
    warnings.push(
      `${table}: ${duplicates} old row(s) repeated a key; their teammate values went with the first row of each key only`,
    );
  if (repeated > 0)
    warnings.push(`${table}: ${repeated} view row(s) repeat a key; teammate values went to the first row of each key`);
  return warnings;
}

/** The table part with its new range, autofilter and columns; everything else as the team's program wrote it. */
function renderUpdatedTable(table: TableInfo, plan: TablePlan): string {
  let xml = table.xml;
  const root = findTags(xml, 'table')[0];
  if (root !== undefined)
    xml = xml.slice(0, root.start) + withAttribute(root.tag, 'ref', formatRange(plan.range)) + xml.slice(root.end);
  const filterRange = formatRange({ ...plan.range, bottom: plan.range.bottom - table.totalsRowCount });
  const filter = findTags(xml, 'autoFilter')[0];
  if (filter !== undefined)
    xml = xml.slice(0, filter.start) + withAttribute(filter.tag, 'ref', filterRange) + xml.slice(filter.end);
  // A sort recorded for the old rows does not describe the new ones.
  xml = xml.replace(/<((?:[\w.-]+:)?sortState)[\s>][\s\S]*?<\/\1>|<(?:[\w.-]+:)?sortState[^>]*\/>/, '');
  if (plan.newColumnNames.length > 0) {
    const columns = findElement(xml, 'tableColumns');
    if (columns !== undefined) {
      const prefix = /<([\w.-]+:)?tableColumns[\s>]/.exec(columns.xml)?.[1] ?? '';
      let id = Math.max(
        0,
        ...findElements(columns.xml, 'tableColumn').map((c) => Number(attributesOf(c.xml).get('id') ?? 0)),
      );
      const added = plan.newColumnNames.map(
        (name) => `<${prefix}tableColumn id="${++id}" name="${escapeAttr(name)}"/>`,
      );
      const close = columns.xml.lastIndexOf('</');
      const open = columns.xml.slice(0, columns.xml.indexOf('>') + 1);
      const body = columns.xml.slice(open.length, close) + added.join('');
      const updated = `${withAttribute(open, 'count', String(plan.columns.length))}${body}${columns.xml.slice(close)}`;
      xml = xml.slice(0, columns.start) + updated + xml.slice(columns.end);
    }
  }
  return xml;
}

function escapeAttr(text: string): string {
  return text.replace(/[<>&"]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : '&quot;'));
}
