/**
 * Adds the cell formats update mode needs to the team's `xl/styles.xml` without disturbing the ones there: every
 * sheet indexes `cellXfs` by position (a cell's `s`), so formats are only ever appended (ECMA-376 §18.8). Two uses:
 * a number format for a new column of a refreshed table, and the formats of a whole sheet brought over from the
 * workbook the export built (the metric and About sheets), whose fonts, fills, borders and differential formats come
 * along.
 */
import { attributesOf, escapeXml, findElement, findElements, withAttribute } from './xml-tags.js';

/** The parts of a styles.xml update mode reads: collections of elements, each as written. */
export interface ParsedStyles {
  /** Custom number formats: id → format code. */
  readonly numFmts: ReadonlyMap<number, string>;
  readonly fonts: readonly string[];
  readonly fills: readonly string[];
  readonly borders: readonly string[];
  readonly cellXfs: readonly string[];
  readonly dxfs: readonly string[];
}

export function parseStyles(xml: string): ParsedStyles {
  const collection = (name: string, item: string): string[] => {
    const el = findElement(xml, name);
    return el === undefined ? [] : findElements(el.xml, item).map((e) => e.xml);
  };
  const numFmts = new Map<number, string>();
  for (const f of collection('numFmts', 'numFmt')) {
    const a = attributesOf(f);
    numFmts.set(Number(a.get('numFmtId')), a.get('formatCode') ?? '');
  }
  return {
    numFmts,
    fonts: collection('fonts', 'font'),
    fills: collection('fills', 'fill'),
    borders: collection('borders', 'border'),
    cellXfs: collection('cellXfs', 'xf'),
    dxfs: collection('dxfs', 'dxf'),
  };
}

export interface StylesEditor {
  /** The numFmtId of `formatCode` (an existing one when the code is there already). */
  numFmtId(formatCode: string): number;
  /** The number format of cell style `s` of the team's workbook: its code, or undefined for General. */
  formatCodeOf(s: number): string | undefined;
  /** A cell style showing `formatCode` with the workbook's default font, fill and border. */
  cellStyleFor(formatCode: string): number;
  /** The team's index of cell style `index` of `from` (another workbook's styles), appended once. */
  importCellStyle(from: ParsedStyles, index: number): number;
  /** The team's index of differential format `index` of `from`, appended once. */
  importDxf(from: ParsedStyles, index: number): number;
  /** The new styles.xml, or undefined when nothing was added (the part is then copied as it was). */
  render(): string | undefined;
}

const BUILTIN_FORMATS: Readonly<Record<number, string>> = {
  0: 'General',
  1: '0',
  2: '0.00',
  3: '#,##0',
  4: '#,##0.00',
  9: '0%',
  10: '0.00%',
  11: '0.00E+00',
  12: '# ?/?',
  13: '# ??/??',
  14: 'mm-dd-yy',
  15: 'd-mmm-yy',
  16: 'd-mmm',
  17: 'mmm-yy',
  18: 'h:mm AM/PM',
  19: 'h:mm:ss AM/PM',
  20: 'h:mm',
  21: 'h:mm:ss',
  22: 'm/d/yy h:mm',
  49: '@',
};
const FIRST_CUSTOM_FORMAT = 164;

export function createStylesEditor(teamXml: string): StylesEditor {
  const team = parseStyles(teamXml);
  const added = {
    numFmts: [] as string[],
    fonts: [] as string[],
    fills: [] as string[],
    borders: [] as string[],
    cellXfs: [] as string[],
    dxfs: [] as string[],
  };
  const numFmtIds = new Map<string, number>();
  for (const [id, code] of team.numFmts) if (!numFmtIds.has(code)) numFmtIds.set(code, id);
  let nextNumFmt = Math.max(FIRST_CUSTOM_FORMAT, ...[...team.numFmts.keys()].map((k) => k + 1));
  const memo = new Map<string, number>();
  type Collection = 'fonts' | 'fills' | 'borders' | 'cellXfs' | 'dxfs';
  const count = (kind: Collection): number => team[kind].length + added[kind].length;
  const append = (kind: Collection, xml: string): number => {
    const key = `${kind}|${xml}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    const index = count(kind);
    added[kind].push(xml);
    memo.set(key, index);
    return index;
  };

  const numFmtId = (formatCode: string): number => {
    const builtin = Object.entries(BUILTIN_FORMATS).find(([, code]) => code === formatCode);
    if (builtin !== undefined) return Number(builtin[0]);
    const known = numFmtIds.get(formatCode);
    if (known !== undefined) return known;
    const id = nextNumFmt++;
    numFmtIds.set(formatCode, id);
    added.numFmts.push(`<numFmt numFmtId="${id}" formatCode="${escapeXml(formatCode)}"/>`);
    return id;
  };

  const importPart = (
    kind: 'fonts' | 'fills' | 'borders',
    from: ParsedStyles,
    id: number,
    reserved: number,
  ): number => {
    // Fills 0 and 1 (none, gray125) and the first font and border are every workbook's defaults.
    if (id < reserved) return id;
    const xml = from[kind][id];
    return xml === undefined ? 0 : append(kind, xml);
  };

  return {
    numFmtId,
    formatCodeOf(s) {
      const xf = team.cellXfs[s];
      if (xf === undefined) return undefined;
      const id = Number(attributesOf(xf).get('numFmtId') ?? 0);
      if (id === 0) return undefined;
      return team.numFmts.get(id) ?? BUILTIN_FORMATS[id] ?? `#${id}`;
    },
    cellStyleFor(formatCode) {
      const id = numFmtId(formatCode);
      return append(
        'cellXfs',
        `<xf numFmtId="${id}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>`,
      );
    },
    importCellStyle(from, index) {
      const xf = from.cellXfs[index];
      if (index === 0 || xf === undefined) return 0;
      const a = attributesOf(xf);
      const sourceFmt = Number(a.get('numFmtId') ?? 0);
      const code = from.numFmts.get(sourceFmt) ?? BUILTIN_FORMATS[sourceFmt];
      let tag = xf;
      tag = withAttribute(tag, 'numFmtId', String(code === undefined ? sourceFmt : numFmtId(code)));
      tag = withAttribute(tag, 'fontId', String(importPart('fonts', from, Number(a.get('fontId') ?? 0), 1)));
      tag = withAttribute(tag, 'fillId', String(importPart('fills', from, Number(a.get('fillId') ?? 0), 2)));
      tag = withAttribute(tag, 'borderId', String(importPart('borders', from, Number(a.get('borderId') ?? 0), 1)));
      tag = withAttribute(tag, 'xfId', '0');
      return append('cellXfs', tag);
    },
    importDxf(from, index) {
      const dxf = from.dxfs[index];
      return dxf === undefined
        ? index
        : append(
            'dxfs',
            dxf.replace(/numFmtId="(\d+)"/g, (all, id: string) => {
              const code = from.numFmts.get(Number(id));
              return code === undefined ? all : `numFmtId="${numFmtId(code)}"`;
            }),
          );
    },
    render() {
      if (Object.values(added).every((list) => list.length === 0)) return undefined;
      let xml = teamXml;
      xml = appendTo(xml, 'numFmts', 'numFmt', added.numFmts, ['fonts']);
      xml = appendTo(xml, 'fonts', 'font', added.fonts, ['fills']);
      xml = appendTo(xml, 'fills', 'fill', added.fills, ['borders']);
      xml = appendTo(xml, 'borders', 'border', added.borders, ['cellStyleXfs', 'cellXfs']);
      xml = appendTo(xml, 'cellXfs', 'xf', added.cellXfs, ['cellStyles', 'dxfs']);
      xml = appendTo(xml, 'dxfs', 'dxf', added.dxfs, ['tableStyles', 'colors', 'extLst']);
      return xml;
    },
  };
}

/**
 * Appends `items` to collection `name` of the stylesheet, updating its `count`; creates the collection before the
 * first of `before` that exists (or before `</styleSheet>`) when the workbook has none.
 */
function appendTo(
  xml: string,
  name: string,
  item: string,
  items: readonly string[],
  before: readonly string[],
): string {
  if (items.length === 0) return xml;
  const existing = findElement(xml, name);
  const prefix = /<([\w.-]+:)?styleSheet[\s>]/.exec(xml)?.[1] ?? '';
  if (existing !== undefined) {
    const total = findElements(existing.xml, item).length + items.length;
    let el = existing.xml;
    const start = el.slice(0, el.indexOf('>') + 1);
    if (start.endsWith('/>')) {
      el = `${withAttribute(start.slice(0, -2) + '>', 'count', String(total))}${items.join('')}</${prefix}${name}>`;
    } else {
      const close = el.lastIndexOf('</');
      el = `${withAttribute(start, 'count', String(total))}${el.slice(start.length, close)}${items.join('')}${el.slice(close)}`;
    }
    return xml.slice(0, existing.start) + el + xml.slice(existing.end);
  }
  const element = `<${prefix}${name} count="${items.length}">${items.join('')}</${prefix}${name}>`;
  for (const b of before) {
    const at = findElement(xml, b);
    if (at !== undefined) return xml.slice(0, at.start) + element + xml.slice(at.start);
  }
  const end = xml.lastIndexOf(`</${prefix}styleSheet>`);
  return xml.slice(0, end) + element + xml.slice(end);
}
