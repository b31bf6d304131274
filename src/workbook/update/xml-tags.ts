/**
 * Small, exact edits of XML parts written by other programs (Excel, LibreOffice, openpyxl): reading a start tag's
 * attributes and changing one of them, finding elements, with or without a namespace prefix (`<x:row>`). Update
 * mode edits such parts in place rather than re-serialising them, so everything it does not mean to change stays
 * as the teammate's program wrote it.
 */

const ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes XML entities and character references. */
export function unescapeXml(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (all, body: string) => {
    if (body.startsWith('#x')) return String.fromCodePoint(parseInt(body.slice(2), 16));
    if (body.startsWith('#')) return String.fromCodePoint(parseInt(body.slice(1), 10));
    return ENTITIES[body] ?? all;
  });
}

/** Escapes text for a double-quoted attribute value or element text. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : '&quot;'));
}

/** The attributes of a start tag (`<c r="A1" s="3">`), names as written (with their prefix), values decoded. */
export function attributesOf(tag: string): Map<string, string> {
  const attrs = new Map<string, string>();
  const re = /([\w:.-]+)\s*=\s*("([^"]*)"|'([^']*)')/g;
  const end = tag.indexOf('>');
  const head = end < 0 ? tag : tag.slice(0, end);
  // Skip the element name.
  const start = head.search(/\s/);
  if (start < 0) return attrs;
  re.lastIndex = start;
  for (let m = re.exec(head); m !== null; m = re.exec(head)) {
    attrs.set(m[1] ?? '', unescapeXml(m[3] ?? m[4] ?? ''));
  }
  return attrs;
}

/** `tag` with attribute `name` set to `value` (replaced in place when present, else appended before `>`/`/>`). */
export function withAttribute(tag: string, name: string, value: string): string {
  const escaped = escapeXml(value);
  const re = new RegExp(`(\\s${escapeRegExp(name)}\\s*=\\s*)("[^"]*"|'[^']*')`);
  if (re.test(tag)) return tag.replace(re, `$1"${escaped}"`);
  const close = tag.endsWith('/>') ? tag.length - 2 : tag.length - 1;
  return `${tag.slice(0, close).replace(/\s+$/, '')} ${name}="${escaped}"${tag.slice(close)}`;
}

/** `tag` without attribute `name`. */
export function withoutAttribute(tag: string, name: string): string {
  return tag.replace(new RegExp(`\\s${escapeRegExp(name)}\\s*=\\s*("[^"]*"|'[^']*')`), '');
}

/** The namespace prefix of the part's root element (`x:` in `<x:worksheet>`), or '' for the default namespace. */
export function rootPrefix(xml: string): string {
  const m = /<(?!\?|!)([\w.-]+:)?[\w.-]+[\s>/]/.exec(xml);
  return m?.[1] ?? '';
}

/** Every start (or empty) tag of element `local` (any prefix), with its offsets. */
export function findTags(xml: string, local: string): { tag: string; start: number; end: number }[] {
  const re = new RegExp(`<(?:[\\w.-]+:)?${escapeRegExp(local)}(?=[\\s/>])[^>]*>`, 'g');
  const out: { tag: string; start: number; end: number }[] = [];
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) out.push({ tag: m[0], start: m.index, end: re.lastIndex });
  return out;
}

/** The first element `local` whole (start tag to its end tag, or the empty tag), with its offsets. */
export function findElement(
  xml: string,
  local: string,
  from = 0,
): { xml: string; start: number; end: number } | undefined {
  const re = new RegExp(`<((?:[\\w.-]+:)?${escapeRegExp(local)})(?=[\\s/>])[^>]*?(/?)>`, 'g');
  re.lastIndex = from;
  const m = re.exec(xml);
  if (m === null) return undefined;
  if (m[2] === '/') return { xml: m[0], start: m.index, end: re.lastIndex };
  const close = `</${m[1] ?? local}>`;
  const end = xml.indexOf(close, re.lastIndex);
  if (end < 0) return undefined;
  return { xml: xml.slice(m.index, end + close.length), start: m.index, end: end + close.length };
}

/** Every element `local` whole (see {@link findElement}). */
export function findElements(xml: string, local: string): { xml: string; start: number; end: number }[] {
  const out: { xml: string; start: number; end: number }[] = [];
  for (let at = findElement(xml, local); at !== undefined; at = findElement(xml, local, at.end)) out.push(at);
  return out;
}

/** The text content of an element (`<t>abc</t>` → `abc`), decoded; '' for an empty element. */
export function elementText(elementXml: string): string {
  const open = elementXml.indexOf('>');
  if (elementXml[open - 1] === '/') return '';
  const close = elementXml.lastIndexOf('</');
  return unescapeXml(elementXml.slice(open + 1, close < open ? elementXml.length : close));
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// The children of a cell, found for every cell of a large sheet: patterns compiled once (not global, so they hold
// no lastIndex between calls).
const CELL_CHILD: Readonly<Record<'f' | 'v' | 'is', RegExp>> = {
  f: /<((?:[\w.-]+:)?f)(?=[\s/>])[^>]*?(\/?)>/,
  v: /<((?:[\w.-]+:)?v)(?=[\s/>])[^>]*?(\/?)>/,
  is: /<((?:[\w.-]+:)?is)(?=[\s/>])[^>]*?(\/?)>/,
};

/** A cell's `<f>`, `<v>` or `<is>` element whole, with its offsets in `cellXml` (see {@link findElement}). */
export function cellChild(
  cellXml: string,
  name: 'f' | 'v' | 'is',
): { xml: string; start: number; end: number } | undefined {
  const m = CELL_CHILD[name].exec(cellXml);
  if (m === null) return undefined;
  const openEnd = m.index + m[0].length;
  if (m[2] === '/') return { xml: m[0], start: m.index, end: openEnd };
  const close = `</${m[1] ?? name}>`;
  const end = cellXml.indexOf(close, openEnd);
  if (end < 0) return undefined;
  return { xml: cellXml.slice(m.index, end + close.length), start: m.index, end: end + close.length };
}
