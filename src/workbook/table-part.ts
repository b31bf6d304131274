/**
 * Excel tables (`xl/tables/tableN.xml`), which exceljs's streaming writer cannot produce. A table needs: a name
 * unique in the workbook (tables and defined names share one namespace), column names equal to the header cells
 * and unique ignoring case, and a ref covering the header and at least one data row.
 */
import { columnLetter, escapeXmlText } from './cell-xml.js';
import { truncateUtf16 } from './sheet-names.js';

const MAX_TABLE_NAME_LENGTH = 255;
const MAX_COLUMN_NAME_LENGTH = 255;

/** Names that share Excel's workbook namespace: table names and defined names. */
export interface WorkbookNameRegistry {
  /** A valid table name derived from `wanted`, unique in the workbook; the name is taken. */
  takeTableName(wanted: string): string;
  /** Takes a defined name exactly as given; false when it is already taken (ignoring case). */
  tryTakeExact(name: string): boolean;
}

/** Creates an empty name registry. One per workbook. */
export function createWorkbookNameRegistry(): WorkbookNameRegistry {
  const taken = new Set<string>();
  const key = (name: string): string => name.toLocaleUpperCase('en-US');
  return {
    takeTableName(wanted) {
      const base = toTableName(wanted);
      let candidate = base;
      for (let n = 2; taken.has(key(candidate)); n += 1) {
        const suffix = `_${n}`;
        candidate = truncateUtf16(base, MAX_TABLE_NAME_LENGTH - suffix.length) + suffix;
      }
      taken.add(key(candidate));
      return candidate;
    },
    tryTakeExact(name) {
      if (taken.has(key(name))) return false;
      taken.add(key(name));
      return true;
    },
  };
}

/**
 * A valid Excel table name for `wanted`: letters, digits, `_` and `.`, starting with a letter or `_`, not a cell
 * reference (`AB12`, `R1C1`, `R`, `C`), at most 255 characters.
 */
export function toTableName(wanted: string): string {
  let name = wanted
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}_.]+/gu, '_')
    .replace(/^_+|_+$/g, '');
  if (name === '') name = 'Table';
  if (!/^[\p{L}_]/u.test(name) || looksLikeCellReference(name)) name = `_${name}`;
  return truncateUtf16(name, MAX_TABLE_NAME_LENGTH);
}

function looksLikeCellReference(name: string): boolean {
  return /^[A-Za-z]{1,3}\d+$/.test(name) || /^[RrCc]$/.test(name) || /^[Rr]\d*[Cc]\d*$/.test(name);
}

/**
 * Header texts usable as table column names: line breaks and control characters become spaces, blanks become
 * `Column N`, and repeats (ignoring case) get ` (2)`, ` (3)`. The header cells must be written with these texts.
 */
export function toTableColumnNames(headers: readonly string[]): string[] {
  const seen = new Set<string>();
  return headers.map((header, index) => {
    // eslint-disable-next-line no-control-regex -- control characters are exactly what this pattern is about
    const cleaned = truncateUtf16(header.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim(), MAX_COLUMN_NAME_LENGTH - 8);
    const base = cleaned === '' ? `Column ${index + 1}` : cleaned;
    let candidate = base;
    for (let n = 2; seen.has(candidate.toLocaleUpperCase('en-US')); n += 1) candidate = `${base} (${n})`;
    seen.add(candidate.toLocaleUpperCase('en-US'));
    return candidate;
  });
}

export interface TablePartInput {
  /** Workbook-wide table id (1-based); also the part number in `xl/tables/table{id}.xml`. */
  readonly id: number;
  readonly name: string;
  /** 1-based row of the header; the table starts in column A. */
  readonly headerRow: number;
  /** Number of data rows (0 is allowed: the table then covers one empty row, as Excel requires). */
  readonly dataRows: number;
  /** Column names from {@link toTableColumnNames}. */
  readonly columnNames: readonly string[];
  readonly styleName?: string;
}

/** The table's cell range, e.g. `A1:O1001`. */
export function tableRef(input: Pick<TablePartInput, 'headerRow' | 'dataRows' | 'columnNames'>): string {
  const lastRow = input.headerRow + Math.max(1, input.dataRows);
  return `A${input.headerRow}:${columnLetter(input.columnNames.length - 1)}${lastRow}`;
}

/** The XML of `xl/tables/table{id}.xml`. */
export function renderTablePartXml(input: TablePartInput): string {
  const ref = tableRef(input);
  const name = escapeXmlText(input.name);
  const columns = input.columnNames
    .map((columnName, i) => `<tableColumn id="${i + 1}" name="${escapeXmlText(columnName)}"/>`)
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    `<table xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" id="${input.id}" name="${name}"` +
    ` displayName="${name}" ref="${ref}" headerRowCount="1" totalsRowShown="0">` +
    `<autoFilter ref="${ref}"/>` +
    `<tableColumns count="${input.columnNames.length}">${columns}</tableColumns>` +
    `<tableStyleInfo name="${input.styleName ?? 'TableStyleMedium2'}" showFirstColumn="0" showLastColumn="0"` +
    ' showRowStripes="1" showColumnStripes="0"/>' +
    '</table>'
  );
}
