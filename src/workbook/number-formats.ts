/** Excel number formats for the workbook's column types and cell formats. */
import type { CellFormat } from '../shared/sheet-spec.js';
import type { ColumnSpec } from '../shared/table.js';

export const DATE_FORMAT = 'yyyy-mm-dd';
export const DATETIME_FORMAT = 'yyyy-mm-dd hh:mm';
export const INTEGER_FORMAT = '#,##0';
export const NUMBER_FORMAT = '#,##0.00';
export const PERCENT_FORMAT = '0.0%';
/** Whole days, with no unit: the header or the Unit column says "days" in the workbook's language. */
export const DAYS_FORMAT = '#,##0';
/** A month, e.g. `Nov 2026`: Excel writes the month name in each reader's own language. */
export const MONTH_FORMAT = 'mmm yyyy';

// Symbols for the common ISO codes; any other code is shown as a prefix ("CHF 1,234.00").
const CURRENCY_SYMBOLS: Readonly<Record<string, string>> = {
  USD: '$',
  EUR: '€',
  GBP: '£',
  JPY: '¥',
  CNY: '¥',
  INR: '₹',
  KRW: '₩',
  BRL: 'R$',
  AUD: 'A$',
  CAD: 'C$',
};

/**
 * A currency format with `currency` (a symbol such as `€`, or an ISO code such as `EUR`) before the amount, in whole
 * units (`"$"#,##0`, what Tableau shows for whole amounts) or with cents (`"$"#,##0.00`).
 */
export function currencyFormat(currency = '$', decimals: 0 | 2 = 0): string {
  const code = currency.trim().toUpperCase();
  const symbol = CURRENCY_SYMBOLS[code] ?? (/^[A-Z]{3}$/.test(code) ? `${code} ` : currency.trim());
  return `"${symbol.replace(/"/g, '')}"#,##0${decimals === 2 ? '.00' : ''}`;
}

/** The number format for a SheetSpec cell format (undefined = General). */
export function formatForCellFormat(
  format: CellFormat,
  currency?: string,
  currencyDecimals: 0 | 2 = 0,
): string | undefined {
  switch (format) {
    case 'integer':
      return INTEGER_FORMAT;
    case 'number':
      return NUMBER_FORMAT;
    case 'currency':
      return currencyFormat(currency, currencyDecimals);
    case 'percent':
      return PERCENT_FORMAT;
    case 'days':
      return DAYS_FORMAT;
    case 'date':
      return DATE_FORMAT;
    case 'month':
      return MONTH_FORMAT;
    case 'datetime':
      return DATETIME_FORMAT;
    case 'text':
    case 'boolean':
      return undefined;
  }
}

/** The number format for a data column: its own, or a date format for date columns so dates never show as serials. */
export function formatForColumn(column: ColumnSpec): string | undefined {
  if (column.numFmt !== undefined && column.numFmt !== '') return column.numFmt;
  if (column.type === 'date') return DATE_FORMAT;
  if (column.type === 'datetime') return DATETIME_FORMAT;
  return undefined;
}
