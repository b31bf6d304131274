/**
 * Rewrites the sheet that holds a refreshed table, streaming: rows above and below the table and every cell beside
 * it are copied as they were; inside the table, the header keeps its cells (new columns are added at the right), the
 * data rows are the view's rows in the team's column order, with each teammate value on its key's row and each
 * calculated column's formula on every row, and the totals row moves to the new end. Conditional formats and data
 * validations that covered a whole column of the table follow it to its new length.
 */
import type { TypedRow } from '../../shared/table.js';
import {
  createCellRenderer,
  emptyIssueCounts,
  escapeXmlText,
  type CellIssueCounts,
  type CellRenderer,
} from '../cell-xml.js';
import { columnName, formatRange, parseRange, rangesIntersect, shiftFormula, type CellRange } from './cell-refs.js';
import { cellHasContent, cellsOutside, parseRowCells, type CellXml, type SheetPiece } from './sheet-scan.js';
import { keyText, overlapError, type KeptCell, type TablePlan } from './team-table.js';
import { attributesOf, elementText, findTags, withAttribute, cellChild } from './xml-tags.js';
import type { DeflatedSpool } from './zip-writer.js';

export interface TeamSheetStyles {
  /** `s` of each planned column's data cells (0 = default). */
  readonly styles: readonly number[];
  /** `s` of a Date in each column (a date in a column not formatted as a date). */
  readonly dateStyles: readonly number[];
  /** `s` of the new columns' header cells. */
  readonly newHeaderStyle: number;
}

export interface TeamSheetResult {
  readonly rows: number;
  readonly issues: CellIssueCounts;
  /** Rows of the old table whose key the view no longer has: their teammate cells, which are gone now. */
  readonly dropped: readonly { readonly key: string | undefined; readonly cells: readonly KeptCell[] }[];
  /** View rows that repeated a key already placed (their teammate values went to the first one). */
  readonly repeatedKeys: number;
}

/** The old table's teammate cells by resolved key. */
export type KeptByKey = ReadonlyMap<string, ReadonlyMap<number, KeptCell>>;

/**
 * Streams the new sheet into `out`. `pieces` is a fresh read of the old sheet; `rows` yields exactly the plan's
 * row count. Never changes anything outside the table's columns and rows.
 */
export async function writeTeamSheet(input: {
  readonly plan: TablePlan;
  readonly pieces: AsyncIterable<SheetPiece>;
  readonly prefix: string;
  readonly rows: AsyncIterator<TypedRow>;
  readonly kept: KeptByKey;
  readonly styles: TeamSheetStyles;
  readonly out: DeflatedSpool;
  readonly onRow?: ((written: number) => void) | undefined;
}): Promise<TeamSheetResult> {
  const { plan, out } = input;
  const old = plan.table.ref;
  const spanEnd = Math.max(old.bottom, plan.range.bottom);
  const state = createRowBuilder(input);
  let next = plan.range.top;
  const emitUntil = async (last: number): Promise<void> => {
    for (; next <= Math.min(last, spanEnd); next++) {
      const xml = await state.build(next, undefined);
      if (xml !== '') await out.write(xml);
    }
  };
  for await (const piece of input.pieces) {
    if (piece.kind === 'prefix') await out.write(withDimension(piece.xml, plan.range));
    else if (piece.kind === 'suffix') {
      await emitUntil(spanEnd);
      refuseBlockingMerges(piece.xml, plan);
      await out.write(followTableRanges(piece.xml, plan));
    } else if (piece.row < plan.range.top) await out.write(piece.xml);
    else if (piece.row <= spanEnd) {
      await emitUntil(piece.row - 1);
      const xml = await state.build(piece.row, piece.xml);
      if (xml !== '') await out.write(xml);
      next = piece.row + 1;
    } else {
      await emitUntil(spanEnd);
      await out.write(piece.xml);
    }
  }
  return state.result();
}

/** Builds the rows of the table's span, one at a time, in order. */
function createRowBuilder(input: Parameters<typeof writeTeamSheet>[0]) {
  const { plan, prefix, kept, styles } = input;
  const old = plan.table.ref;
  const range = plan.range;
  const left = range.left;
  const lastData = range.bottom - plan.table.totalsRowCount;
  const issues = emptyIssueCounts();
  const placed = new Set<string>();
  let written = 0;
  let repeatedKeys = 0;
  const columns = plan.columns;
  const letters = columns.map((_, j) => columnName(left + j));
  const cellRenderers = columns.map((_, j) =>
    createCellRenderer(letters[j] ?? '', styles.styles[j] ?? 0, styles.dateStyles[j] ?? 0),
  );
  const refOf = (j: number, row: number): string => `${letters[j] ?? ''}${row}`;
  /** A cell the table grows into (new columns, or new rows below it) must be empty: it is the team's otherwise. */
  const refuseBlockingCells = (row: number, cells: readonly CellXml[]): void => {
    for (const c of cells) {
      const inOld = row <= old.bottom && c.col >= old.left && c.col <= old.right;
      if (inOld || c.col < left || c.col > range.right || row > range.bottom) continue;
      if (cellHasContent(c.xml)) throw overlapError(plan, `${columnName(c.col)}${row}`);
    }
  };

  const tableCells = async (row: number, original: readonly CellXml[]): Promise<string> => {
    if (row === range.top && plan.table.headerRowCount > 0) return headerCells(row, original);
    if (row >= plan.firstDataRow && row <= lastData) return dataCells(row);
    if (plan.table.totalsRowCount > 0 && row === range.bottom) return totalsCells(row);
    return '';
  };
  const headerCells = (row: number, original: readonly CellXml[]): string => {
    const inside = original.filter((c) => c.col >= old.left && c.col <= old.right).map((c) => c.xml);
    const firstNew = plan.columns.length - plan.newColumnNames.length;
    const s = styles.newHeaderStyle === 0 ? '' : ` s="${styles.newHeaderStyle}"`;
    const added = plan.newColumnNames.map(
      (name, i) => `<c r="${refOf(firstNew + i, row)}"${s} t="inlineStr"><is><t>${escapeXmlText(name)}</t></is></c>`,
    );
    return inside.join('') + added.join('');
  };
  const dataCells = async (row: number): Promise<string> => {
    const next = await input.rows.next();
    if (next.done === true) return '';
    const values = next.value;
    written += 1;
    if (written % 10_000 === 0) input.onRow?.(written);
    let teammate: ReadonlyMap<number, KeptCell> | undefined;
    if (plan.keyViewIndex !== undefined) {
      const key = keyText(values[plan.keyViewIndex]);
      if (key !== undefined) {
        if (placed.has(key)) repeatedKeys += 1;
        else {
          placed.add(key);
          teammate = kept.get(key);
        }
      }
    }
    let xml = '';
    const rowText = String(row);
    // The hot loop of a refresh (every cell of every row): no allocation but the cell's text.
    for (let j = 0; j < columns.length; j++) {
      const column = columns[j];
      if (column === undefined) continue;
      if (column.kind === 'view') {
        xml += (cellRenderers[j] as CellRenderer)(rowText, values[column.viewIndex], issues);
        continue;
      }
      const ref = `${letters[j] ?? ''}${rowText}`;
      if (column.kind === 'calculated') {
        const s = column.style === undefined || column.style === 0 ? '' : ` s="${column.style}"`;
        xml += `<c r="${ref}"${s}><f>${escapeFormula(shiftFormula(column.formula, row - plan.firstDataRow))}</f></c>`;
      } else if (column.kind === 'teammate') {
        const cell = teammate?.get(j);
        if (cell !== undefined) xml += movedCell(cell, ref, row);
      }
    }
    return xml;
  };
  const totalsCells = (row: number): string =>
    [...plan.totalsCells]
      .sort(([a], [b]) => a - b)
      .map(([j, cell]) => movedCell(cell, refOf(j, row), row))
      .join('');

  return {
    /** The row `row` of the span: the original row's cells beside the table, and the table's cells. */
    async build(row: number, originalXml: string | undefined): Promise<string> {
      const isData = row >= plan.firstDataRow && row <= lastData;
      // A data row of the old table needs its cells beside the old table only; other rows need all of them.
      const original =
        originalXml === undefined
          ? []
          : isData && row <= old.bottom
            ? cellsOutside(originalXml, prefix, left, old.right)
            : parseRowCells(originalXml, prefix).cells;
      refuseBlockingCells(row, original);
      const inside = await tableCells(row, original);
      if (originalXml === undefined) return inside === '' ? '' : `<${prefix}row r="${row}">${inside}</${prefix}row>`;
      let start = originalXml.slice(0, originalXml.indexOf('>') + 1);
      // Once per row of the table: the patterns only when the attribute may be there.
      if (start.includes('spans')) start = start.replace(SPANS, '');
      // A data row now holds another record: a teammate's filter or hiding of the old one does not carry over.
      if (isData && start.includes('hidden')) start = start.replace(HIDDEN, '');
      if (start.endsWith('/>')) start = `${start.slice(0, -2)}>`;
      // Most rows of a table have no cells beside it.
      if (original.length === 0) return `${start}${inside}</${prefix}row>`;
      const before = original.filter((c) => c.col < left).map((c) => c.xml);
      const after = original.filter((c) => c.col > range.right).map((c) => c.xml);
      return `${start}${before.join('')}${inside}${after.join('')}</${prefix}row>`;
    },
    result(): TeamSheetResult {
      const dropped = [...kept]
        .filter(([key]) => !placed.has(key))
        .map(([key, cells]) => ({ key, cells: [...cells.values()] }));
      return { rows: written, issues, dropped, repeatedKeys };
    },
  };
}

const SPANS = /\sspans\s*=\s*("[^"]*"|'[^']*')/;
const HIDDEN = /\shidden\s*=\s*("[^"]*"|'[^']*')/;

/** A teammate cell at its new place: `r` rewritten, its formula's relative references moved with it. */
function movedCell(cell: KeptCell, ref: string, row: number): string {
  const tagEnd = cell.xml.indexOf('>');
  let xml = withAttribute(cell.xml.slice(0, tagEnd + 1), 'r', ref) + cell.xml.slice(tagEnd + 1);
  const f = cellChild(xml, 'f');
  if (f !== undefined && row !== cell.row) {
    const open = f.xml.slice(0, f.xml.indexOf('>') + 1);
    if (!open.endsWith('/>')) {
      const close = f.xml.lastIndexOf('</');
      const moved = `${open}${escapeFormula(shiftFormula(elementText(f.xml), row - cell.row))}${f.xml.slice(close)}`;
      xml = xml.slice(0, f.start) + moved + xml.slice(f.end);
    }
  }
  return xml;
}

function escapeFormula(formula: string): string {
  return formula.replace(/[<>&]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&amp;'));
}

/** A merged range the growing table would cut into is the team's too. */
function refuseBlockingMerges(suffix: string, plan: TablePlan): void {
  for (const { tag } of findTags(suffix, 'mergeCell')) {
    const merged = parseRange(attributesOf(tag).get('ref') ?? '');
    if (merged === undefined || !rangesIntersect(merged, plan.range) || rangesIntersect(merged, plan.table.ref))
      continue;
    throw overlapError(plan, `${columnName(merged.left)}${merged.top}`);
  }
}

/** The sheet's `<dimension ref>` grown to cover the refreshed table. */
function withDimension(prefixXml: string, range: CellRange): string {
  return prefixXml.replace(/<((?:[\w.-]+:)?dimension)(\s[^>]*?)\/?>/, (tag) => {
    const current = parseRange(attributesOf(tag).get('ref') ?? '');
    const union =
      current === undefined
        ? range
        : {
            top: Math.min(current.top, range.top),
            left: Math.min(current.left, range.left),
            bottom: Math.max(current.bottom, range.bottom),
            right: Math.max(current.right, range.right),
          };
    return withAttribute(tag, 'ref', formatRange(union));
  });
}

/**
 * `sqref` of conditional formats and data validations: a range that covered the old table's data rows exactly, in
 * the table's columns, now covers the new data rows. Anything else stays as the team wrote it.
 */
function followTableRanges(suffix: string, plan: TablePlan): string {
  const old = plan.table.ref;
  const oldLast = old.bottom - plan.table.totalsRowCount;
  const newLast = plan.range.bottom - plan.table.totalsRowCount;
  if (oldLast === newLast) return suffix;
  const follow = (sqref: string): string =>
    sqref
      .split(/\s+/)
      .map((part) => {
        const r = parseRange(part);
        if (r === undefined || r.top !== plan.firstDataRow || r.bottom !== oldLast) return part;
        if (r.left < old.left || r.right > old.right) return part;
        return formatRange({ ...r, bottom: newLast });
      })
      .join(' ');
  return suffix.replace(/<((?:[\w.-]+:)?(?:conditionalFormatting|dataValidation))(\s[^>]*)>/g, (tag: string) => {
    const sqref = attributesOf(tag).get('sqref');
    return sqref === undefined ? tag : withAttribute(tag, 'sqref', follow(sqref));
  });
}
