/**
 * The rows of a spec sheet, in sheet order: title and subtitle, the blocks before the table, the chart's note (when
 * it has nothing to draw), the header, the data rows, the blocks after the table, the notes.
 */
import type { SheetColumn, SheetSpec } from '../shared/sheet-spec.js';
import type { CellValue } from '../shared/table.js';
import { renderRowXml, type CellIssueCounts } from './cell-xml.js';
import { estimateWrappedLines, heightForLines, withRowHeight } from './row-heights.js';
import type { RowSink } from './row-sink.js';
import { createBlockCellStyles, type SpecCellStyles } from './spec-cell-styles.js';
import type { BlockLayout, SpecSheetLayout } from './spec-sheet-layout.js';
import { quoteSheetName } from './sheet-names.js';
import type { StyleCache } from './style-cache.js';

// Characters of a table header cell covered by its filter button.
const FILTER_BUTTON_WIDTH = 3;

/** A link written on the sheet: its cell, where it goes, and the text it shows. */
export interface PlacedLink {
  readonly ref: string;
  readonly location: string;
  readonly display: string;
}

/** Everything the rows of one spec sheet are written with. Cells Excel cannot hold are counted in `issues`. */
export interface SpecRowsContext {
  readonly spec: SheetSpec;
  readonly layout: SpecSheetLayout;
  readonly sink: RowSink;
  readonly styles: StyleCache;
  readonly issues: CellIssueCounts;
  /** The final tab name a link's wanted sheet name resolves to. */
  readonly resolveSheet: (wanted: string) => string;
}

/** What the rows add to the sheet's trailer: ranges to merge (`A7:F7`) and links. */
export interface RowsTrailer {
  readonly merges: string[];
  readonly links: PlacedLink[];
}

// Points per line of the 14-pt title.
const TITLE_LINE_HEIGHT = 19;
// A 14-pt character is about 14/11 as wide as the body text the width estimate is made for.
const TITLE_SCALE = 11 / 14;

/**
 * The bold title, and the subtitle under it, from column A across the printed width (merged and wrapped, so a long
 * title prints whole instead of being cut at the page edge).
 */
export async function writeTitleRows(ctx: SpecRowsContext, trailer: RowsTrailer): Promise<void> {
  const { spec, layout } = ctx;
  const { lastColumnRef, width } = layout.print;
  const merge = (row: number): void => {
    if (lastColumnRef !== 'A') trailer.merges.push(`A${row}:${lastColumnRef}${row}`);
  };
  if (spec.title !== undefined && layout.titleRow !== undefined) {
    const lines = estimateWrappedLines(spec.title, width * TITLE_SCALE);
    await ctx.sink.write(
      withRowHeight(
        renderRowXml(layout.titleRow, [spec.title], ['A'], [ctx.styles.title()], ctx.issues),
        lines > 1 ? lines * TITLE_LINE_HEIGHT : undefined,
      ),
    );
    merge(layout.titleRow);
  }
  if (spec.subtitle !== undefined && layout.subtitleRow !== undefined) {
    await ctx.sink.write(
      withRowHeight(
        renderRowXml(layout.subtitleRow, [spec.subtitle], ['A'], [ctx.styles.subtitle()], ctx.issues),
        heightForLines(estimateWrappedLines(spec.subtitle, width)),
      ),
    );
    merge(layout.subtitleRow);
  }
}

/** The blocks of `placed` (before or after the table), each its header and rows. */
export async function writeBlocks(
  ctx: SpecRowsContext,
  placed: readonly BlockLayout[],
  trailer: RowsTrailer,
): Promise<void> {
  for (const p of placed) await writeBlock(ctx, p, trailer);
}

async function writeBlock(ctx: SpecRowsContext, placed: BlockLayout, trailer: RowsTrailer): Promise<void> {
  const { block, headerRow, firstRow } = placed;
  const { columnRefs, lastColumnRef, widths } = ctx.layout;
  const span = block.spanFrom;
  const spanRef = span === undefined ? undefined : columnRefs[span];
  const spanWidth = span === undefined ? 0 : widths.slice(span).reduce((sum, w) => sum + w, 0);
  const mergeRow = (rowNumber: number): void => {
    if (spanRef !== undefined && spanRef !== lastColumnRef)
      trailer.merges.push(`${spanRef}${rowNumber}:${lastColumnRef}${rowNumber}`);
  };
  if (block.header !== undefined && headerRow !== undefined) {
    // Wrapped, so a long header text in a narrow column shows whole.
    const headerStyle = ctx.styles.header(true);
    const cells = block.header.map((h) => h ?? '');
    const lines = Math.max(
      1,
      ...cells.map((text, i) => estimateWrappedLines(text, i === span ? spanWidth : (widths[i] ?? 0))),
    );
    await ctx.sink.write(
      withRowHeight(
        renderRowXml(
          headerRow,
          cells,
          columnRefs,
          cells.map(() => headerStyle),
          ctx.issues,
        ),
        heightForLines(lines),
      ),
    );
    mergeRow(headerRow);
  }
  const styles = createBlockCellStyles(ctx.styles, ctx.spec, block);
  const links = new Map((block.links ?? []).map((l) => [`${l.row}:${l.column}`, l]));
  for (const [index, row] of block.rows.entries()) {
    const rowNumber = firstRow + index;
    const rowStyles = styles.forRow(index);
    const cellStyles = [...rowStyles.styles];
    for (const [c, value] of row.entries()) {
      const link = links.get(`${index}:${c}`);
      if (link === undefined) continue;
      cellStyles[c] = ctx.styles.link();
      trailer.links.push({
        ref: `${columnRefs[c] ?? 'A'}${rowNumber}`,
        location: `'${quoteSheetName(ctx.resolveSheet(link.sheet))}'!A1`,
        display: typeof value === 'string' ? value : '',
      });
    }
    const height = rowHeight(row, styles.columns, widths, span, spanWidth);
    await ctx.sink.write(
      withRowHeight(renderRowXml(rowNumber, row, columnRefs, cellStyles, ctx.issues, rowStyles.dates), height),
    );
    mergeRow(rowNumber);
  }
}

/** The one line that stands in for a chart with nothing to draw. */
export async function writeChartNote(ctx: SpecRowsContext): Promise<void> {
  const chart = ctx.layout.chart;
  if (chart?.kind !== 'note') return;
  await ctx.sink.write(renderRowXml(chart.row, [chart.text], ['A'], [ctx.styles.note()], ctx.issues));
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
  for (const [index, row] of spec.rows.entries()) {
    const { styles, dates } = cellStyles.forRow(index);
    await sink.write(
      withRowHeight(
        renderRowXml(firstDataRow + index, row, columnRefs, styles, issues, dates),
        rowHeight(row, spec.columns, widths, undefined, 0),
      ),
    );
  }
}

/**
 * The height a row with wrapped text needs. Readers do not grow a row to fit its wrapped text when opening a file
 * (LibreOffice does not; Excel only once the cell is edited), so it gets the height its estimated line count needs.
 */
function rowHeight(
  row: readonly CellValue[],
  columns: readonly SheetColumn[],
  widths: readonly number[],
  spanFrom: number | undefined,
  spanWidth: number,
): number | undefined {
  let lines = 1;
  for (const [i, value] of row.entries()) {
    if (typeof value !== 'string') continue;
    if (i === spanFrom) lines = Math.max(lines, estimateWrappedLines(value, spanWidth));
    else if (columns[i]?.wrap === true) lines = Math.max(lines, estimateWrappedLines(value, widths[i] ?? 0));
  }
  return heightForLines(lines);
}

/** The notes under the table and the blocks after it; their rows are merged across the sheet's width. */
export async function writeNoteRows(ctx: SpecRowsContext, trailer: RowsTrailer): Promise<void> {
  const { spec, sink, issues } = ctx;
  const { columnRefs, firstNoteRow, lastColumnRef, totalWidth } = ctx.layout;
  // Notes span the table's width and wrap, so they print whole; merged cells never grow to fit their text, so
  // each gets the height its estimated line count needs.
  const notes = spec.notes ?? [];
  if (notes.length === 0) return;
  const noteStyle = ctx.styles.note();
  for (const [index, note] of notes.entries()) {
    const rowNumber = firstNoteRow + index;
    const lines = estimateWrappedLines(note, totalWidth);
    await sink.write(withRowHeight(renderRowXml(rowNumber, [note], ['A'], [noteStyle], issues), heightForLines(lines)));
    if (columnRefs.length > 1) trailer.merges.push(`A${rowNumber}:${lastColumnRef}${rowNumber}`);
  }
}
