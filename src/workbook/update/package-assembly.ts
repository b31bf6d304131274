/**
 * Writes the updated package: the team's parts in their order, each copied as its stored bytes unless the update
 * changed it (a refreshed sheet and its table, the sheets the export owns, workbook.xml, its relationships, the
 * content types, styles, pivot caches over a refreshed table), without the stale calculation chain, followed by the
 * parts that are new. The file is written whole to a new path; the caller delivers it or removes it.
 */
import { posix } from 'node:path';
import {
  REL_CALC_CHAIN,
  REL_PIVOT_CACHE,
  REL_STYLES,
  REL_WORKSHEET,
  relsPartOf,
  type PackageModel,
  type SheetInfo,
} from './package-model.js';
import {
  editContentTypes,
  editRelationships,
  followTableRange,
  freeRelationshipId,
  parseDefinedNames,
  refreshPivotCache,
  withDefinedNames,
  withFullCalcOnLoad,
  withSheets,
  type DefinedName,
  type RefreshedTable,
} from './package-edits.js';
import { transplantSheet, type NewPart, type TransplantContext } from './sheet-transplant.js';
import { parseStyles, type ParsedStyles, type StylesEditor } from './styles-editor.js';
import { attributesOf, findTags, rootPrefix } from './xml-tags.js';
import { createZipWriter, type FinishedSpool } from './zip-writer.js';
import { toTableName } from '../table-part.js';

const WORKSHEET_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml';

/** A team table refreshed in place: its sheet's new part (deflated) and its table part's new XML. */
export interface RefreshedSheet {
  readonly sheetPart: string;
  readonly spool: FinishedSpool;
  readonly tablePart: string;
  readonly tableXml: string;
  readonly table: RefreshedTable;
}

export interface AssembleInput {
  readonly team: PackageModel;
  /** The workbook of the sheets the export built whole (metric, About, new data sheets), if any. */
  readonly fresh: PackageModel | undefined;
  /** Its sheets in the tab order they take when they are new to the team's workbook. */
  readonly freshSheetOrder: readonly string[];
  readonly refreshed: readonly RefreshedSheet[];
  readonly styles: StylesEditor;
  readonly filePath: string;
  readonly zipLevel: number;
}

/** What the assembly changes in the team's package, gathered before anything is written. */
interface Changes {
  /** Part name → its new content (a spool for refreshed sheets). */
  readonly replaced: Map<string, string | Buffer | FinishedSpool>;
  readonly removed: Set<string>;
  readonly added: NewPart[];
}

/** Writes the updated package to `input.filePath`; resolves with its size in bytes. */
export async function assemblePackage(input: AssembleInput): Promise<{ bytes: number; keptParts: number }> {
  const { team } = input;
  const changes: Changes = { replaced: new Map(), removed: new Set(), added: [] };
  for (const r of input.refreshed) {
    changes.replaced.set(r.sheetPart, r.spool);
    changes.replaced.set(r.tablePart, r.tableXml);
  }
  const calcChain = team.workbookRels.find((r) => r.type === REL_CALC_CHAIN);
  if (calcChain?.partName !== undefined) changes.removed.add(calcChain.partName);

  const owned = await bringOverBuiltSheets(input, changes);
  const prefix = rootPrefix(team.workbookXml);
  const relPrefix = relationshipPrefix(team.workbookXml);
  const relIds = new Set<string>();
  const newRels = owned.newSheets.map((s) => ({
    ...s,
    rId: freeRelationshipId(team.workbookRelsXml, relIds),
  }));
  let sheetId = Math.max(
    0,
    ...findTags(team.workbookXml, 'sheet').map(({ tag }) => Number(attributesOf(tag).get('sheetId') ?? 0)),
  );
  let workbookXml = withSheets(
    team.workbookXml,
    prefix,
    newRels.map((s) => ({ name: s.name, sheetId: ++sheetId, rId: s.rId })),
    relPrefix,
  );
  const tables = input.refreshed.map((r) => r.table);
  workbookXml = withDefinedNames(workbookXml, prefix, owned.names, (formula) => followTableRange(formula, tables));
  workbookXml = withFullCalcOnLoad(workbookXml, prefix);
  changes.replaced.set(team.workbookPart, workbookXml);
  changes.replaced.set(
    team.workbookRelsPart,
    editRelationships(
      team.workbookRelsXml,
      new Set(calcChain === undefined ? [] : [calcChain.id]),
      newRels.map((s) => ({
        id: s.rId,
        type: REL_WORKSHEET,
        target: posix.relative(posix.dirname(team.workbookPart), s.part),
      })),
    ),
  );
  await refreshPivotCaches(input, tables, changes, input.freshSheetOrder);
  const styles = input.styles.render();
  const stylesPart = team.workbookRels.find((r) => r.type === REL_STYLES)?.partName;
  if (styles !== undefined && stylesPart !== undefined) changes.replaced.set(stylesPart, styles);
  const addedTypes = new Map(
    changes.added.flatMap((p) =>
      p.contentType === undefined || p.name.endsWith('.rels') ? [] : [[p.name, p.contentType] as const],
    ),
  );
  changes.replaced.set('[Content_Types].xml', editContentTypes(team.contentTypesXml, changes.removed, addedTypes));
  return writeZip(input, changes);
}

/** The `xxx` of `xxx:id` on the workbook's `<sheet>` elements (`r` almost always). */
function relationshipPrefix(workbookXml: string): string {
  const tag = findTags(workbookXml, 'sheet')[0]?.tag ?? '';
  return /\s([\w.-]+):id\s*=/.exec(tag)?.[1] ?? 'r';
}

/**
 * The built sheets into the team's package: a sheet the team's workbook already has under that name (an earlier
 * run's) is replaced in place, keeping its position and id; the others are new, appended in `freshSheetOrder`.
 * Returns the new sheets to list in workbook.xml and the built workbook's defined names, re-scoped.
 */
async function bringOverBuiltSheets(
  input: AssembleInput,
  changes: Changes,
): Promise<{ newSheets: { name: string; part: string }[]; names: DefinedName[] }> {
  const fresh = input.fresh;
  if (fresh === undefined) return { newSheets: [], names: [] };
  const team = input.team;
  const stylesPart = fresh.workbookRels.find((r) => r.type === REL_STYLES)?.partName;
  const stylesEntry = stylesPart === undefined ? undefined : fresh.zip.get(stylesPart);
  const freshStyles = parseStyles(stylesEntry === undefined ? '' : await fresh.zip.readText(stylesEntry));
  const ctx = transplantContext(input, fresh, freshStyles, changes);
  const newSheets: { name: string; part: string }[] = [];
  const upper = (s: string): string => s.toLocaleUpperCase('en-US');
  for (const name of input.freshSheetOrder) {
    const sheet = fresh.sheets.find((s) => s.name === name);
    if (sheet === undefined) continue;
    const existing = team.sheets.find((s) => upper(s.name) === upper(name));
    if (existing !== undefined) removeSheetParts(team, existing, changes);
    const part = existing?.partName ?? ctx.takePartName('xl/worksheets/sheet', '.xml');
    const moved = await transplantSheet(sheet, part, ctx);
    if (existing === undefined) {
      changes.added.push({ name: part, data: moved.sheetXml, contentType: WORKSHEET_TYPE });
      newSheets.push({ name, part });
    } else {
      changes.replaced.set(part, moved.sheetXml);
    }
    for (const p of moved.parts) {
      if (p.name === relsPartOf(part) && existing !== undefined) {
        changes.replaced.set(p.name, p.data);
        changes.removed.delete(p.name);
      } else changes.added.push(p);
    }
  }
  const finalOrder = [
    ...findTags(team.workbookXml, 'sheet').map(({ tag }) => attributesOf(tag).get('name') ?? ''),
    ...newSheets.map((s) => s.name),
  ];
  return { newSheets, names: rescopeNames(fresh, finalOrder) };
}

/** Part names, table ids and table names the team's package does not use yet. */
function transplantContext(
  input: AssembleInput,
  fresh: PackageModel,
  freshStyles: ParsedStyles,
  changes: Changes,
): TransplantContext {
  const team = input.team;
  const taken = new Set(team.zip.entries.map((e) => e.name.toLowerCase()));
  let tableId = Math.max(0, ...team.tables.map((t) => t.id));
  const tableNames = new Set(team.tables.map((t) => t.name.toLocaleUpperCase('en-US')));
  for (const d of parseDefinedNames(team.workbookXml)) tableNames.add(d.name.toLocaleUpperCase('en-US'));
  return {
    fresh,
    freshStyles,
    styles: input.styles,
    takePartName(stem, extension) {
      for (let n = 1; ; n++) {
        const name = `${stem}${n}${extension}`;
        if (!taken.has(name.toLowerCase())) {
          taken.add(name.toLowerCase());
          return name;
        }
      }
    },
    takeTableId: () => ++tableId,
    takeTableName(wanted) {
      // An earlier run's table of this sheet was removed with its sheet: its name is free again.
      const replaced = team.tables
        .filter((t) => changes.removed.has(t.partName))
        .map((t) => t.name.toLocaleUpperCase('en-US'));
      const free = (n: string): boolean =>
        !tableNames.has(n.toLocaleUpperCase('en-US')) || replaced.includes(n.toLocaleUpperCase('en-US'));
      let name = toTableName(wanted);
      for (let n = 2; !free(name); n++) name = `${toTableName(wanted)}_${n}`;
      tableNames.add(name.toLocaleUpperCase('en-US'));
      return name;
    },
  };
}

/** The parts that belong to a sheet being replaced whole: its rels and what they lead to (not the pivot caches). */
function removeSheetParts(team: PackageModel, sheet: SheetInfo, changes: Changes): void {
  const shared = new Set(team.workbookRels.map((r) => r.partName));
  const visit = (rels: readonly { type: string; partName: string | undefined }[], from: string): void => {
    changes.removed.add(relsPartOf(from));
    for (const rel of rels) {
      if (rel.partName === undefined || shared.has(rel.partName) || rel.type === REL_PIVOT_CACHE) continue;
      if (changes.removed.has(rel.partName)) continue;
      changes.removed.add(rel.partName);
    }
  };
  visit(sheet.rels, sheet.partName);
  // Parts related to those parts (a drawing's charts, a chart's styles) go too.
  let grew = true;
  while (grew) {
    grew = false;
    for (const entry of team.zip.entries) {
      if (!entry.name.endsWith('.rels')) continue;
      const owner = entry.name.replace(/_rels\/([^/]+)\.rels$/, '$1');
      if (!changes.removed.has(owner) || changes.removed.has(entry.name)) continue;
      changes.removed.add(entry.name);
      grew = true;
    }
  }
}

/** The built workbook's defined names, their sheet scopes moved to the sheets' places in the team's workbook. */
function rescopeNames(fresh: PackageModel, finalOrder: readonly string[]): DefinedName[] {
  const freshOrder = findTags(fresh.workbookXml, 'sheet').map(({ tag }) => attributesOf(tag).get('name') ?? '');
  return parseDefinedNames(fresh.workbookXml).flatMap((d) => {
    if (d.localSheetId === undefined) return [d];
    const index = finalOrder.indexOf(freshOrder[d.localSheetId] ?? '');
    return index < 0 ? [] : [{ ...d, localSheetId: index }];
  });
}

async function refreshPivotCaches(
  input: AssembleInput,
  tables: readonly RefreshedTable[],
  changes: Changes,
  managedSheets: readonly string[],
): Promise<void> {
  for (const rel of input.team.workbookRels) {
    if (rel.type !== REL_PIVOT_CACHE || rel.partName === undefined) continue;
    const entry = input.team.zip.get(rel.partName);
    if (entry === undefined) continue;
    const updated = refreshPivotCache(await input.team.zip.readText(entry), tables, managedSheets);
    if (updated !== undefined) changes.replaced.set(rel.partName, updated);
  }
}

async function writeZip(input: AssembleInput, changes: Changes): Promise<{ bytes: number; keptParts: number }> {
  const zip = createZipWriter(input.filePath, input.zipLevel);
  let keptParts = 0;
  try {
    for (const entry of input.team.zip.entries) {
      if (changes.removed.has(entry.name)) continue;
      const replacement = changes.replaced.get(entry.name);
      if (replacement === undefined) {
        await zip.copyEntry(input.team.zip, entry);
        keptParts += 1;
      } else if (typeof replacement === 'string' || Buffer.isBuffer(replacement))
        await zip.addBuffer(entry.name, replacement);
      else await zip.addSpool(entry.name, replacement);
      changes.replaced.delete(entry.name);
    }
    // Replacements of parts the team's package did not have (a replaced sheet's new relationships part).
    for (const [name, data] of changes.replaced) {
      if (typeof data === 'string' || Buffer.isBuffer(data)) await zip.addBuffer(name, data);
      else await zip.addSpool(name, data);
    }
    for (const part of changes.added) await zip.addBuffer(part.name, part.data);
    return { bytes: await zip.finish(), keptParts };
  } catch (err) {
    zip.destroy();
    throw err;
  }
}
