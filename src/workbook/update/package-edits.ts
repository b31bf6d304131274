/**
 * The package-level edits of an update, each a small change to a part the teammate's program wrote: full
 * recalculation on open (calcPr) and no stale calculation chain; pivot caches over a refreshed table refreshed on
 * open and widened to its new rows; defined names the export owns replaced and a teammate's name that equalled the
 * table's old range following it; relationships and content types for the parts added and removed.
 */
import { posix } from 'node:path';
import { formatAbsoluteRange, parseRange, type CellRange } from './cell-refs.js';
import { attributesOf, escapeXml, findElement, findElements, findTags, withAttribute } from './xml-tags.js';

/** workbook.xml children in schema order (CT_Workbook), to insert an element at its place. */
const WORKBOOK_ORDER = [
  'fileVersion',
  'fileSharing',
  'workbookPr',
  'workbookProtection',
  'bookViews',
  'sheets',
  'functionGroups',
  'externalReferences',
  'definedNames',
  'calcPr',
  'oleSize',
  'customWorkbookViews',
  'pivotCaches',
  'smartTagPr',
  'smartTagTypes',
  'webPublishing',
  'fileRecoveryPr',
  'webPublishObjects',
  'extLst',
];

/** Inserts `element` into workbook.xml at the schema position of `name` (before the first later sibling). */
function insertInWorkbook(xml: string, name: string, element: string): string {
  const later = WORKBOOK_ORDER.slice(WORKBOOK_ORDER.indexOf(name) + 1);
  for (const sibling of later) {
    const at = findTags(xml, sibling)[0];
    if (at !== undefined) return xml.slice(0, at.start) + element + xml.slice(at.start);
  }
  const end = xml.search(/<\/(?:[\w.-]+:)?workbook>/);
  return xml.slice(0, end) + element + xml.slice(end);
}

/** Asks for a full recalculation when the file is opened (cached values may be stale after the refresh). */
export function withFullCalcOnLoad(workbookXml: string, prefix: string): string {
  const calc = findTags(workbookXml, 'calcPr')[0];
  if (calc === undefined) return insertInWorkbook(workbookXml, 'calcPr', `<${prefix}calcPr fullCalcOnLoad="1"/>`);
  return (
    workbookXml.slice(0, calc.start) + withAttribute(calc.tag, 'fullCalcOnLoad', '1') + workbookXml.slice(calc.end)
  );
}

/** Appends `<sheet>` entries (new sheets go last in tab order). */
export function withSheets(
  workbookXml: string,
  prefix: string,
  sheets: readonly { name: string; sheetId: number; rId: string }[],
  relPrefix: string,
): string {
  if (sheets.length === 0) return workbookXml;
  const entries = sheets
    .map((s) => `<${prefix}sheet name="${escapeXml(s.name)}" sheetId="${s.sheetId}" ${relPrefix}:id="${s.rId}"/>`)
    .join('');
  const el = findElement(workbookXml, 'sheets');
  if (el === undefined) return insertInWorkbook(workbookXml, 'sheets', `<${prefix}sheets>${entries}</${prefix}sheets>`);
  const close = el.xml.lastIndexOf('</');
  return (
    workbookXml.slice(0, el.start) + el.xml.slice(0, close) + entries + el.xml.slice(close) + workbookXml.slice(el.end)
  );
}

/** A workbook-level or sheet-level defined name. */
export interface DefinedName {
  readonly name: string;
  readonly localSheetId: number | undefined;
  readonly hidden: boolean;
  readonly formula: string;
}

export function parseDefinedNames(workbookXml: string): DefinedName[] {
  const container = findElement(workbookXml, 'definedNames');
  if (container === undefined) return [];
  return findElements(container.xml, 'definedName').map((el) => {
    const a = attributesOf(el.xml);
    const local = a.get('localSheetId');
    const open = el.xml.indexOf('>');
    const close = el.xml.lastIndexOf('</');
    return {
      name: a.get('name') ?? '',
      localSheetId: local === undefined ? undefined : Number(local),
      hidden: a.get('hidden') === '1' || a.get('hidden') === 'true',
      formula: close > open ? el.xml.slice(open + 1, close) : '',
    };
  });
}

/**
 * Replaces the names in `owned` (same name and scope) with their new definitions and adds the others; every other
 * name is kept as written, except that `follow` may rewrite a teammate's name whose range was a refreshed table's.
 * `formula` values are XML text (escaped) as in the part.
 */
export function withDefinedNames(
  workbookXml: string,
  prefix: string,
  owned: readonly DefinedName[],
  follow: (formula: string) => string,
): string {
  const container = findElement(workbookXml, 'definedNames');
  const same = (a: { name: string; localSheetId: number | undefined }, b: DefinedName): boolean =>
    a.name.toLocaleUpperCase('en-US') === b.name.toLocaleUpperCase('en-US') && a.localSheetId === b.localSheetId;
  const render = (d: DefinedName): string =>
    `<${prefix}definedName name="${escapeXml(d.name)}"${d.localSheetId === undefined ? '' : ` localSheetId="${d.localSheetId}"`}${d.hidden ? ' hidden="1"' : ''}>${d.formula}</${prefix}definedName>`;
  if (container === undefined) {
    if (owned.length === 0) return workbookXml;
    return insertInWorkbook(
      workbookXml,
      'definedNames',
      `<${prefix}definedNames>${owned.map(render).join('')}</${prefix}definedNames>`,
    );
  }
  let body = container.xml;
  for (const el of findElements(container.xml, 'definedName').reverse()) {
    const a = attributesOf(el.xml);
    const local = a.get('localSheetId');
    const key = { name: a.get('name') ?? '', localSheetId: local === undefined ? undefined : Number(local) };
    if (owned.some((d) => same(key, d))) {
      body = body.slice(0, el.start) + body.slice(el.end);
      continue;
    }
    const open = el.xml.indexOf('>');
    const close = el.xml.lastIndexOf('</');
    if (close <= open) continue;
    const formula = el.xml.slice(open + 1, close);
    const followed = follow(formula);
    if (followed !== formula) {
      const replaced = el.xml.slice(0, open + 1) + followed + el.xml.slice(close);
      body = body.slice(0, el.start) + replaced + body.slice(el.end);
    }
  }
  const close = body.lastIndexOf('</');
  body = body.slice(0, close) + owned.map(render).join('') + body.slice(close);
  return workbookXml.slice(0, container.start) + body + workbookXml.slice(container.end);
}

/** A refreshed table as other parts may refer to it: by name, or by its sheet and old range. */
export interface RefreshedTable {
  readonly name: string;
  readonly sheet: string;
  /** Header through last data row, before and after (totals row left out, as pivots and names cover it). */
  readonly oldRange: CellRange;
  readonly newRange: CellRange;
}

/** A sheet name as a formula writes it: quoted when it needs to be. */
function sheetRef(name: string): string {
  return /^[\p{L}_][\p{L}\p{N}_.]*$/u.test(name) && !/^[A-Za-z]{1,3}\d+$/.test(name)
    ? name
    : `'${name.replace(/'/g, "''")}'`;
}

/**
 * A defined name's formula that is exactly a refreshed table's old range (`Sheet!$A$1:$P$301`, with or without `$`
 * and quotes) now reads its new range; any other formula is returned unchanged.
 */
export function followTableRange(formula: string, tables: readonly RefreshedTable[]): string {
  const m = /^\s*(?:'((?:[^']|'')+)'|([^'!]+))!(\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?)\s*$/.exec(formula);
  if (m === null) return formula;
  const sheet = (m[1] ?? m[2] ?? '').replace(/''/g, "'");
  const range = parseRange((m[3] ?? '').replace(/\$/g, ''));
  if (range === undefined) return formula;
  for (const t of tables) {
    if (t.sheet !== sheet) continue;
    for (const [before, after] of [
      [t.oldRange, t.newRange],
      // The data body alone (without the header row) follows too.
      [
        { ...t.oldRange, top: t.oldRange.top + 1 },
        { ...t.newRange, top: t.newRange.top + 1 },
      ],
    ] as const) {
      if (sameRange(before, range)) return `${sheetRef(sheet)}!${formatAbsoluteRange(after)}`;
    }
  }
  return formula;
}

function sameRange(a: CellRange, b: CellRange): boolean {
  return a.top === b.top && a.left === b.left && a.bottom === b.bottom && a.right === b.right;
}

/**
 * A pivot cache definition over a refreshed table (by its name, or its sheet and old range) refreshes when the file
 * is opened; one over the old range reads the new one. Undefined when the cache is over something else.
 */
export function refreshPivotCache(
  xml: string,
  tables: readonly RefreshedTable[],
  managedSheets: readonly string[],
): string | undefined {
  const source = findTags(xml, 'worksheetSource')[0];
  const root = findTags(xml, 'pivotCacheDefinition')[0];
  if (source === undefined || root === undefined) return undefined;
  const a = attributesOf(source.tag);
  const name = a.get('name');
  const sheet = a.get('sheet');
  const ref = a.get('ref');
  let sourceTag = source.tag;
  let over = false;
  if (name !== undefined && tables.some((t) => t.name.toLocaleUpperCase('en-US') === name.toLocaleUpperCase('en-US')))
    over = true;
  if (sheet !== undefined && ref !== undefined) {
    const range = parseRange(ref);
    const table = tables.find((t) => t.sheet === sheet && range !== undefined && sameRange(t.oldRange, range));
    if (table !== undefined) {
      sourceTag = withAttribute(sourceTag, 'ref', `${formatAbsoluteRange(table.newRange).replace(/\$/g, '')}`);
      over = true;
    } else if (managedSheets.includes(sheet) || tables.some((t) => t.sheet === sheet)) over = true;
  }
  if (!over) return undefined;
  let out = xml.slice(0, source.start) + sourceTag + xml.slice(source.end);
  const newRoot = findTags(out, 'pivotCacheDefinition')[0];
  if (newRoot !== undefined)
    out = out.slice(0, newRoot.start) + withAttribute(newRoot.tag, 'refreshOnLoad', '1') + out.slice(newRoot.end);
  return out;
}

/** Removes relationships by id and appends new ones. */
export function editRelationships(
  xml: string,
  remove: ReadonlySet<string>,
  add: readonly { id: string; type: string; target: string }[],
): string {
  let out = xml;
  for (const { tag, start, end } of findTags(xml, 'Relationship').reverse()) {
    if (remove.has(attributesOf(tag).get('Id') ?? '')) out = out.slice(0, start) + out.slice(end);
  }
  const entries = add
    .map((r) => `<Relationship Id="${r.id}" Type="${r.type}" Target="${escapeXml(r.target)}"/>`)
    .join('');
  const close = out.lastIndexOf('</Relationships>');
  if (close < 0) {
    return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${entries}</Relationships>`;
  }
  return out.slice(0, close) + entries + out.slice(close);
}

/** A relationship id not used in `xml` (`rId7`). */
export function freeRelationshipId(xml: string, taken: Set<string>): string {
  for (const { tag } of findTags(xml, 'Relationship')) taken.add(attributesOf(tag).get('Id') ?? '');
  for (let n = 1; ; n++) {
    const id = `rId${n}`;
    if (!taken.has(id)) {
      taken.add(id);
      return id;
    }
  }
}

/** Removes the Overrides of `removed` parts and adds Overrides for `added` parts (name → content type). */
export function editContentTypes(
  xml: string,
  removed: ReadonlySet<string>,
  added: ReadonlyMap<string, string>,
): string {
  let out = xml;
  for (const { tag, start, end } of findTags(xml, 'Override').reverse()) {
    const part = (attributesOf(tag).get('PartName') ?? '').replace(/^\//, '');
    if (removed.has(part) || added.has(part)) out = out.slice(0, start) + out.slice(end);
  }
  const entries = [...added]
    .map(([part, type]) => `<Override PartName="/${escapeXml(part)}" ContentType="${escapeXml(type)}"/>`)
    .join('');
  const close = out.lastIndexOf('</Types>');
  return out.slice(0, close) + entries + out.slice(close);
}

/** The content type of `part` in a [Content_Types].xml: its Override, else the Default of its extension. */
export function contentTypeOf(xml: string, part: string): string | undefined {
  for (const { tag } of findTags(xml, 'Override')) {
    const a = attributesOf(tag);
    if ((a.get('PartName') ?? '').replace(/^\//, '') === part) return a.get('ContentType');
  }
  const ext = posix.extname(part).slice(1).toLowerCase();
  for (const { tag } of findTags(xml, 'Default')) {
    const a = attributesOf(tag);
    if ((a.get('Extension') ?? '').toLowerCase() === ext) return a.get('ContentType');
  }
  return undefined;
}
