/**
 * Reads a worksheet part as a stream of pieces: what comes before the rows (up to `<sheetData>`), each `<row>` whole
 * with its number, and what comes after (`</sheetData>` and everything that follows: merges, conditional formats,
 * data validations, table parts...). Memory holds one row at a time, whatever the size of the sheet.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { columnIndex } from './cell-refs.js';

export type SheetPiece =
  | { readonly kind: 'prefix'; readonly xml: string }
  | { readonly kind: 'row'; readonly xml: string; readonly row: number }
  | { readonly kind: 'suffix'; readonly xml: string };

/** One cell of a row: its XML as written, its 0-based column and 1-based row. */
export interface CellXml {
  readonly xml: string;
  readonly col: number;
}

/**
 * Scans a worksheet part (inflated text) into prefix, rows and suffix. `prefix` is the root's namespace prefix.
 * A hand-made iterator over the pieces of each inflated chunk (about a hundred rows), not an async generator
 * delegating to a generator per chunk (each row then cost a promise and two resumptions). Finishing it early
 * (`return()`, a `break` out of `for await`) ends the stream's iteration, which destroys it.
 */
export function scanSheet(stream: Readable, prefix: string): AsyncIterable<SheetPiece> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<SheetPiece> {
      const chunks = (stream as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      const decoder = new StringDecoder('utf8');
      const scanner = createPieceScanner(prefix);
      let pieces: SheetPiece[] = [];
      let index = 0;
      let ended = false;
      const fill = async (): Promise<IteratorResult<SheetPiece>> => {
        while (index >= pieces.length) {
          if (ended) return { value: undefined, done: true };
          pieces = [];
          index = 0;
          const chunk = await chunks.next();
          if (chunk.done === true) {
            ended = true;
            scanner.push(decoder.end(), true, pieces);
            pieces.push(scanner.finish());
          } else {
            const value = chunk.value as string | Buffer;
            scanner.push(typeof value === 'string' ? value : decoder.write(value), false, pieces);
          }
        }
        return { value: pieces[index++] as SheetPiece, done: false };
      };
      return {
        next() {
          if (index < pieces.length) return Promise.resolve({ value: pieces[index++] as SheetPiece, done: false });
          return fill();
        },
        async return() {
          ended = true;
          pieces = [];
          await chunks.return?.();
          return { value: undefined, done: true };
        },
      };
    },
  };
}

/** The scanner's state between chunks: the text not consumed yet, and where the scan is. */
function createPieceScanner(prefix: string): {
  /** Scans `text` after what is left of the previous chunks, adding the pieces it completes to `out`. */
  push(text: string, final: boolean, out: SheetPiece[]): void;
  finish(): SheetPiece;
} {
  const rowOpen = `<${prefix}row`;
  const rowClose = `</${prefix}row>`;
  const dataOpen = `<${prefix}sheetData`;
  const dataClose = `</${prefix}sheetData>`;
  let buffer = '';
  let phase: 'prefix' | 'rows' | 'suffix' = 'prefix';
  let lastRow = 0;
  let suffix = '';

  function rows(final: boolean, out: SheetPiece[]): void {
    let pos = 0;
    for (;;) {
      while (pos < buffer.length && buffer.charCodeAt(pos) <= 32) pos++;
      if (buffer.length - pos < dataClose.length + 1 && !final) break;
      if (buffer.startsWith(dataClose, pos)) {
        phase = 'suffix';
        break;
      }
      if (!(buffer.startsWith(rowOpen, pos) && /[\s/>]/.test(buffer[pos + rowOpen.length] ?? ''))) {
        // Not a row (the schema allows none here): skip to the next element.
        const next = buffer.indexOf('<', pos + 1);
        if (next < 0) {
          if (final) pos = buffer.length;
          break;
        }
        pos = next;
        continue;
      }
      const tagEnd = buffer.indexOf('>', pos);
      if (tagEnd < 0) break;
      let end = tagEnd + 1;
      if (buffer[tagEnd - 1] !== '/') {
        const close = buffer.indexOf(rowClose, tagEnd);
        if (close < 0) break;
        end = close + rowClose.length;
      }
      lastRow = rowNumberOf(buffer, pos, pos + rowOpen.length, tagEnd, lastRow);
      out.push({ kind: 'row', xml: buffer.slice(pos, end), row: lastRow });
      pos = end;
    }
    buffer = buffer.slice(pos);
  }

  return {
    push(text, final, out) {
      buffer += text;
      if (phase === 'prefix') {
        const at = buffer.indexOf(dataOpen);
        const end = at < 0 ? -1 : buffer.indexOf('>', at);
        if (end < 0) return;
        out.push({ kind: 'prefix', xml: buffer.slice(0, end + 1) });
        phase = buffer[end - 1] === '/' ? 'suffix' : 'rows';
        buffer = buffer.slice(end + 1);
      }
      if (phase === 'rows') rows(final, out);
      if (phase === 'suffix') {
        suffix += buffer;
        buffer = '';
      }
    },
    finish() {
      if (phase !== 'suffix') throw new Error('the worksheet ends before </sheetData>');
      return { kind: 'suffix', xml: suffix };
    },
  };
}

/** The `<row ...>` start tag of a row and its cells in order (cells without `r` follow the previous one). */
export function parseRowCells(rowXml: string, prefix: string): { startTag: string; cells: CellXml[] } {
  const tagEnd = rowXml.indexOf('>');
  const startTag = rowXml.slice(0, tagEnd + 1);
  const cells: CellXml[] = [];
  if (startTag.endsWith('/>')) return { startTag, cells };
  const open = `<${prefix}c`;
  const close = `</${prefix}c>`;
  let i = tagEnd + 1;
  let col = -1;
  for (;;) {
    const at = rowXml.indexOf(open, i);
    if (at < 0) break;
    const after = rowXml.charCodeAt(at + open.length);
    // `<c ` / `<c>` / `<c/>` only (not another element that starts with c).
    if (after !== 32 && after !== 62 && after !== 47 && after !== 9 && after !== 10 && after !== 13) {
      i = at + open.length;
      continue;
    }
    const end = rowXml.indexOf('>', at);
    let cellEnd: number;
    if (rowXml[end - 1] === '/') cellEnd = end + 1;
    else cellEnd = rowXml.indexOf(close, end) + close.length;
    const xml = rowXml.slice(at, cellEnd);
    const r = /\sr\s*=\s*["']\$?([A-Za-z]{1,3})/.exec(rowXml.slice(at, end + 1));
    col = r === null ? col + 1 : columnIndex(r[1] ?? '');
    cells.push({ xml, col });
    i = cellEnd;
  }
  return { startTag, cells };
}

/** True when a cell holds content (a value, a formula or inline text), not just a style. */
export function cellHasContent(cellXml: string): boolean {
  return !cellXml.endsWith('/>') && /<(?:[\w.-]+:)?(?:v|f|is)[\s/>]/.test(cellXml);
}

/**
 * The cells of a row outside columns `left`..`right` (0-based), reading only the first and last cell references
 * when every cell is inside: the common case for the rows of a table, on the hot path of a refresh.
 */
export function cellsOutside(rowXml: string, prefix: string, left: number, right: number): CellXml[] {
  const first = FIRST_CELL_REF.exec(rowXml);
  const lastAt = rowXml.lastIndexOf(`<${prefix}c `);
  const last = lastAt < 0 ? null : FIRST_CELL_REF.exec(rowXml.slice(lastAt));
  if (first === null && lastAt < 0) return [];
  if (first !== null && last !== null) {
    const a = columnIndex(first[1] ?? '');
    const b = columnIndex(last[1] ?? '');
    if (a >= left && b <= right && a >= 0 && b >= 0) return [];
  }
  return parseRowCells(rowXml, prefix).cells.filter((c) => c.col < left || c.col > right);
}

const FIRST_CELL_REF = /<(?:[\w.-]+:)?c\s[^>]*?\br\s*=\s*["']\$?([A-Za-z]{1,3})\d/;

/**
 * The `r` of the row whose start tag spans `start`..`tagEnd` (`nameEnd` is where its element name ends): read
 * straight from ` r="123"` when it comes first, as every writer puts it (a regular expression per row measured
 * ≈ 0.3 s per million rows), else by the pattern; the previous row's plus one when it has none.
 */
function rowNumberOf(text: string, start: number, nameEnd: number, tagEnd: number, previous: number): number {
  if (text.charCodeAt(nameEnd) === 32 && text.charCodeAt(nameEnd + 1) === 114 && text.charCodeAt(nameEnd + 2) === 61) {
    const quote = text.charCodeAt(nameEnd + 3);
    if (quote === 34 || quote === 39) {
      let n = 0;
      let i = nameEnd + 4;
      for (; i < tagEnd; i++) {
        const c = text.charCodeAt(i);
        if (c < 48 || c > 57) break;
        n = n * 10 + (c - 48);
      }
      if (i > nameEnd + 4 && text.charCodeAt(i) === quote) return n;
    }
  }
  const r = /\sr\s*=\s*["'](\d+)["']/.exec(text.slice(start, tagEnd + 1));
  return r === null ? previous + 1 : Number(r[1]);
}
