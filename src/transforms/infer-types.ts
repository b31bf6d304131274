/**
 * Types the columns of a Tableau view from its display values, and converts rows to typed cells. Tableau's CSV
 * carries what the viz shows (`$45,047`, `14.4%`, `11/27/2026`), not raw values, so a column becomes numeric only
 * when every non-blank value reads the same way; anything doubtful stays text, because a wrong number in a
 * workbook is worse than a number kept as text.
 *
 * Pure: no I/O. A column's type is known only after its last value: `createTypeInference` observes every row, then
 * `createRowConverter` converts (the hot path, once per row when writing). A one-pass write converts with the typing
 * of the first rows while it keeps observing (`observingConverter`, one scan per value for both), and is correct
 * only when the typing of every row turns out the same (`sameColumns`).
 */
import type { CellValue, ColumnSpec, ColumnType, RawRow } from '../shared/table.js';
import {
  createDateScan,
  createNumberScan,
  scanDisplayDate,
  scanDisplayNumber,
  scannedDateValue,
  scannedNumberValue,
} from './display-values.js';

export { parseDisplayNumber } from './display-values.js';

/** What one column looks like so far. `undefined` kind = only blanks seen. */
interface ColumnState {
  kind: ColumnType | undefined;
  symbol: string;
  /** Most decimals seen (currency, percent, number). */
  decimals: number;
  grouped: boolean;
  /** An integer of 4+ digits written without grouping (years, codes): such columns get format `0`, not `#,##0`. */
  ungroupedLarge: boolean;
  parenthesized: boolean;
  hasSeconds: boolean;
}

function createColumnState(): ColumnState {
  return {
    kind: undefined,
    symbol: '',
    decimals: 0,
    grouped: false,
    ungroupedLarge: false,
    parenthesized: false,
    hasSeconds: false,
  };
}

function isBooleanText(text: string): boolean {
  return (
    text === 'True' || text === 'False' || text === 'TRUE' || text === 'FALSE' || text === 'true' || text === 'false'
  );
}

/** The value of a boolean text (see isBooleanText). */
function booleanValue(text: string): boolean {
  return text.charCodeAt(0) === 84 /* T */ || text.charCodeAt(0) === 116; /* t */
}

/** Merges a value's type into a column's: integer+number is number, date+datetime is datetime, else both must agree. */
function mergeKind(current: ColumnType | undefined, next: ColumnType): ColumnType {
  if (current === undefined || current === next) return next;
  if ((current === 'integer' && next === 'number') || (current === 'number' && next === 'integer')) return 'number';
  if ((current === 'date' && next === 'datetime') || (current === 'datetime' && next === 'date')) return 'datetime';
  return 'text';
}

function zeros(count: number): string {
  return '0'.repeat(count);
}

/** Excel number format for a column, following how Tableau displayed it. */
function numberFormatFor(state: ColumnState): string | undefined {
  switch (state.kind) {
    case 'currency': {
      // Money shows whole units or cents; extra decimals (a precise measure value) stay in the value, not the format.
      const decimals = state.decimals === 0 ? 0 : 2;
      const positive = `"${state.symbol}"#,##0${decimals > 0 ? `.${zeros(decimals)}` : ''}`;
      return state.parenthesized ? `${positive};(${positive})` : positive;
    }
    case 'percent':
      return `${state.grouped ? '#,##0' : '0'}${state.decimals > 0 ? `.${zeros(state.decimals)}` : ''}%`;
    case 'integer': {
      const positive = state.ungroupedLarge && !state.grouped ? '0' : '#,##0';
      return state.parenthesized ? `${positive};(${positive})` : positive;
    }
    case 'number': {
      // Up to 4 decimals: show exactly what Tableau showed. More (raw measure values such as 711.834803653): show at
      // least 2 and up to 10, so nothing visible is rounded away while short values do not trail zeros.
      const positive =
        state.decimals <= 4
          ? `#,##0.${zeros(Math.max(1, state.decimals))}`
          : `#,##0.00${'#'.repeat(Math.min(state.decimals, 10) - 2)}`;
      return state.parenthesized ? `${positive};(${positive})` : positive;
    }
    case 'date':
      return 'yyyy-mm-dd';
    case 'datetime':
      return state.hasSeconds ? 'yyyy-mm-dd hh:mm:ss' : 'yyyy-mm-dd hh:mm';
    default:
      return undefined;
  }
}

export interface TypeInferenceOptions {
  /**
   * Excel formats by column name, used instead of the inferred format when the column is numeric. Pass
   * `pivotMeasureValues(...).formats`: pivoted measures carry precise values (`14.4482316%`) but should keep the
   * format Tableau displayed them with (`0.0%`).
   */
  readonly formats?: Readonly<Record<string, string>>;
}

/** Column typing over a view's rows; see {@link createTypeInference}. */
export interface TypeInference {
  /** Takes one row into the typing (blank cells are ignored). Observing a row twice changes nothing. */
  observe(row: RawRow): void;
  /** Each column's type and Excel number format, from every row observed so far. */
  columns(): ColumnSpec[];
  /**
   * Observes a row and converts it in one step, converting with `columns` (the typing of a view's first rows, for a
   * one-pass write): each cell is scanned once for both. The result equals `createRowConverter(columns)(row)`
   * whenever `columns()` still equals `columns` after the last row (see {@link sameColumns}); when it no longer does,
   * the converted rows are not the view's and must be written again with the final typing.
   */
  observingConverter(columns: readonly ColumnSpec[]): (row: RawRow) => CellValue[];
}

// Which scan read a value (observeCell), so a one-pass converter reuses the scan's fields.
const SCANNED_TEXT = 0;
const SCANNED_NUMBER = 1;
const SCANNED_BOOLEAN = 2;
const SCANNED_DATE = 3;

const NUMERIC_TYPES: ReadonlySet<ColumnType> = new Set<ColumnType>(['integer', 'number', 'currency', 'percent']);

/**
 * Starts type inference for a view with this header. Feed every row to `observe` (blank cells are ignored), then
 * `columns()` gives each column's type and Excel number format:
 * currency (`$`, `€`, `£` prefixes; one symbol per column) → `"$"#,##0` / `"$"#,##0.00`; percent → `0.0%`
 * (decimals as shown); integer → `#,##0` (or `0` for ungrouped codes/years); number → `#,##0.00…`;
 * ISO/US date → `yyyy-mm-dd`; with a time → `yyyy-mm-dd hh:mm:ss`; True/False → boolean; anything mixed,
 * ambiguous, all blank, with leading zeros or over 15 integer digits → text. `options.formats` overrides the
 * format of numeric columns (for pivoted measures).
 */
export function createTypeInference(header: readonly string[], options: TypeInferenceOptions = {}): TypeInference {
  const states = header.map(createColumnState);
  const numberScan = createNumberScan();
  const dateScan = createDateScan();
  const width = header.length;

  /** Merges one non-blank value into its column's state; says which scan read it (the scan keeps its fields). */
  function observeCell(state: ColumnState, text: string): number {
    let kind: ColumnType;
    let scanned: number;
    if (scanDisplayNumber(text, numberScan)) {
      scanned = SCANNED_NUMBER;
      const decimals = numberScan.fracEnd - numberScan.fracStart;
      if (numberScan.symbol !== '') {
        if (state.kind === 'currency' && state.symbol !== numberScan.symbol) {
          state.kind = 'text';
          return scanned;
        }
        kind = 'currency';
        state.symbol = numberScan.symbol;
      } else if (numberScan.percent) {
        kind = 'percent';
      } else {
        kind = decimals > 0 ? 'number' : 'integer';
        if (!numberScan.grouped && numberScan.intEnd - numberScan.intStart > 3) state.ungroupedLarge = true;
      }
      if (decimals > state.decimals) state.decimals = decimals;
      if (numberScan.grouped) state.grouped = true;
      if (numberScan.parenthesized) state.parenthesized = true;
    } else if (isBooleanText(text)) {
      scanned = SCANNED_BOOLEAN;
      kind = 'boolean';
    } else if (scanDisplayDate(text, dateScan)) {
      scanned = SCANNED_DATE;
      kind = dateScan.hasTime ? 'datetime' : 'date';
      if (dateScan.hasSeconds) state.hasSeconds = true;
    } else {
      scanned = SCANNED_TEXT;
      kind = 'text';
    }
    state.kind = mergeKind(state.kind, kind);
    return scanned;
  }

  return {
    observe(row: RawRow): void {
      for (let i = 0; i < width; i += 1) {
        const state = states[i];
        const text = row[i];
        // Once text, a column stays text: skip the scans (most of a wide view's columns are text).
        if (state === undefined || text === undefined || text === '' || state.kind === 'text') continue;
        observeCell(state, text);
      }
    },
    columns(): ColumnSpec[] {
      return header.map((name, i) => {
        const state = states[i] ?? createColumnState();
        const type: ColumnType = state.kind ?? 'text';
        const displayFormat = options.formats?.[name];
        const numFmt = displayFormat !== undefined && NUMERIC_TYPES.has(type) ? displayFormat : numberFormatFor(state);
        return { name, type, numFmt };
      });
    },
    observingConverter(columns: readonly ColumnSpec[]): (row: RawRow) => CellValue[] {
      const kinds = Int8Array.from(columns, (column) => converterKind(column.type));
      return (row: RawRow): CellValue[] => {
        const cells = new Array<CellValue>(width);
        for (let i = 0; i < width; i += 1) {
          const text = row[i];
          if (text === undefined || text === '') {
            cells[i] = null;
            continue;
          }
          const state = states[i];
          // A text column stays text (as in observe); its value is its text.
          if (state === undefined || state.kind === 'text') {
            cells[i] = text;
            continue;
          }
          const scanned = observeCell(state, text);
          switch (kinds[i]) {
            case KIND_NUMBER:
              cells[i] = scanned === SCANNED_NUMBER ? scannedNumberValue(text, numberScan) : text;
              break;
            case KIND_DATE:
              cells[i] = scanned === SCANNED_DATE ? scannedDateValue(dateScan) : text;
              break;
            case KIND_BOOLEAN:
              cells[i] = scanned === SCANNED_BOOLEAN ? booleanValue(text) : text;
              break;
            default:
              cells[i] = text;
          }
        }
        return cells;
      };
    },
  };
}

/** Whether two typings are the same: every column's name, type and number format. */
export function sameColumns(a: readonly ColumnSpec[], b: readonly ColumnSpec[]): boolean {
  return (
    a.length === b.length &&
    a.every((c, i) => c.name === b[i]?.name && c.type === b[i].type && c.numFmt === b[i].numFmt)
  );
}

/** The first column whose type or format differs between two typings of one header, for messages. */
export function firstDifferentColumn(a: readonly ColumnSpec[], b: readonly ColumnSpec[]): string | undefined {
  return a.find((c, i) => c.type !== b[i]?.type || c.numFmt !== b[i].numFmt)?.name;
}

const KIND_TEXT = 0;
const KIND_NUMBER = 1;
const KIND_DATE = 2;
const KIND_BOOLEAN = 3;

function converterKind(type: ColumnType): number {
  switch (type) {
    case 'integer':
    case 'number':
    case 'currency':
    case 'percent':
      return KIND_NUMBER;
    case 'date':
    case 'datetime':
      return KIND_DATE;
    case 'boolean':
      return KIND_BOOLEAN;
    default:
      return KIND_TEXT;
  }
}

/**
 * Compiles a converter from raw display strings to typed cells for these columns: numbers as numbers (percent as a
 * fraction, `14.4%` → 0.144), dates as Dates holding wall-clock fields in UTC, booleans as booleans, blanks as null.
 * A value that does not read as its column's type (only possible if rows differ from those inferred from) is kept
 * as its text rather than dropped.
 */
export function createRowConverter(columns: readonly ColumnSpec[]): (row: RawRow) => CellValue[] {
  const kinds = Int8Array.from(columns, (column) => converterKind(column.type));
  const width = columns.length;
  const numberScan = createNumberScan();
  const dateScan = createDateScan();

  return (row: RawRow): CellValue[] => {
    const cells = new Array<CellValue>(width);
    for (let i = 0; i < width; i += 1) {
      const text = row[i];
      if (text === undefined || text === '') {
        cells[i] = null;
        continue;
      }
      switch (kinds[i]) {
        case KIND_NUMBER:
          cells[i] = scanDisplayNumber(text, numberScan) ? scannedNumberValue(text, numberScan) : text;
          break;
        case KIND_DATE:
          cells[i] = scanDisplayDate(text, dateScan) ? scannedDateValue(dateScan) : text;
          break;
        case KIND_BOOLEAN:
          cells[i] = isBooleanText(text) ? booleanValue(text) : text;
          break;
        default:
          cells[i] = text;
      }
    }
    return cells;
  };
}
