/** Column widths (in Excel's character units) estimated from the header, the type and a sample of values. */
import type { CellValue } from '../shared/table.js';

export type WidthKind =
  'text' | 'integer' | 'number' | 'currency' | 'percent' | 'days' | 'date' | 'datetime' | 'boolean';

const MIN_WIDTH = 8;
const MAX_WIDTH = 60;
// Room for the table's filter button next to the header text.
const FILTER_BUTTON = 3;

/** Width for one column: the widest of the header (plus the filter button) and the sampled values as shown. */
export function estimateColumnWidth(header: string, kind: WidthKind, sample: Iterable<CellValue | undefined>): number {
  let widest = header.length + FILTER_BUTTON;
  for (const value of sample) {
    widest = Math.max(widest, shownLength(value, kind) + 1);
  }
  return Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Math.ceil(widest)));
}

function shownLength(value: CellValue | undefined, kind: WidthKind): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'string') return longestLine(value);
  if (typeof value === 'boolean') return 5;
  if (value instanceof Date) return kind === 'datetime' ? 16 : 10;
  if (!Number.isFinite(value)) return 0;
  const digits = String(Math.trunc(Math.abs(value))).length;
  const grouped = digits + Math.floor((digits - 1) / 3) + (value < 0 ? 1 : 0);
  switch (kind) {
    case 'integer':
      return grouped;
    case 'currency':
      return grouped + 5; // symbol + decimals
    case 'percent':
      return String(Math.trunc(Math.abs(value * 100))).length + 4;
    case 'days':
      return grouped + 7;
    case 'date':
      return 10;
    case 'datetime':
      return 16;
    default:
      return Math.min(String(value).length, grouped + 3);
  }
}

function longestLine(text: string): number {
  if (!text.includes('\n')) return text.length;
  return Math.max(...text.split('\n').map((line) => line.length));
}
