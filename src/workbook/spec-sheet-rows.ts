/** The rows of a spec sheet, in sheet order: title, header, data rows, notes. */
import type { SheetSpec } from '../shared/sheet-spec.js';
import { renderRowXml, type CellIssueCounts } from './cell-xml.js';
import { estimateWrappedLines, heightForLines, withRowHeight } from './row-heights.js';
import type { RowSink } from './row-sink.js';
import type { SpecCellStyles } from './spec-cell-styles.js';
import type { SpecSheetLayout } from './spec-sheet-layout.js';
import type { StyleCache } from './style-cache.js';

// Characters of a table header cell covered by its filter button.
const FILTER_BUTTON_WIDTH = 3;

/** Everything the rows of one spec sheet are written with. Cells Excel cannot hold are counted in `issues`. */
export interface SpecRowsContext {
  readonly spec: SheetSpec;
  readonly layout: SpecSheetLayout;
  readonly sink: RowSink;
  readonly styles: StyleCache;
  readonly issues: CellIssueCounts;
}

/** The bold title in A1. */
export async function writeTitleRow(ctx: SpecRowsContext, title: string): Promise<void> {
  const titleStyle = ctx.styles.title();
  await ctx.sink.write(renderRowXml(1, [title], ['A'], [titleStyle], ctx.issues));
}

/** The header row, as tall as its longest wrapped header needs. */
export async function writeHeaderRow(ctx: SpecRowsContext, headerStyle: number): Promise<void> {
  const { asTable, columnNames, columnRefs, headerRow, widths } = ctx.layout;
  const headerLines = Math.max(
    1,
    ...columnNames.map((name, i) => estimateWrappedLines(name, (widths[i] ?? 0) - (asTable ? FILTER_BUTTON_WIDTH : 0))),
  );
  await ctx.sink.write(
    withRowHeight(
      renderRowXml(
        headerRow,
        columnNames,
        columnRefs,
        columnNames.map(() => headerStyle),
        ctx.issues,
      ),
      heightForLines(headerLines),
    ),
  );
}

/** The data rows, each in its cells' styles. */
export async function writeDataRows(ctx: SpecRowsContext, cellStyles: SpecCellStyles): Promise<void> {
  const { spec, sink, issues } = ctx;
  const { columnRefs, firstDataRow, widths } = ctx.layout;
  // Readers do not grow a row to fit its wrapped text when opening a file (LibreOffice does not; Excel only once
  // the cell is edited), so a row with wrapped text gets the height its estimated line count needs.
  const wrapped = spec.columns.flatMap((c, i) => (c.wrap === true ? [i] : []));
  const rowHeight = (row: readonly unknown[]): number | undefined => {
    let lines = 1;
    for (const i of wrapped) {
      const value = row[i];
      if (typeof value === 'string') lines = Math.max(lines, estimateWrappedLines(value, widths[i] ?? 0));
    }
    return heightForLines(lines);
  };
  for (const [index, row] of spec.rows.entries()) {
    const { styles, dates } = cellStyles.forRow(index);
    await sink.write(
      withRowHeight(renderRowXml(firstDataRow + index, row, columnRefs, styles, issues, dates), rowHeight(row)),
    );
  }
}

/** The notes under the data rows (one blank row between); returns the ranges to merge (`A7:F7`). */
export async function writeNoteRows(ctx: SpecRowsContext): Promise<string[]> {
  const { spec, sink, issues } = ctx;
  const { asTable, columnRefs, firstDataRow, lastColumnRef, totalWidth } = ctx.layout;
  // Notes span the table's width and wrap, so they print whole; merged cells never grow to fit their text, so
  // each gets the height its estimated line count needs.
  const notes = spec.notes ?? [];
  const merges: string[] = [];
  if (notes.length === 0) return merges;
  const noteStyle = ctx.styles.note();
  const firstNoteRow = firstDataRow + Math.max(spec.rows.length, asTable ? 1 : 0) + 1;
  for (const [index, note] of notes.entries()) {
    const rowNumber = firstNoteRow + index;
    const lines = estimateWrappedLines(note, totalWidth);
    await sink.write(withRowHeight(renderRowXml(rowNumber, [note], ['A'], [noteStyle], issues), heightForLines(lines)));
    if (columnRefs.length > 1) merges.push(`A${rowNumber}:${lastColumnRef}${rowNumber}`);
  }
  return merges;
}
