/**
 * Pivots Tableau's long Measure Names/Measure Values form to one row per dimension tuple.
 *
 * A view built with Measure Names/Values exports its summary data in long form: one row per (dimension tuple ×
 * measure), a `Measure Names` and a precise `Measure Values` column, plus one display column per measure repeated on
 * every row (`Sales` = `$311,784` while Measure Values = `311,783.644`). Teammates expect the crosstab they see:
 * dimensions, then one column per measure, holding the precise value shown the way Tableau showed it.
 *
 * Pure: no I/O. Rows are buffered (summary views are small) under a cap.
 */
import { AppError } from '../shared/errors.js';
import type { RawRow } from '../shared/table.js';
import { createNumberScan, scanDisplayNumber, scannedNumberValue, type NumberScan } from './display-values.js';
import { createTypeInference } from './infer-types.js';

export const MEASURE_NAMES = 'Measure Names';
export const MEASURE_VALUES = 'Measure Values';

/** Default cap on buffered cells (rows × columns of the long form). */
export const DEFAULT_PIVOT_MAX_CELLS = 2_000_000;

export interface PivotOptions {
  readonly maxCells?: number;
}

export interface PivotResult {
  /** Dimension columns in view order, then one column per measure in first-seen order. */
  readonly header: string[];
  readonly rows: string[][];
  /**
   * Excel number format of each measure as Tableau displayed it (`Profit Ratio` → `0.0%`), by column name. Pass it to
   * `createTypeInference(header, { formats })`: the values are more precise than the display.
   */
  readonly formats: Record<string, string>;
  /** Problems worth a line in the run report (a measure repeated for the same dimension values). */
  readonly warnings: string[];
}

/** True when the header has both `Measure Names` and `Measure Values`, i.e. the view is in long form. */
export function hasMeasureColumns(header: readonly string[]): boolean {
  return header.includes(MEASURE_NAMES) && header.includes(MEASURE_VALUES);
}

/** Decimals shown by a scanned display number. */
function shownDecimals(scan: NumberScan): number {
  return scan.fracEnd - scan.fracStart;
}

/**
 * True when `display` could be Tableau's rendering of `precise`: equal once the precise value is rounded to the
 * decimals shown (percent compared in percent units). Used to recognise a measure's display column when its caption
 * differs from the measure name (`Distinct count of Customer Name` shows `Count of Customers`).
 */
function displays(display: string, precise: string, scan: NumberScan): boolean {
  if (display === '' && precise === '') return true;
  if (!scanDisplayNumber(precise, scan) || scan.percent) return false;
  const value = scannedNumberValue(precise, scan);
  if (!scanDisplayNumber(display, scan)) return false;
  const shown = scannedNumberValue(display, scan);
  const scale = scan.percent ? 100 : 1;
  const tolerance = 0.5 * 10 ** -shownDecimals(scan) + 1e-9 * Math.max(1, Math.abs(value * scale));
  return Math.abs(value * scale - shown * scale) <= tolerance;
}

/** `0.144482316` → `14.4482316%`, moving the decimal point in the string so no float rounding creeps in. */
function fractionToPercentText(text: string, scan: NumberScan): string {
  let intDigits = text.slice(scan.intStart, scan.intEnd);
  if (scan.grouped) intDigits = intDigits.replaceAll(',', '');
  const fracDigits = text.slice(scan.fracStart, scan.fracEnd).padEnd(2, '0');
  let whole = intDigits + fracDigits.slice(0, 2);
  let start = 0;
  while (start < whole.length - 1 && whole.charCodeAt(start) === 48 /* 0 */) start += 1;
  whole = whole.slice(start);
  const rest = fracDigits.slice(2);
  const magnitude = `${whole}${rest === '' ? '' : `.${rest}`}%`;
  return scan.negative ? `-${magnitude}` : magnitude;
}

interface MeasureStyle {
  readonly kind: 'currency' | 'percent' | 'plain';
  readonly symbol: string;
}

/**
 * Renders a precise Measure Value in its measure's display style, so type inference reads it as the same type:
 * `311,783.644` shown as `$311,784` → `$311,783.644`; `0.144482316` shown as `14.4%` → `14.4482316%`.
 */
function renderPrecise(precise: string, style: MeasureStyle, scan: NumberScan): string {
  if (style.kind === 'plain' || precise === '' || !scanDisplayNumber(precise, scan)) return precise;
  if (scan.symbol !== '' || scan.percent) return precise;
  if (style.kind === 'percent') return fractionToPercentText(precise, scan);
  const magnitude = scan.negative ? precise.slice(precise.indexOf('-') + 1) : precise;
  return `${scan.negative ? '-' : ''}${style.symbol}${magnitude}`;
}

function tooLarge(maxCells: number): AppError {
  return new AppError(
    'PIVOT_TOO_LARGE',
    `the view's Measure Names/Measure Values data has more than ${maxCells.toLocaleString('en-US')} cells, too many to pivot in memory`,
    { hint: 'set `pivot: false` on the view to export the long form as is, or aggregate the view in Tableau' },
  );
}

/**
 * Pivots long-form rows (see module comment) to wide form. Dimension columns are all columns except
 * `Measure Names`, `Measure Values`, and the display columns of measures: a column named like a measure, or one
 * whose values are the rounded Measure Values of a measure that has no column of its own name (Tableau names the
 * column of `Count of Customers` after its formula, `Distinct count of Customer Name`; it is exported once, under the
 * measure name). Each output row is a
 * dimension tuple (first-seen order); each measure column holds the precise Measure Value rendered in the
 * measure's display style (`$311,783.644`, `14.4482316%`). A tuple without a value for a measure gets ''.
 *
 * @throws AppError `PIVOT_TOO_LARGE` when more than `maxCells` cells would be buffered; `PIVOT_INVALID` when the
 *   header has no Measure Names/Measure Values pair.
 */
export async function pivotMeasureValues(
  header: readonly string[],
  rows: AsyncIterable<RawRow>,
  options: PivotOptions = {},
): Promise<PivotResult> {
  const namesIndex = header.indexOf(MEASURE_NAMES);
  const valuesIndex = header.indexOf(MEASURE_VALUES);
  if (namesIndex < 0 || valuesIndex < 0) {
    throw new AppError(
      'PIVOT_INVALID',
      `cannot pivot: the view has no "${MEASURE_NAMES}" and "${MEASURE_VALUES}" columns`,
      {
        hint: 'set `pivot: false` on the view',
      },
    );
  }
  const maxCells = options.maxCells ?? DEFAULT_PIVOT_MAX_CELLS;
  const maxRows = Math.max(1, Math.floor(maxCells / Math.max(1, header.length)));

  const buffered: RawRow[] = [];
  const measures: string[] = [];
  const seenMeasures = new Set<string>();
  for await (const row of rows) {
    if (buffered.length >= maxRows) throw tooLarge(maxCells);
    buffered.push(row);
    const measure = row[namesIndex] ?? '';
    if (!seenMeasures.has(measure)) {
      seenMeasures.add(measure);
      measures.push(measure);
    }
  }

  const scan = createNumberScan();
  const warnings: string[] = [];
  // measure name → index of the column that displays it
  const displayColumn = new Map<string, number>();
  header.forEach((name, index) => {
    if (index !== namesIndex && index !== valuesIndex && seenMeasures.has(name)) displayColumn.set(name, index);
  });
  const candidates = header
    .map((_, index) => index)
    .filter((index) => index !== namesIndex && index !== valuesIndex && !seenMeasures.has(header[index] ?? ''));
  const claimed = new Set<number>();
  for (const measure of measures) {
    if (displayColumn.has(measure)) continue;
    const measureRows = buffered.filter((row) => row[namesIndex] === measure);
    const match = candidates.find(
      (index) =>
        !claimed.has(index) &&
        measureRows.some((row) => (row[valuesIndex] ?? '') !== '') &&
        measureRows.every((row) => displays(row[index] ?? '', row[valuesIndex] ?? '', scan)),
    );
    if (match !== undefined) {
      claimed.add(match);
      displayColumn.set(measure, match);
    }
  }
  const dimensionIndexes = candidates.filter((index) => !claimed.has(index));

  // How each measure is displayed: its display column's values decide the style and the Excel format.
  const styles = new Map<string, MeasureStyle>();
  const formats: Record<string, string> = {};
  for (const measure of measures) {
    const index = displayColumn.get(measure);
    if (index === undefined) {
      styles.set(measure, { kind: 'plain', symbol: '' });
      continue;
    }
    const inference = createTypeInference([measure]);
    let symbol = '';
    for (const row of buffered) {
      const text = row[index] ?? '';
      inference.observe([text]);
      if (symbol === '' && scanDisplayNumber(text, scan)) symbol = scan.symbol;
    }
    const [column] = inference.columns();
    const kind = column?.type === 'currency' ? 'currency' : column?.type === 'percent' ? 'percent' : 'plain';
    styles.set(measure, { kind, symbol });
    if (column?.numFmt !== undefined && (kind !== 'plain' || column.type === 'integer' || column.type === 'number')) {
      formats[measure] = column.numFmt;
    }
  }

  const outRows: string[][] = [];
  const tuples = new Map<string, string[]>();
  let duplicates = 0;
  const measureColumn = new Map(measures.map((measure, i) => [measure, dimensionIndexes.length + i]));
  for (const row of buffered) {
    const key = dimensionIndexes.map((index) => row[index] ?? '').join('\u0000');
    let out = tuples.get(key);
    if (out === undefined) {
      out = [...dimensionIndexes.map((index) => row[index] ?? ''), ...measures.map(() => '')];
      tuples.set(key, out);
      outRows.push(out);
    }
    const measure = row[namesIndex] ?? '';
    const column = measureColumn.get(measure);
    const style = styles.get(measure);
    if (column === undefined || style === undefined) continue;
    if (out[column] !== '') {
      duplicates += 1;
      continue;
    }
    out[column] = renderPrecise(row[valuesIndex] ?? '', style, scan);
  }
  if (duplicates > 0) {
    warnings.push(
      `${duplicates} Measure Values rows repeat a measure for the same dimension values; the first value was kept ` +
        '(check the view for hidden dimensions, or set `pivot: false`)',
    );
  }

  return {
    header: [...dimensionIndexes.map((index) => header[index] ?? ''), ...measures],
    rows: outRows,
    formats,
    warnings,
  };
}
