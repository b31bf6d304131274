/**
 * How a view lands in the team's table: which table column each view column fills, which columns are the team's
 * own (a calculated column, or values that follow their row's key), which view columns are new, and what the old
 * table held that must be carried over. Built from one read of the table's sheet before any row is written, so
 * every refusal (a missing key, content in the way of a growing table) happens before anything is changed.
 */
import { WorkbookError } from '../../shared/errors.js';
import type { ColumnSpec } from '../../shared/table.js';
import { rowRelativeForm, shiftFormula, type CellRange } from './cell-refs.js';
import { cellHasContent, parseRowCells, type SheetPiece } from './sheet-scan.js';
import type { TableInfo } from './package-model.js';
import { attributesOf, elementText, cellChild } from './xml-tags.js';

/** A column of the refreshed table, left to right. */
export type PlannedColumn =
  /** Filled from the view's column `viewIndex`; `style` is the team's format when they set one, else ours. */
  | { readonly kind: 'view'; readonly name: string; readonly viewIndex: number; readonly style: number | undefined }
  /** A column the view no longer sends: kept, empty, reported. */
  | { readonly kind: 'vanished'; readonly name: string }
  /** The team's formula on every row: `formula` as it reads in the first data row. */
  | { readonly kind: 'calculated'; readonly name: string; readonly formula: string; readonly style: number | undefined }
  /** The team's values: each follows its row's key. */
  | { readonly kind: 'teammate'; readonly name: string };

/** A teammate's cell kept for its key: its XML and the row it was in. */
export interface KeptCell {
  readonly xml: string;
  readonly row: number;
}

/** The old table's key cell of one row, before shared strings are resolved. */
export type RawKey = { readonly shared: number } | { readonly text: string } | undefined;

export interface TablePlan {
  readonly table: TableInfo;
  readonly columns: readonly PlannedColumn[];
  /** The header cells' text for the new columns (right of the old table). */
  readonly newColumnNames: readonly string[];
  /** The refreshed table's range (header, data rows, totals row). */
  readonly range: CellRange;
  readonly firstDataRow: number;
  /** The key's column in the view's rows, when teammate values follow keys. */
  readonly keyViewIndex: number | undefined;
  /** Teammate cells of the old table by row, with the row's raw key (resolved by {@link resolveKeys}). */
  readonly keptRows: readonly { readonly key: RawKey; readonly cells: ReadonlyMap<number, KeptCell> }[];
  /** The old totals row's cells inside the table, by column offset. */
  readonly totalsCells: ReadonlyMap<number, KeptCell>;
  /** Shared-string indexes the keys need. */
  readonly sharedKeyIndexes: ReadonlySet<number>;
  /** `s` of the old header's last cell: the new columns' header cells look the same. */
  readonly headerStyle: number | undefined;
  readonly warnings: readonly string[];
  /** For messages: the sheet, the workbook, the rows the table must hold. */
  readonly sheetName: string;
  readonly label: string;
  readonly rowCount: number;
}

export interface PlanInput {
  readonly table: TableInfo;
  /** The view's columns (names already made valid table column names). */
  readonly viewColumns: readonly ColumnSpec[];
  readonly viewColumnNames: readonly string[];
  /** The view's data rows this run. */
  readonly rowCount: number;
  /** The key column's name in the view (`views[].key`, or the metrics id column). */
  readonly key: string | undefined;
  /** Where the key setting comes from, for messages (`views[0].key` or `metrics.columns.id`). */
  readonly keySetting: string;
  /** The view's columns at the last successful run: a table column among them that is gone now vanished. */
  readonly previousColumns: readonly string[] | undefined;
  /** The sheet's pieces (one read). */
  readonly pieces: AsyncIterable<SheetPiece>;
  /** The sheet part's namespace prefix. */
  readonly prefix: string;
  /** Number format codes of the team's cell styles (undefined: General). */
  readonly formatCodeOf: (s: number) => string | undefined;
  /** The sheet's name and the workbook's label, for messages. */
  readonly sheetName: string;
  readonly label: string;
  /** A view column (by index) shows a date or number format of its own: the team's General must not hide it. */
  readonly needsFormat: (viewIndex: number) => boolean;
}

/** What one read of the old table found, per table column. */
interface ColumnFindings {
  hasContent: boolean;
  /** Row-independent form of the formulas seen, while every data row had the same one. */
  uniformForm: string | undefined;
  uniform: boolean;
  firstFormula: string | undefined;
  firstFormulaRow: number;
  /** Data rows whose cell held a formula (a calculated column has one on every row). */
  formulaCells: number;
  firstStyle: number | undefined;
}

/**
 * Reads the table's sheet once and plans the refresh.
 * @throws WorkbookError `WORKBOOK_UPDATE_OVERLAP` when the table would grow into other content (naming the cell),
 *   `WORKBOOK_UPDATE_KEY_REQUIRED` when teammate values exist but no key says which row they belong to,
 *   `WORKBOOK_UPDATE_KEY_MISSING` when the key column is not in the view or the table.
 */
export async function planTableRefresh(input: PlanInput): Promise<TablePlan> {
  const { table } = input;
  const names = table.columns.map((c) => c.name);
  const upper = (s: string): string => s.toLocaleUpperCase('en-US');
  const viewIndexOf = new Map(input.viewColumnNames.map((n, i) => [upper(n), i]));
  const previous = new Set((input.previousColumns ?? []).map(upper));
  const newColumnNames = input.viewColumnNames.filter((n) => !names.some((t) => upper(t) === upper(n)));
  const width = names.length + newColumnNames.length;
  const firstDataRow = table.ref.top + table.headerRowCount;
  const dataRows = Math.max(1, input.rowCount);
  const range: CellRange = {
    top: table.ref.top,
    left: table.ref.left,
    right: table.ref.left + width - 1,
    bottom: firstDataRow + dataRows - 1 + table.totalsRowCount,
  };
  if (range.bottom > 1_048_576) {
    throw new WorkbookError(
      'WORKBOOK_UPDATE_OVERLAP',
      `table '${table.name}' on sheet '${input.sheetName}' of '${input.label}' cannot hold ${input.rowCount.toLocaleString('en-US')} rows: it would end past Excel's last row`,
      { hint: 'filter the view to fewer rows, or move the table higher up on its sheet' },
    );
  }
  const teammateColumns = names.flatMap((n, j) => (!viewIndexOf.has(upper(n)) && !previous.has(upper(n)) ? [j] : []));
  const keyName = input.key;
  const keyTableIndex = keyName === undefined ? -1 : names.findIndex((n) => upper(n) === upper(keyName));
  const scanned = await scanOldTable(input, range, teammateColumns, keyTableIndex);

  const columns: PlannedColumn[] = names.map((name, j) => {
    const viewIndex = viewIndexOf.get(upper(name));
    const found = scanned.findings[j];
    if (viewIndex !== undefined)
      return { kind: 'view', name, viewIndex, style: keepTeamStyle(input, found, viewIndex) };
    if (previous.has(upper(name))) return { kind: 'vanished', name };
    const calculated = table.columns[j]?.calculatedFormula;
    if (calculated !== undefined && calculated !== '') {
      return { kind: 'calculated', name, formula: calculated, style: found?.firstStyle };
    }
    const oldDataRows = table.ref.bottom - table.totalsRowCount - firstDataRow + 1;
    if (
      found !== undefined &&
      found.uniform &&
      found.firstFormula !== undefined &&
      found.formulaCells === oldDataRows
    ) {
      const formula = shiftFormula(found.firstFormula, firstDataRow - found.firstFormulaRow);
      return { kind: 'calculated', name, formula, style: found.firstStyle };
    }
    return { kind: 'teammate', name };
  });
  for (const name of newColumnNames) {
    columns.push({ kind: 'view', name, viewIndex: viewIndexOf.get(upper(name)) ?? 0, style: undefined });
  }

  const valueColumns = columns.flatMap((c, j) =>
    c.kind === 'teammate' && scanned.findings[j]?.hasContent === true ? [j] : [],
  );
  const keyViewIndex = keyName === undefined ? undefined : viewIndexOf.get(upper(keyName));
  if (valueColumns.length > 0) requireKey(input, columns, valueColumns, keyViewIndex, keyTableIndex);
  const warnings = columns.flatMap((c) =>
    c.kind === 'vanished'
      ? [`column "${c.name}" of table '${table.name}' is no longer in the view; it is kept, empty, until you remove it`]
      : [],
  );
  return {
    table,
    columns,
    newColumnNames,
    range,
    firstDataRow,
    keyViewIndex: valueColumns.length > 0 ? keyViewIndex : undefined,
    keptRows:
      valueColumns.length > 0
        ? scanned.keptRows
            .map((r) => ({ key: r.key, cells: onlyColumns(r.cells, valueColumns) }))
            .filter((r) => r.cells.size > 0)
        : [],
    totalsCells: scanned.totals,
    sharedKeyIndexes: valueColumns.length > 0 ? scanned.sharedKeyIndexes : new Set(),
    headerStyle: scanned.headerStyle,
    warnings,
    sheetName: input.sheetName,
    label: input.label,
    rowCount: input.rowCount,
  };
}

function onlyColumns(cells: ReadonlyMap<number, KeptCell>, columns: readonly number[]): Map<number, KeptCell> {
  return new Map([...cells].filter(([j]) => columns.includes(j)));
}

/** A Tableau column keeps the team's format unless it is General while the view has a format of its own. */
function keepTeamStyle(input: PlanInput, found: ColumnFindings | undefined, viewIndex: number): number | undefined {
  const style = found?.firstStyle;
  if (style === undefined) return undefined;
  if (input.formatCodeOf(style) === undefined && input.needsFormat(viewIndex)) return undefined;
  return style;
}

function requireKey(
  input: PlanInput,
  columns: readonly PlannedColumn[],
  valueColumns: readonly number[],
  keyViewIndex: number | undefined,
  keyTableIndex: number,
): void {
  const listed = valueColumns.map((j) => `"${columns[j]?.name ?? ''}"`).join(', ');
  const where = `table '${input.table.name}' on sheet '${input.sheetName}' of '${input.label}'`;
  if (input.key === undefined) {
    throw new WorkbookError(
      'WORKBOOK_UPDATE_KEY_REQUIRED',
      `${where} has columns of your team's own (${listed}) whose values must stay with their rows, but no key column says which row is which`,
      {
        hint: `set ${input.keySetting} to the view's column that identifies a row (e.g. key: Opportunity ID); the workbook was not changed`,
      },
    );
  }
  if (keyViewIndex === undefined || keyTableIndex < 0) {
    const missing = keyViewIndex === undefined ? 'the view' : 'the table';
    throw new WorkbookError(
      'WORKBOOK_UPDATE_KEY_MISSING',
      `the key column "${input.key}" (${input.keySetting}) is not in ${missing}, so the values of ${listed} in ${where} cannot follow their rows`,
      { hint: `set ${input.keySetting} to a column the view and the table both have; the workbook was not changed` },
    );
  }
}

interface ScanResult {
  readonly headerStyle: number | undefined;
  readonly findings: ColumnFindings[];
  readonly keptRows: { key: RawKey; cells: Map<number, KeptCell> }[];
  readonly totals: Map<number, KeptCell>;
  readonly sharedKeyIndexes: Set<number>;
}

/** One pass over the sheet: column findings, teammate cells by row, totals row, content in the growing table's way. */
async function scanOldTable(
  input: PlanInput,
  range: CellRange,
  teammateColumns: readonly number[],
  keyTableIndex: number,
): Promise<ScanResult> {
  const { table, prefix } = input;
  const old = table.ref;
  const firstData = old.top + table.headerRowCount;
  const lastData = old.bottom - table.totalsRowCount;
  const findings: ColumnFindings[] = table.columns.map(() => ({
    hasContent: false,
    uniformForm: undefined,
    uniform: true,
    firstFormula: undefined,
    firstFormulaRow: 0,
    formulaCells: 0,
    firstStyle: undefined,
  }));
  const keptRows: ScanResult['keptRows'] = [];
  const totals = new Map<number, KeptCell>();
  const sharedKeyIndexes = new Set<number>();
  const shared = new Map<string, { formula: string; row: number; col: number }>();
  let headerStyle: number | undefined;

  const isTeammate = table.columns.map((_, j) => teammateColumns.includes(j));
  const anyTeammate = teammateColumns.length > 0;
  const growsRight = range.right > old.right;
  // Without team columns, only the header, the first data row and the totals row matter: stop reading there.
  // (Content in the way of a growing table is found while the sheet is written, before anything is delivered.)
  const lastNeeded = anyTeammate ? old.bottom : table.totalsRowCount > 0 ? old.bottom : firstData;
  for await (const piece of input.pieces) {
    if (piece.kind !== 'row') continue;
    const r = piece.row;
    if (r > lastNeeded) break;
    if (r < old.top) continue;
    const dataRow = r >= firstData && r <= lastData;
    // Inside the old table, a row needs reading only for the header, the first data row (the columns' styles),
    // the team's own columns, the cells where new columns go, and the totals row: millions of rows are skipped.
    const sampleRow = r === old.top || r === firstData;
    if (dataRow && !sampleRow && !anyTeammate && !growsRight) continue;
    const { cells } = parseRowCells(piece.xml, prefix);
    const inOld = r <= old.bottom;
    let key: RawKey;
    let kept: Map<number, KeptCell> | undefined;
    for (const cell of cells) {
      const j = cell.col - old.left;
      const insideOld = inOld && j >= 0 && cell.col <= old.right;
      if (!insideOld) continue;
      if (dataRow && j === keyTableIndex) key = rawKeyOf(cell.xml);
      if (dataRow && !sampleRow && isTeammate[j] !== true) continue;
      rememberShared(cell.xml, r, cell.col, shared);
      if (r === old.top && table.headerRowCount > 0 && cell.col === old.right) headerStyle = styleOf(cell.xml);
      if (dataRow) {
        observeDataCell(findings[j], cell.xml, r, cell.col, shared);
        if (isTeammate[j] === true && cellHasContent(cell.xml)) {
          kept ??= new Map();
          kept.set(j, { xml: expandShared(cell.xml, r, cell.col, shared), row: r });
        }
      } else if (table.totalsRowCount > 0 && r === old.bottom) totals.set(j, { xml: cell.xml, row: r });
    }
    if (kept !== undefined) {
      keptRows.push({ key, cells: kept });
      if (key !== undefined && 'shared' in key) sharedKeyIndexes.add(key.shared);
    }
  }
  return { headerStyle, findings, keptRows, totals, sharedKeyIndexes };
}

/**
 * The table would have to grow into `cell`, which holds something of the team's.
 */
export function overlapError(
  plan: Pick<TablePlan, 'table' | 'sheetName' | 'label' | 'rowCount'>,
  cell: string,
): WorkbookError {
  return new WorkbookError(
    'WORKBOOK_UPDATE_OVERLAP',
    `table '${plan.table.name}' needs to grow to ${plan.rowCount.toLocaleString('en-US')} rows, but cell ${plan.sheetName}!${cell} of '${plan.label}' is in the way`,
    {
      hint: `move what is in ${cell} (and below it) out of the table's way, or move the table; the workbook was not changed`,
    },
  );
}

/** Notes a data cell of the old table: content, its formula's row-independent form, the first style. */
function observeDataCell(
  f: ColumnFindings | undefined,
  xml: string,
  row: number,
  col: number,
  shared: Map<string, { formula: string; row: number; col: number }>,
): void {
  if (f === undefined) return;
  f.firstStyle ??= styleOf(xml);
  if (!cellHasContent(xml)) {
    f.uniform = false;
    return;
  }
  f.hasContent = true;
  const formula = formulaOf(xml, row, col, shared);
  if (formula === undefined) {
    f.uniform = false;
    return;
  }
  f.formulaCells += 1;
  const form = rowRelativeForm(formula, row);
  if (f.firstFormula === undefined) {
    f.firstFormula = formula;
    f.firstFormulaRow = row;
    f.uniformForm = form;
  } else if (form !== f.uniformForm) f.uniform = false;
}

function styleOf(cellXml: string): number | undefined {
  const s = attributesOf(cellXml.slice(0, cellXml.indexOf('>') + 1)).get('s');
  return s === undefined ? undefined : Number(s);
}

/** Records the master of a shared formula group (`<f t="shared" ref=... si=...>text</f>`). */
function rememberShared(
  cellXml: string,
  row: number,
  col: number,
  shared: Map<string, { formula: string; row: number; col: number }>,
): void {
  const f = cellChild(cellXml, 'f');
  if (f === undefined) return;
  const a = attributesOf(f.xml);
  if (a.get('t') !== 'shared' || a.get('ref') === undefined) return;
  const si = a.get('si');
  if (si !== undefined) shared.set(si, { formula: elementText(f.xml), row, col });
}

/** The cell's formula text as it reads in its own cell (a shared formula member expanded from its master). */
function formulaOf(
  cellXml: string,
  row: number,
  col: number,
  shared: Map<string, { formula: string; row: number; col: number }>,
): string | undefined {
  const f = cellChild(cellXml, 'f');
  if (f === undefined) return undefined;
  const a = attributesOf(f.xml);
  if (a.get('t') === 'shared') {
    const master = shared.get(a.get('si') ?? '');
    return master === undefined ? undefined : shiftFormula(master.formula, row - master.row, col - master.col);
  }
  return elementText(f.xml);
}

/** A teammate cell that will move: a shared-formula member becomes a plain formula (its group stays behind). */
function expandShared(
  cellXml: string,
  row: number,
  col: number,
  shared: Map<string, { formula: string; row: number; col: number }>,
): string {
  const f = cellChild(cellXml, 'f');
  if (f === undefined || attributesOf(f.xml).get('t') !== 'shared') return cellXml;
  const formula = formulaOf(cellXml, row, col, shared);
  if (formula === undefined) return cellXml.slice(0, f.start) + cellXml.slice(f.end);
  const fPrefix = /<([\w.-]+:)?f[\s>/]/.exec(f.xml)?.[1] ?? '';
  const plain = `<${fPrefix}f>${formula.replace(/[<>&]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&amp;'))}</${fPrefix}f>`;
  return cellXml.slice(0, f.start) + plain + cellXml.slice(f.end);
}

/** The key cell's value: a shared-string index, or its text (numbers and inline strings as written). */
function rawKeyOf(cellXml: string): RawKey {
  if (!cellHasContent(cellXml)) return undefined;
  const t = attributesOf(cellXml.slice(0, cellXml.indexOf('>') + 1)).get('t');
  if (t === 'inlineStr') {
    const is = cellChild(cellXml, 'is');
    return is === undefined ? undefined : { text: textOfRich(is.xml) };
  }
  const v = cellChild(cellXml, 'v');
  if (v === undefined) return undefined;
  const text = elementText(v.xml);
  if (t === 's') return { shared: Number(text) };
  if (t === 'b') return { text: text === '1' ? 'TRUE' : 'FALSE' };
  return { text };
}

/** The text of a string item (`<si>` or `<is>`): its `<t>` runs joined, phonetic runs left out. */
export function textOfRich(xml: string): string {
  const body = xml.replace(/<(?:[\w.-]+:)?rPh[\s>][\s\S]*?<\/(?:[\w.-]+:)?rPh>/g, '');
  let out = '';
  const re = /<(?:[\w.-]+:)?t(?:\s[^>]*)?>([\s\S]*?)<\/(?:[\w.-]+:)?t>/g;
  for (let m = re.exec(body); m !== null; m = re.exec(body)) out += m[1] ?? '';
  return elementText(`<t>${out}</t>`);
}

/** The key of a view row as the old table would show it: numbers and text as written, booleans as TRUE/FALSE. */
export function keyText(value: unknown): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'string' ? value : JSON.stringify(value);
}
