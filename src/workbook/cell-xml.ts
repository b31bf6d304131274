/**
 * SpreadsheetML fragments for cells, written as strings. Rows are serialised here rather than through exceljs's
 * Row/Cell model: that model costs about half of the writing time at 1M rows, and it writes text as `t="str"`
 * (a formula-result type) where `t="inlineStr"` is the type meant for literal text.
 */
import { truncateUtf16 } from './sheet-names.js';

/** Excel's maximum number of characters in one cell. */
export const MAX_CELL_TEXT_LENGTH = 32_767;

const EXCEL_EPOCH_OFFSET_DAYS = 25_569; // 1970-01-01 as an Excel 1900-system serial
const MS_PER_DAY = 86_400_000;
const FIRST_REAL_SERIAL_AFTER_LEAP_BUG = 61; // 1900-03-01: Excel counts a 1900-02-29 that never existed

// Text that needs work before it can go into XML: markup characters, characters XML 1.0 forbids (written as
// Excel's `_xHHHH_` escapes), carriage returns (XML parsers would turn them into \n), and literal `_xHHHH_`
// sequences (Excel would decode them, so their underscore is escaped).
// eslint-disable-next-line no-control-regex -- control characters are exactly what this pattern is about
const NEEDS_ESCAPE = /[<>&\u0000-\u0008\u000b-\u001f\ufffe\uffff]|_x[0-9a-fA-F]{4}_/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what this pattern is about
const ESCAPE_ALL = /[<>&\u0000-\u0008\u000b-\u001f\ufffe\uffff]|_(?=x[0-9a-fA-F]{4}_)/g;

/** Escapes text for an element body or a double-quoted attribute. */
export function escapeXmlText(text: string): string {
  if (isPlainText(text)) return text;
  if (!NEEDS_ESCAPE.test(text) && !text.includes('"')) return text;
  return text.replace(ESCAPE_ALL, escapeChar).replace(/"/g, '&quot;');
}

/**
 * True when `text` has none of the characters that may need escaping (markup, quotes, control characters, `_`,
 * U+FFFE/U+FFFF): most cells, told apart by one scan of char codes, cheaper than the patterns below.
 */
function isPlainText(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 32 || c === 34 || c === 38 || c === 60 || c === 62 || c === 95 || c >= 0xfffe) return false;
  }
  return true;
}

function escapeChar(ch: string): string {
  switch (ch) {
    case '<':
      return '&lt;';
    case '>':
      return '&gt;';
    case '&':
      return '&amp;';
    case '_':
      return '_x005F_';
    default:
      return `_x${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}_`;
  }
}

/** `A`, `B`, ..., `Z`, `AA`, ... for a 0-based column index. */
export function columnLetter(index: number): string {
  let n = index + 1;
  let letters = '';
  while (n > 0) {
    const rem = (n - 1) % 26;
    letters = String.fromCharCode(65 + rem) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}

/**
 * Excel 1900-system serial for a Date whose UTC fields hold the wall-clock time, or undefined when Excel cannot
 * show it (invalid, or before 1900-01-01).
 */
export function dateToExcelSerial(date: Date): number | undefined {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) return undefined;
  const serial = EXCEL_EPOCH_OFFSET_DAYS + ms / MS_PER_DAY;
  if (serial >= FIRST_REAL_SERIAL_AFTER_LEAP_BUG) return serial;
  const shifted = serial - 1;
  return shifted >= 1 ? shifted : undefined;
}

/** What happened to one row's cells, so the caller can count and warn (never silently). */
export interface CellIssueCounts {
  truncated: number;
  nonFinite: number;
  unrepresentableDates: number;
}

/** Counts with nothing counted yet. */
export function emptyIssueCounts(): CellIssueCounts {
  return { truncated: 0, nonFinite: 0, unrepresentableDates: 0 };
}

/**
 * Serialises one `<row>`. `styleIds[i]` is the `s` attribute of column i (0 = default); a Date uses
 * `dateStyleIds[i]` instead when given, so a date in a column not typed as a date still shows as a date. Strings
 * become inline strings, so text that starts with `=`, `+`, `-` or `@` stays text; strings over 32,767 characters
 * are cut; NaN/±Infinity and dates Excel cannot show are left blank. Each such change is counted in `issues`.
 */
export function renderRowXml(
  rowNumber: number,
  values: readonly unknown[],
  columnRefs: readonly string[],
  styleIds: readonly number[],
  issues: CellIssueCounts,
  dateStyleIds: readonly number[] = styleIds,
): string {
  let xml = `<row r="${rowNumber}">`;
  const count = columnRefs.length;
  for (let i = 0; i < count; i += 1) {
    const value = values[i];
    if (value === null || value === undefined) continue;
    xml += renderCellXml(`${columnRefs[i]}${rowNumber}`, value, styleIds[i] ?? 0, dateStyleIds[i] ?? 0, issues);
  }
  return `${xml}</row>`;
}

/** Renders one `<row>` of a data sheet: the rules of {@link renderRowXml}, for one fixed set of columns. */
export type RowRenderer = (rowNumber: number, values: readonly unknown[], issues: CellIssueCounts) => string;

/**
 * Compiles {@link renderRowXml} for fixed columns (the hot path of a data sheet: once per row, up to millions): each
 * column's markup around its value is built once, so a cell costs its value's text and a few concatenations. The
 * output is identical to renderRowXml's for the same arguments.
 */
export function createRowRenderer(
  columnRefs: readonly string[],
  styleIds: readonly number[],
  dateStyleIds: readonly number[] = styleIds,
): RowRenderer {
  const count = columnRefs.length;
  const cells = columnRefs.map((ref, i) => cellTemplates(ref, styleIds[i] ?? 0, dateStyleIds[i] ?? 0));
  return (rowNumber, values, issues) => {
    const r = String(rowNumber);
    let xml = `<row r="${r}">`;
    for (let i = 0; i < count; i += 1) {
      const v = values[i];
      if (v !== null && v !== undefined) xml += templatedCell(cells[i] as CellTemplates, r, v, issues);
    }
    return `${xml}</row>`;
  };
}

/** Renders one typed value as the `<c>` of a fixed column at row `r` (text): '' when it is left blank. */
export type CellRenderer = (r: string, value: unknown, issues: CellIssueCounts) => string;

/**
 * Compiles {@link renderCellXml} for one column (letters `column`, style `style`, dates in `dateStyle`), as
 * {@link createRowRenderer} does for each column of a row. Output identical to renderCellXml's.
 */
export function createCellRenderer(column: string, style: number, dateStyle: number = style): CellRenderer {
  const cell = cellTemplates(column, style, dateStyle);
  return (r, v, issues) => templatedCell(cell, r, v, issues);
}

/** One column's markup around its values, built once: `<c r="` + column, then the row number, then one of these. */
interface CellTemplates {
  readonly column: string;
  readonly style: number;
  readonly dateStyle: number;
  readonly open: string;
  readonly value: string;
  readonly date: string;
  readonly bool: string;
  readonly text: string;
  readonly empty: string;
}

function cellTemplates(column: string, style: number, dateStyle: number): CellTemplates {
  const styleAttr = (s: number): string => (s === 0 ? '' : ` s="${s}"`);
  return {
    column,
    style,
    dateStyle,
    open: `<c r="${column}`,
    value: `"${styleAttr(style)}><v>`,
    date: `"${styleAttr(dateStyle)}><v>`,
    bool: `"${styleAttr(style)} t="b"><v>`,
    text: `"${styleAttr(style)} t="inlineStr"><is><t`,
    empty: `"${styleAttr(style)}/>`,
  };
}

/** The rules of {@link renderCellXml} for a column's templates, at row `r` (its text). */
function templatedCell(cell: CellTemplates, r: string, v: unknown, issues: CellIssueCounts): string {
  switch (typeof v) {
    case 'string':
      return textCell(cell.open, r, cell.text, cell.empty, v, issues);
    case 'number':
      if (Number.isFinite(v)) return `${cell.open}${r}${cell.value}${v}</v></c>`;
      issues.nonFinite += 1;
      return '';
    case 'boolean':
      return `${cell.open}${r}${cell.bool}${v ? 1 : 0}</v></c>`;
    default:
      if (v === null || v === undefined) return '';
      if (v instanceof Date) {
        const serial = dateToExcelSerial(v);
        if (serial !== undefined) return `${cell.open}${r}${cell.date}${serial}</v></c>`;
        issues.unrepresentableDates += 1;
        return '';
      }
      return renderCellXml(`${cell.column}${r}`, v, cell.style, cell.dateStyle, issues);
  }
}

function textCell(
  open: string,
  r: string,
  text: string,
  empty: string,
  value: string,
  issues: CellIssueCounts,
): string {
  let t = value;
  if (t.length > MAX_CELL_TEXT_LENGTH) {
    t = truncateUtf16(t, MAX_CELL_TEXT_LENGTH);
    issues.truncated += 1;
  }
  if (t === '') return `${open}${r}${empty}`;
  const space = t.charCodeAt(0) <= 32 || t.charCodeAt(t.length - 1) <= 32 ? ' xml:space="preserve">' : '>';
  return `${open}${r}${text}${space}${escapeXmlText(t)}</t></is></c>`;
}

/**
 * One typed value as a `<c>` element at `ref` (e.g. `C7`) with style `style` (a Date uses `dateStyle`), or '' when
 * the value is left blank (null, NaN, a date Excel cannot show). The rules of {@link renderRowXml}.
 */
export function renderCellXml(
  ref: string,
  value: unknown,
  style: number,
  dateStyle: number,
  issues: CellIssueCounts,
): string {
  if (value === null || value === undefined) return '';
  const s = style === 0 ? '' : ` s="${style}"`;
  switch (typeof value) {
    case 'string':
      return renderText(ref, s, value, issues);
    case 'number':
      if (Number.isFinite(value)) return `<c r="${ref}"${s}><v>${value}</v></c>`;
      issues.nonFinite += 1;
      return '';
    case 'boolean':
      return `<c r="${ref}"${s} t="b"><v>${value ? 1 : 0}</v></c>`;
    default:
      if (value instanceof Date) {
        const serial = dateToExcelSerial(value);
        if (serial !== undefined)
          return `<c r="${ref}"${dateStyle === 0 ? '' : ` s="${dateStyle}"`}><v>${serial}</v></c>`;
        issues.unrepresentableDates += 1;
        return '';
      }
      // Typed rows hold text, numbers, booleans and dates only; anything else is written as its JSON text.
      return renderText(ref, s, typeof value === 'bigint' ? value.toString() : (JSON.stringify(value) ?? ''), issues);
  }
}

function renderText(ref: string, s: string, value: string, issues: CellIssueCounts): string {
  let text = value;
  if (text.length > MAX_CELL_TEXT_LENGTH) {
    text = truncateUtf16(text, MAX_CELL_TEXT_LENGTH);
    issues.truncated += 1;
  }
  if (text === '') return `<c r="${ref}"${s}/>`;
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  const space = first <= 32 || last <= 32 ? ' xml:space="preserve"' : '';
  return `<c r="${ref}"${s} t="inlineStr"><is><t${space}>${escapeXmlText(text)}</t></is></c>`;
}
