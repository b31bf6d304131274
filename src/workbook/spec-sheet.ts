/**
 * Spec sheets: small, fully materialised sheets (metric sheets, About) rendered from a {@link SheetSpec}: an
 * optional title, a header (an Excel table unless `asTable: false`), the rows, wrapped notes, data bars, defined
 * names and a print layout one page wide. What the sheet adds after its rows is gathered in
 * {@link buildSpecTrailer}, the place for the next sheet features (native charts: a drawing).
 */
import { WorkbookError } from '../shared/errors.js';
import type { SheetSpec } from '../shared/sheet-spec.js';
import { columnLetter, emptyIssueCounts, type CellIssueCounts } from './cell-xml.js';
import type { DefinedNames } from './defined-names.js';
import type { OpenSheet, SheetLayout } from './open-sheet.js';
import type { RowSink } from './row-sink.js';
import { createSpecCellStyles } from './spec-cell-styles.js';
import { planSpecSheetLayout, type SpecSheetLayout } from './spec-sheet-layout.js';
import {
  writeDataRows,
  writeHeaderRow,
  writeNoteRows,
  writeTitleRow,
  type SpecRowsContext,
} from './spec-sheet-rows.js';
import { validateDefinedName } from './spec-sheet-validation.js';
import { quoteSheetName, type SheetNamer } from './sheet-names.js';
import { renderMergeCellsXml, type SheetTrailer } from './sheet-trailer.js';
import type { StyleCache } from './style-cache.js';
import type { WorkbookNameRegistry } from './table-part.js';

const DATA_BAR_COLOR = 'FF638EC6';

/** What a spec sheet needs from the workbook. */
export interface SpecSheetDeps {
  readonly namer: SheetNamer;
  readonly names: WorkbookNameRegistry;
  readonly styles: StyleCache;
  readonly definedNames: Pick<DefinedNames, 'add' | 'setPrintTitleRow'>;
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
    frozenHeaderRow: layout.asTable ? layout.headerRow : undefined,
    print: layout.print,
  });
  deps.definedNames.setPrintTitleRow(sheetName, layout.headerRow);
  const sink = await deps.openRowSink(sheet, undefined);
  const ctx: SpecRowsContext = { spec, layout, sink, styles: deps.styles, issues };
  if (spec.title !== undefined) await writeTitleRow(ctx, spec.title);
  await writeHeaderRow(ctx, headerStyle);
  await writeDataRows(ctx, cellStyles);
  const merges = await writeNoteRows(ctx);
  await sink.flush();

  deps.closeSheet(sheet, buildSpecTrailer(deps.names, spec, layout, merges));
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
 * What the sheet writes after its rows: data bars, merged note rows and its table. A new feature of spec sheets
 * (such as native charts) adds its piece here, from the spec and the layout.
 */
function buildSpecTrailer(
  names: WorkbookNameRegistry,
  spec: SheetSpec,
  layout: SpecSheetLayout,
  merges: readonly string[],
): SheetTrailer {
  const conditionalFormatting = renderDataBars(spec, layout);
  const trailer: SheetTrailer = {};
  if (conditionalFormatting !== '') trailer.conditionalFormatting = conditionalFormatting;
  if (merges.length > 0) trailer.mergeCells = renderMergeCellsXml(merges);
  if (layout.asTable) {
    trailer.table = {
      name: names.takeTableName(layout.sheetName),
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
