/**
 * Spec sheets: small, fully materialised sheets (metric sheets, About) rendered from a {@link SheetSpec}: a title
 * and subtitle, blocks before the table, a native chart, the table (an Excel table unless `asTable: false`), blocks
 * after it, wrapped notes, data bars, red negatives, links, defined names and a print layout (one page wide, the
 * header repeated, a print area). What the sheet adds after its rows is gathered in {@link buildSpecTrailer}.
 */
import { WorkbookError } from '../shared/errors.js';
import type { SheetSpec } from '../shared/sheet-spec.js';
import { columnLetter, emptyIssueCounts, type CellIssueCounts } from './cell-xml.js';
import { resolveChart } from './charts/chart-data.js';
import type { DefinedNames } from './defined-names.js';
import type { OpenSheet, SheetLayout } from './open-sheet.js';
import type { RowSink } from './row-sink.js';
import { createSpecCellStyles } from './spec-cell-styles.js';
import { planSpecSheetLayout, type SpecSheetLayout } from './spec-sheet-layout.js';
import {
  writeBlocks,
  writeChartNote,
  writeDataRows,
  writeHeaderRow,
  writeNoteRows,
  writeTitleRows,
  type RowsTrailer,
  type SpecRowsContext,
} from './spec-sheet-rows.js';
import { validateDefinedName } from './spec-sheet-validation.js';
import { quoteSheetName, type SheetNamer } from './sheet-names.js';
import { renderHyperlinksXml, renderMergeCellsXml, type SheetTrailer } from './sheet-trailer.js';
import type { StyleCache } from './style-cache.js';
import type { WorkbookNameRegistry } from './table-part.js';

const DATA_BAR_COLOR = 'FF638EC6';

/** What a spec sheet needs from the workbook. */
export interface SpecSheetDeps {
  readonly namer: SheetNamer;
  readonly names: WorkbookNameRegistry;
  readonly styles: StyleCache;
  readonly definedNames: Pick<DefinedNames, 'add' | 'setPrintTitleRow' | 'setPrintArea'>;
  /** The page footer (Excel header/footer codes), in the workbook's language. */
  readonly printFooter: string;
  openSheet(name: string, layout: SheetLayout): OpenSheet;
  closeSheet(sheet: OpenSheet, trailer: SheetTrailer): void;
  openRowSink(sheet: OpenSheet, signal: AbortSignal | undefined): Promise<RowSink>;
}

export interface SpecSheetResult {
  /** Final tab name. */
  readonly name: string;
  /** What the sheet could not show (cells cut or left blank). */
  readonly warnings: string[];
}

/** Renders `spec` as one sheet. Throws WORKBOOK_INVALID_SPEC for an invalid spec, or the workbook's write error. */
export async function writeSpecSheet(deps: SpecSheetDeps, spec: SheetSpec): Promise<SpecSheetResult> {
  const sheetName = deps.namer.take(spec.name);
  const layout = planSpecSheetLayout(spec, sheetName);
  // Defined names first: they share the workbook namespace with table names.
  addDefinedNames(deps, spec, layout);
  const cellStyles = createSpecCellStyles(deps.styles, spec);
  // Spec headers wrap, so a narrow numeric column can carry a long header ("Lead Generation value") on two lines.
  const headerStyle = deps.styles.header(true);
  const issues = emptyIssueCounts();

  const sheet = deps.openSheet(sheetName, {
    widths: layout.widths,
    frozenHeaderRow: layout.frozenHeaderRow,
    print: { orientation: layout.print.orientation, onePage: layout.print.onePage, footer: deps.printFooter },
  });
  deps.definedNames.setPrintTitleRow(sheetName, layout.headerRow);
  deps.definedNames.setPrintArea(sheetName, layout.print.area);
  const sink = await deps.openRowSink(sheet, undefined);
  const ctx: SpecRowsContext = {
    spec,
    layout,
    sink,
    styles: deps.styles,
    issues,
    resolveSheet: (wanted) => deps.namer.peek(wanted),
  };
  const rowsTrailer: RowsTrailer = { merges: [], links: [] };
  await writeTitleRows(ctx, rowsTrailer);
  await writeBlocks(ctx, layout.before, rowsTrailer);
  await writeChartNote(ctx);
  await writeHeaderRow(ctx, headerStyle);
  await writeDataRows(ctx, cellStyles);
  await writeBlocks(ctx, layout.after, rowsTrailer);
  await writeNoteRows(ctx, rowsTrailer);
  await sink.flush();

  deps.closeSheet(sheet, buildSpecTrailer(deps, spec, layout, rowsTrailer));
  return { name: sheetName, warnings: specSheetWarnings(sheetName, issues) };
}

function addDefinedNames(deps: SpecSheetDeps, spec: SheetSpec, layout: SpecSheetLayout): void {
  for (const defined of spec.definedNames ?? []) {
    validateDefinedName(spec, defined);
    if (!deps.names.tryTakeExact(defined.name)) {
      throw new WorkbookError(
        'WORKBOOK_INVALID_SPEC',
        `defined name '${defined.name}' of sheet '${spec.name}' is already used by a table or another defined name`,
        { hint: 'give each defined name a unique name' },
      );
    }
    // Always quoted: names such as `2026` or `A1` must be, and quoting is valid for every name.
    const address = `'${quoteSheetName(layout.sheetName)}'!$${columnLetter(defined.column)}$${layout.firstDataRow + defined.row}`;
    deps.definedNames.add(defined.name, address);
  }
}

/**
 * What the sheet writes after its rows: data bars and red negatives, merged rows, links, its chart and its table.
 * A new feature of spec sheets adds its piece here, from the spec and the layout.
 */
function buildSpecTrailer(
  deps: Pick<SpecSheetDeps, 'names' | 'styles'>,
  spec: SheetSpec,
  layout: SpecSheetLayout,
  rows: RowsTrailer,
): SheetTrailer {
  const dataBars = renderDataBars(spec, layout);
  const conditionalFormatting =
    dataBars + renderNegativeRed(deps.styles, spec, layout, (spec.dataBars?.length ?? 0) + 1);
  const trailer: SheetTrailer = {};
  if (conditionalFormatting !== '') trailer.conditionalFormatting = conditionalFormatting;
  if (rows.merges.length > 0) trailer.mergeCells = renderMergeCellsXml(rows.merges);
  if (rows.links.length > 0) trailer.hyperlinks = renderHyperlinksXml(rows.links);
  if (spec.chart !== undefined && layout.chart?.kind === 'chart') {
    trailer.chart = {
      part: resolveChart(spec, spec.chart, {
        sheetName: layout.sheetName,
        headerRow: layout.headerRow,
        firstDataRow: layout.firstDataRow,
        columnRefs: layout.columnRefs,
        columnNames: layout.columnNames,
      }),
      anchor: layout.chart.anchor,
    };
  }
  if (layout.asTable) {
    trailer.table = {
      name: deps.names.takeTableName(layout.sheetName),
      headerRow: layout.headerRow,
      dataRows: spec.rows.length,
      columnNames: layout.columnNames,
    };
  }
  return trailer;
}

/** `<conditionalFormatting>` with a data bar over the data rows of each `dataBars` column ('' for none). */
function renderDataBars(spec: SheetSpec, layout: SpecSheetLayout): string {
  if (spec.rows.length === 0) return '';
  const { columnRefs, firstDataRow } = layout;
  const lastDataRow = firstDataRow + spec.rows.length - 1;
  return (spec.dataBars ?? [])
    .map((column, i) => {
      const ref = columnRefs[column];
      if (ref === undefined) {
        throw new WorkbookError(
          'WORKBOOK_INVALID_SPEC',
          `sheet '${spec.name}': dataBars column ${column} does not exist (the sheet has ${spec.columns.length} columns)`,
        );
      }
      return renderDataBarXml(`${ref}${firstDataRow}:${ref}${lastDataRow}`, i + 1);
    })
    .join('');
}

/** `<conditionalFormatting>` colouring negative numbers of each `negativeRed` column red ('' for none). */
function renderNegativeRed(
  styles: StyleCache,
  spec: SheetSpec,
  layout: SpecSheetLayout,
  firstPriority: number,
): string {
  const columns = spec.negativeRed ?? [];
  if (spec.rows.length === 0 || columns.length === 0) return '';
  const { columnRefs, firstDataRow } = layout;
  const lastDataRow = firstDataRow + spec.rows.length - 1;
  const dxfId = styles.negativeRedDxf();
  return columns
    .map((column, i) => {
      const ref = columnRefs[column];
      if (ref === undefined) {
        throw new WorkbookError(
          'WORKBOOK_INVALID_SPEC',
          `sheet '${spec.name}': negativeRed column ${column} does not exist (the sheet has ${spec.columns.length} columns)`,
        );
      }
      return (
        `<conditionalFormatting sqref="${ref}${firstDataRow}:${ref}${lastDataRow}">` +
        `<cfRule type="cellIs" dxfId="${dxfId}" priority="${firstPriority + i}" operator="lessThan"><formula>0</formula></cfRule>` +
        '</conditionalFormatting>'
      );
    })
    .join('');
}

function renderDataBarXml(sqref: string, priority: number): string {
  return (
    `<conditionalFormatting sqref="${sqref}"><cfRule type="dataBar" priority="${priority}">` +
    `<dataBar><cfvo type="min"/><cfvo type="max"/><color rgb="${DATA_BAR_COLOR}"/></dataBar>` +
    '</cfRule></conditionalFormatting>'
  );
}

function specSheetWarnings(sheetName: string, issues: CellIssueCounts): string[] {
  const warnings: string[] = [];
  if (issues.truncated > 0)
    warnings.push(`sheet '${sheetName}': ${issues.truncated} text cell(s) cut to 32,767 characters`);
  if (issues.nonFinite > 0)
    warnings.push(`sheet '${sheetName}': ${issues.nonFinite} cell(s) held NaN or Infinity and were left blank`);
  if (issues.unrepresentableDates > 0) {
    warnings.push(`sheet '${sheetName}': ${issues.unrepresentableDates} date(s) Excel cannot show were left blank`);
  }
  return warnings;
}
