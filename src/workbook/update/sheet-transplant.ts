/**
 * Brings a whole sheet the export built (a metric sheet, the About sheet, a data sheet that is new to the team's
 * workbook) into the team's package: the sheet part with its cell styles re-indexed into the team's styles.xml,
 * and everything the sheet relates to (its table, its drawing and charts) under part names and ids the team's
 * package does not use yet.
 */
import { posix } from 'node:path';
import { relsPartOf, REL_TABLE, type PackageModel, type SheetInfo } from './package-model.js';
import { contentTypeOf } from './package-edits.js';
import type { ParsedStyles, StylesEditor } from './styles-editor.js';
import { attributesOf, findTags, withAttribute } from './xml-tags.js';

/** A part to add to the team's package. */
export interface NewPart {
  readonly name: string;
  readonly data: string | Buffer;
  readonly contentType: string | undefined;
}

export interface TransplantContext {
  readonly fresh: PackageModel;
  readonly freshStyles: ParsedStyles;
  readonly styles: StylesEditor;
  /** A part name not used in the team's package yet: `xl/tables/table` + n + `.xml`. */
  takePartName(stem: string, extension: string): string;
  /** A table id unused in the team's workbook. */
  takeTableId(): number;
  /** A table name unused in the team's workbook (tables and defined names share one namespace). */
  takeTableName(wanted: string): string;
}

/**
 * The sheet part (to be stored as `targetPart`) and the parts it needs. `targetPart` is the team's part of the
 * sheet being replaced, or a new part name.
 */
export async function transplantSheet(
  sheet: SheetInfo,
  targetPart: string,
  ctx: TransplantContext,
): Promise<{ readonly sheetXml: string; readonly parts: NewPart[] }> {
  const entry = ctx.fresh.zip.get(sheet.partName);
  if (entry === undefined) throw new Error(`the built workbook has no part ${sheet.partName}`);
  const sheetXml = restyle(await ctx.fresh.zip.readText(entry), ctx);
  const parts: NewPart[] = [];
  const copied = new Map<string, string>();
  const relsXml = await copyRelated(sheet.partName, targetPart, ctx, parts, copied);
  if (relsXml !== undefined) parts.push({ name: relsPartOf(targetPart), data: relsXml, contentType: undefined });
  return { sheetXml, parts };
}

/** Re-indexes `s` (cells, rows), `style` (columns) and `dxfId` (conditional formats) into the team's styles. */
function restyle(xml: string, ctx: TransplantContext): string {
  const cell = (s: string): string => String(ctx.styles.importCellStyle(ctx.freshStyles, Number(s)));
  return xml
    .replace(
      /<(c|row)(\s[^>]*?)\ss="(\d+)"/g,
      (_all, el: string, before: string, s: string) => `<${el}${before} s="${cell(s)}"`,
    )
    .replace(/<col(\s[^>]*?)\sstyle="(\d+)"/g, (_all, before: string, s: string) => `<col${before} style="${cell(s)}"`)
    .replace(
      /<cfRule(\s[^>]*?)\sdxfId="(\d+)"/g,
      (_all, before: string, id: string) =>
        `<cfRule${before} dxfId="${ctx.styles.importDxf(ctx.freshStyles, Number(id))}"`,
    );
}

/**
 * Copies every part `sourcePart` relates to (recursively) under new names; returns the relationships XML for the
 * part's new home `targetPart` (targets rewritten), or undefined when it relates to nothing.
 */
async function copyRelated(
  sourcePart: string,
  targetPart: string,
  ctx: TransplantContext,
  parts: NewPart[],
  copied: Map<string, string>,
): Promise<string | undefined> {
  const relsEntry = ctx.fresh.zip.get(relsPartOf(sourcePart));
  if (relsEntry === undefined) return undefined;
  let relsXml = await ctx.fresh.zip.readText(relsEntry);
  for (const { tag } of findTags(relsXml, 'Relationship')) {
    const a = attributesOf(tag);
    if (a.get('TargetMode') === 'External') continue;
    const target = a.get('Target') ?? '';
    const from = target.startsWith('/')
      ? target.slice(1)
      : posix.normalize(posix.join(posix.dirname(sourcePart), target));
    let to = copied.get(from);
    if (to === undefined) {
      to = await copyPart(from, a.get('Type') ?? '', ctx, parts, copied);
      copied.set(from, to);
    }
    const relative = posix.relative(posix.dirname(targetPart), to);
    relsXml = relsXml.replace(tag, withAttribute(tag, 'Target', relative));
  }
  return relsXml;
}

async function copyPart(
  from: string,
  type: string,
  ctx: TransplantContext,
  parts: NewPart[],
  copied: Map<string, string>,
): Promise<string> {
  const entry = ctx.fresh.zip.get(from);
  if (entry === undefined) throw new Error(`the built workbook has no part ${from}`);
  const ext = posix.extname(from);
  const stem = posix.join(posix.dirname(from), posix.basename(from, ext).replace(/\d+$/, ''));
  const to = ctx.takePartName(stem, ext);
  copied.set(from, to);
  let data: string | Buffer = await ctx.fresh.zip.readBytes(entry);
  if (type === REL_TABLE) data = renumberTable(data.toString('utf8'), ctx);
  parts.push({ name: to, data, contentType: contentTypeOf(ctx.fresh.contentTypesXml, from) });
  const rels = await copyRelated(from, to, ctx, parts, copied);
  if (rels !== undefined) parts.push({ name: relsPartOf(to), data: rels, contentType: undefined });
  return to;
}

/** A table part with an id and a name free in the team's workbook. */
function renumberTable(xml: string, ctx: TransplantContext): string {
  const root = findTags(xml, 'table')[0];
  if (root === undefined) return xml;
  const a = attributesOf(root.tag);
  const name = ctx.takeTableName(a.get('name') ?? 'Table');
  let tag = withAttribute(root.tag, 'id', String(ctx.takeTableId()));
  tag = withAttribute(tag, 'name', name);
  tag = withAttribute(tag, 'displayName', name);
  return xml.slice(0, root.start) + tag + xml.slice(root.end);
}
