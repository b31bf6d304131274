/** The final order of the workbook's tabs, chosen by name once every sheet is written. */
import { WorkbookError } from '../shared/errors.js';

/**
 * Throws WORKBOOK_UNKNOWN_SHEET naming every entry of `order` that is not one of `known` (the final sheet names of
 * the workbook at `filePath`).
 */
export function checkTabOrder(order: readonly string[], known: ReadonlySet<string>, filePath: string): void {
  const unknown = order.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new WorkbookError(
      'WORKBOOK_UNKNOWN_SHEET',
      `cannot order tabs: no sheet named ${unknown.map((n) => `'${n}'`).join(', ')} in '${filePath}'; sheets are ${[...known].map((n) => `'${n}'`).join(', ')}`,
      { hint: 'use the final names returned by addDataSheet/addSpecSheet' },
    );
  }
}

/** The sheets with the listed ones first, in the given order, and the rest after them in their current order. */
export function orderTabs<T extends { readonly name: string }>(present: readonly T[], order: readonly string[]): T[] {
  const listed = order.map((name) => present.find((ws) => ws.name === name)).filter((ws): ws is T => ws !== undefined);
  const rest = present.filter((ws) => !listed.includes(ws));
  return [...listed, ...rest];
}
