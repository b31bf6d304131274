/**
 * A1 references for update mode: cell and range parsing, and the two things a formula needs when its cell moves
 * (a teammate's note follows its row to another row): shifting its relative references like Excel's cut-and-paste,
 * and a row-independent form (R1C1-like) to tell whether a column holds "the same formula on every row".
 */

/** A cell position, 0-based column and 1-based row (as in `A1`). */
export interface CellPosition {
  readonly col: number;
  readonly row: number;
}

/** An inclusive range of cells. */
export interface CellRange {
  readonly top: number;
  readonly left: number;
  readonly bottom: number;
  readonly right: number;
}

const MAX_COLUMNS = 16_384;
const MAX_ROWS = 1_048_576;

/** `A` → 0, `Z` → 25, `AA` → 26; -1 when `letters` is not a column. */
export function columnIndex(letters: string): number {
  let n = 0;
  for (let i = 0; i < letters.length; i++) {
    const c = letters.charCodeAt(i) | 0x20; // lower case
    if (c < 97 || c > 122) return -1;
    n = n * 26 + (c - 96);
  }
  return n === 0 || n > MAX_COLUMNS ? -1 : n - 1;
}

/** 0 → `A`, 25 → `Z`, 26 → `AA`. */
export function columnName(index: number): string {
  let n = index + 1;
  let out = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    out = String.fromCharCode(65 + r) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

/** `C7` → { col: 2, row: 7 } (dollar signs allowed); undefined when it is not a cell reference. */
export function parseCell(ref: string): CellPosition | undefined {
  const m = /^\$?([A-Za-z]{1,3})\$?(\d{1,7})$/.exec(ref);
  if (m === null) return undefined;
  const col = columnIndex(m[1] ?? '');
  const row = Number(m[2]);
  return col < 0 || row < 1 || row > MAX_ROWS ? undefined : { col, row };
}

/** `A1:P301` (or a single cell) → the range; undefined when it is neither. */
export function parseRange(ref: string): CellRange | undefined {
  const [from, to = from] = ref.split(':');
  const a = parseCell(from ?? '');
  const b = parseCell(to ?? '');
  if (a === undefined || b === undefined) return undefined;
  return {
    top: Math.min(a.row, b.row),
    left: Math.min(a.col, b.col),
    bottom: Math.max(a.row, b.row),
    right: Math.max(a.col, b.col),
  };
}

export function formatCell(pos: CellPosition): string {
  return `${columnName(pos.col)}${pos.row}`;
}

export function formatRange(r: CellRange): string {
  return `${formatCell({ col: r.left, row: r.top })}:${formatCell({ col: r.right, row: r.bottom })}`;
}

/** `$A$1:$P$301`, as defined names and chart series write ranges. */
export function formatAbsoluteRange(r: CellRange): string {
  return `$${columnName(r.left)}$${r.top}:$${columnName(r.right)}$${r.bottom}`;
}

export function rangesIntersect(a: CellRange, b: CellRange): boolean {
  return a.left <= b.right && b.left <= a.right && a.top <= b.bottom && b.top <= a.bottom;
}

export function contains(r: CellRange, pos: CellPosition): boolean {
  return pos.col >= r.left && pos.col <= r.right && pos.row >= r.top && pos.row <= r.bottom;
}

/**
 * One A1 reference in a formula: a cell (`B2`, `$B$2`), or a whole column or row range (`B:B`, `2:3`). Matched at
 * token boundaries only: not inside names (`LOG10(`, `Tax_B2`), strings, or bracketed structured references.
 */
const REF =
  /(\$?)([A-Za-z]{1,3})(\$?)(\d{1,7})(?![\w(.])|(\$?)([A-Za-z]{1,3}):(\$?)([A-Za-z]{1,3})(?![\w(.])|(\$?)(\d{1,7}):(\$?)(\d{1,7})(?![\w(.])/y;

/**
 * Rewrites every A1 reference of `formula` (outside strings and `[...]`) with `map`; sheet-qualified references
 * (`Other!A1`) are rewritten too only when `includeQualified` is true.
 */
function mapReferences(
  formula: string,
  map: (ref: { col?: { abs: boolean; index: number }; row?: { abs: boolean; index: number } }) => string | undefined,
): string {
  let out = '';
  let i = 0;
  while (i < formula.length) {
    const ch = formula[i] ?? '';
    if (ch === '"') {
      // A string literal; "" is an escaped quote.
      let j = i + 1;
      while (j < formula.length) {
        if (formula[j] === '"') {
          if (formula[j + 1] === '"') j += 2;
          else break;
        } else j++;
      }
      out += formula.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === '[') {
      // Structured references and external workbook indexes: no A1 inside; brackets nest.
      let depth = 0;
      let j = i;
      for (; j < formula.length; j++) {
        if (formula[j] === '[') depth++;
        else if (formula[j] === ']' && --depth === 0) break;
      }
      out += formula.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === "'") {
      // A quoted sheet name: copied whole; the reference after its `!` is handled next round.
      let j = i + 1;
      while (j < formula.length) {
        if (formula[j] === "'") {
          if (formula[j + 1] === "'") j += 2;
          else break;
        } else j++;
      }
      out += formula.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const prev = i === 0 ? '' : (formula[i - 1] ?? '');
    if (/[A-Za-z0-9$]/.test(ch) && !/[\w.$]/.test(prev)) {
      REF.lastIndex = i;
      const m = REF.exec(formula);
      if (m !== null) {
        let replaced: string | undefined;
        if (m[2] !== undefined && m[4] !== undefined) {
          replaced = map({
            col: { abs: m[1] === '$', index: columnIndex(m[2]) },
            row: { abs: m[3] === '$', index: Number(m[4]) },
          });
        } else if (m[6] !== undefined && m[8] !== undefined) {
          const a = map({ col: { abs: m[5] === '$', index: columnIndex(m[6]) } });
          const b = map({ col: { abs: m[7] === '$', index: columnIndex(m[8]) } });
          replaced = a === undefined || b === undefined ? undefined : `${a}:${b}`;
        } else if (m[10] !== undefined && m[12] !== undefined) {
          const a = map({ row: { abs: m[9] === '$', index: Number(m[10]) } });
          const b = map({ row: { abs: m[11] === '$', index: Number(m[12]) } });
          replaced = a === undefined || b === undefined ? undefined : `${a}:${b}`;
        }
        if (replaced !== undefined && !/[A-Za-z_]/.test(formula[REF.lastIndex] ?? '')) {
          out += replaced;
          i = REF.lastIndex;
          continue;
        }
      }
      // An identifier (function or defined name): copy it whole so its tail is not read as a reference.
      let j = i;
      while (j < formula.length && /[\w.$]/.test(formula[j] ?? '')) j++;
      out += formula.slice(i, Math.max(j, i + 1));
      i = Math.max(j, i + 1);
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

/**
 * `formula` as it reads once its cell moved by `rowDelta` rows and `colDelta` columns: relative references move,
 * `$`-anchored parts stay (Excel's cut-and-paste). A reference pushed off the sheet becomes `#REF!`.
 */
export function shiftFormula(formula: string, rowDelta: number, colDelta = 0): string {
  if (rowDelta === 0 && colDelta === 0) return formula;
  return mapReferences(formula, ({ col, row }) => {
    let text = '';
    if (col !== undefined) {
      const index = col.abs ? col.index : col.index + colDelta;
      if (index < 0 || index >= MAX_COLUMNS) return '#REF!';
      text += `${col.abs ? '$' : ''}${columnName(index)}`;
    }
    if (row !== undefined) {
      const index = row.abs ? row.index : row.index + rowDelta;
      if (index < 1 || index > MAX_ROWS) return '#REF!';
      text += `${row.abs ? '$' : ''}${index}`;
    }
    return text;
  });
}

/**
 * A row-independent form of a formula in row `row`: relative rows become offsets (`R[-1]`), so `=F2*G2` in row 2
 * and `=F3*G3` in row 3 read the same. Columns stay as written (cells of one column share them).
 */
export function rowRelativeForm(formula: string, row: number): string {
  return mapReferences(formula, ({ col, row: r }) => {
    let text = col === undefined ? '' : `${col.abs ? '$' : ''}${columnName(col.index)}`;
    if (r !== undefined) text += r.abs ? `$${r.index}` : `R[${r.index - row}]`;
    return text;
  });
}
