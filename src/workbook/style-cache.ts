/**
 * The workbook's cell styles, by what they show. exceljs caches a style's `s` index by object identity, so each
 * distinct style is one frozen object, registered once under a key; ids are handed out in order of first use.
 */
import type ExcelJS from 'exceljs';
import type { SheetColumn } from '../shared/sheet-spec.js';
import { EXCELJS_DATE_CELL_TYPE, type WorkbookInternals } from './exceljs-internals.js';

export interface StyleCache {
  /** The style of a number format (0 for none: General). `isDate` lets exceljs treat it as a date format. */
  numFmt(numFmt: string | undefined, isDate: boolean): number;
  /**
   * White bold text on the theme's accent colour: what the tables' TableStyleMedium2 shows for headers in Excel,
   * written as a cell style so that readers without table styles (LibreOffice, PDF, previews) show it too, and so
   * the header font colour cannot be read as an override of the table style's white.
   */
  header(wrap?: boolean): number;
  /**
   * A spec-sheet cell style: number format plus the column's alignment and wrapping (one cached style per mix).
   * Top-aligned, so a row made taller by wrapped text still reads across as one line. `bold` for key lines.
   */
  specCell(numFmt: string | undefined, isDate: boolean, column: SheetColumn, bold?: boolean): number;
  /** A spec sheet's title: bold, 14 pt, wrapped (it spans the printed width). */
  title(): number;
  /** A spec sheet's subtitle (the period it covers): 11 pt, wrapped, top-aligned. */
  subtitle(): number;
  /** A spec sheet's notes: italic, wrapped, top-aligned. */
  note(): number;
  /** A link to another sheet: the theme's hyperlink colour, underlined, top-aligned like the cells around it. */
  link(): number;
  /** The differential format (dxf id) of a negative number shown in red by a conditional format. */
  negativeRedDxf(): number;
}

/** Creates an empty cache over the workbook's styles. One per workbook. */
export function createStyleCache(styles: WorkbookInternals['styles']): StyleCache {
  const ids = new Map<string, number>();
  let negativeRed: number | undefined;
  const styleId = (key: string, style: object, cellType?: number): number => {
    const cached = ids.get(key);
    if (cached !== undefined) return cached;
    const id = styles.addStyleModel(Object.freeze(style), cellType);
    ids.set(key, id);
    return id;
  };
  return {
    numFmt: (numFmt, isDate) =>
      numFmt === undefined ? 0 : styleId(`fmt:${numFmt}`, { numFmt }, isDate ? EXCELJS_DATE_CELL_TYPE : undefined),
    header: (wrap = false) =>
      styleId(wrap ? 'header:wrap' : 'header', {
        font: font({ bold: true, color: { theme: 0 } }),
        fill: { type: 'pattern', pattern: 'solid', fgColor: { theme: 4 } },
        alignment: wrap ? { vertical: 'bottom', wrapText: true } : { vertical: 'middle' },
      }),
    specCell(numFmt, isDate, column, bold = false) {
      const wrap = column.wrap === true;
      const alignment: Partial<ExcelJS.Alignment> = {
        vertical: 'top',
        ...(wrap ? { wrapText: true } : {}),
        ...(column.align === undefined ? {} : { horizontal: column.align }),
        ...(column.indent === undefined ? {} : { indent: column.indent }),
      };
      return styleId(
        `cell:${numFmt ?? ''}|${column.align ?? ''}|${wrap}|${bold}|${column.indent ?? 0}`,
        { ...(numFmt === undefined ? {} : { numFmt }), alignment, ...(bold ? { font: font({ bold: true }) } : {}) },
        isDate ? EXCELJS_DATE_CELL_TYPE : undefined,
      );
    },
    title: () =>
      styleId('title', {
        font: font({ bold: true, size: 14 }),
        alignment: { wrapText: true, vertical: 'top' },
      }),
    subtitle: () => styleId('subtitle', { font: font({}), alignment: { wrapText: true, vertical: 'top' } }),
    link: () =>
      styleId('link', {
        font: font({ underline: true, color: { theme: 10 } }),
        alignment: { vertical: 'top' },
      }),
    negativeRedDxf() {
      // Dark red text: Excel's "Light red fill with dark red text" preset without the fill, readable when printed.
      negativeRed ??= styles.addDxfStyle({ font: { color: { argb: 'FF9C0006' } } });
      return negativeRed;
    },
    note: () =>
      styleId('note', {
        font: font({ italic: true }),
        alignment: { wrapText: true, vertical: 'top' },
      }),
  };
}

/** A complete font: a `<font>` with only `<b/>` leaves size and face to the reader's guess. */
function font(overrides: Partial<ExcelJS.Font>): Partial<ExcelJS.Font> {
  return { name: 'Calibri', family: 2, scheme: 'minor', size: 11, color: { theme: 1 }, ...overrides };
}
