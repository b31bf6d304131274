/**
 * What a sheet writes after its rows: the elements of `<worksheet>` that follow `<sheetData>` and the parts the
 * sheet refers to. This is the seam where sheet features plug in: each fills its own field of {@link SheetTrailer},
 * and {@link closeSheet} writes every field at its position in CT_Worksheet's sequence (ECMA-376 Part 1, 18.3.1.99;
 * Excel rejects elements out of order). A new feature is one more field, its part registered in `package-parts.ts`,
 * and, when it refers to a part, its entry in `relatedParts` in schema order (`<drawing>` before `<tableParts>`).
 */
import type { ChartPartInput } from './charts/chart-part.js';
import type { ChartAnchor } from './charts/drawing-part.js';
import { escapeXmlText } from './cell-xml.js';
import { commitWorksheet } from './exceljs-internals.js';
import type { OpenSheet } from './open-sheet.js';
import type { PackageParts } from './package-parts.js';

const TABLE_REL_TYPE = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/table';
const DRAWING_REL_TYPE = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing';

/** An Excel table over the sheet, starting in column A. */
export interface SheetTable {
  readonly name: string;
  /** 1-based row of the header. */
  readonly headerRow: number;
  readonly dataRows: number;
  readonly columnNames: readonly string[];
}

export interface SheetTrailer {
  /** `<conditionalFormatting>` elements, already rendered. */
  conditionalFormatting?: string;
  /** The `<mergeCells>` element, already rendered (see {@link renderMergeCellsXml}). */
  mergeCells?: string;
  /** Links from cells to places in the workbook (see {@link renderHyperlinksXml}). */
  hyperlinks?: string;
  /** A native chart, drawn at its anchor. */
  chart?: { readonly part: ChartPartInput; readonly anchor: ChartAnchor };
  table?: SheetTable;
}

/** Commits a sheet, adding its trailer's elements at their schema positions and its parts to the package. */
export function closeSheet(sheet: OpenSheet, trailer: SheetTrailer, parts: PackageParts): void {
  const related = relatedParts(trailer, parts);
  commitWorksheet(sheet.internals, {
    mergeCells: trailer.mergeCells,
    conditionalFormatting: trailer.conditionalFormatting,
    hyperlinks: trailer.hyperlinks,
    closing:
      related.length === 0
        ? undefined
        : (addRelationship) => related.map((part) => part.render(addRelationship(part.type, part.target))).join(''),
  });
}

/** The `<mergeCells>` element for ranges such as `A5:F5`. */
export function renderMergeCellsXml(refs: readonly string[]): string {
  return `<mergeCells count="${refs.length}">${refs.map((ref) => `<mergeCell ref="${ref}"/>`).join('')}</mergeCells>`;
}

/**
 * The `<hyperlinks>` element for links inside the workbook: `location` is a quoted reference such as `'About'!A1`
 * (no relationship needed, unlike a link to a URL).
 */
export function renderHyperlinksXml(links: readonly { ref: string; location: string; display: string }[]): string {
  const items = links.map(
    (l) => `<hyperlink ref="${l.ref}" location="${escapeXmlText(l.location)}" display="${escapeXmlText(l.display)}"/>`,
  );
  return `<hyperlinks>${items.join('')}</hyperlinks>`;
}

/** A part the sheet refers to through a relationship, and the element of `<worksheet>` that refers to it. */
interface RelatedPart {
  readonly type: string;
  /** Path relative to the worksheet. */
  readonly target: string;
  render(relId: string): string;
}

/** The trailer's parts, added to the package, in the schema order of the elements that refer to them. */
function relatedParts(trailer: SheetTrailer, parts: PackageParts): RelatedPart[] {
  const related: RelatedPart[] = [];
  const chart = trailer.chart;
  if (chart !== undefined) {
    related.push({
      type: DRAWING_REL_TYPE,
      target: parts.addChartDrawing(chart.part, chart.anchor),
      // <drawing> follows <headerFooter> (written by exceljs) and precedes <tableParts>.
      render: (relId) => `<drawing r:id="${relId}"/>`,
    });
  }
  if (trailer.table !== undefined) {
    related.push({
      type: TABLE_REL_TYPE,
      target: parts.addTablePart(trailer.table),
      // <tableParts> is the last child of <worksheet> before <extLst>; exceljs writes no extLst here.
      render: (relId) => `<tableParts count="1"><tablePart r:id="${relId}"/></tableParts>`,
    });
  }
  return related;
}
