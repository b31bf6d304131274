/**
 * `xl/drawings/drawingN.xml`: where a sheet's chart sits (ECMA-376 Part 1, 20.5). One `xdr:twoCellAnchor` per chart,
 * from a cell to a cell, holding a graphic frame that points at the chart part through the drawing's relationships.
 * CT_TwoCellAnchor: from, to, graphicFrame, clientData; CT_GraphicalObjectFrame: nvGraphicFramePr, xfrm, graphic.
 */
import { escapeXmlText } from '../cell-xml.js';

const NS_XDR = 'http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing';
const NS_A = 'http://schemas.openxmlformats.org/drawingml/2006/main';
const NS_C = 'http://schemas.openxmlformats.org/drawingml/2006/chart';
const NS_R = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
export const CHART_REL_TYPE = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart';

/** The cells a chart covers: 0-based column and row of its top-left corner, and of the cell just past its end. */
export interface ChartAnchor {
  readonly fromColumn: number;
  readonly fromRow: number;
  readonly toColumn: number;
  readonly toRow: number;
}

/**
 * The drawing part holding one chart. `chartRelId` is the id of the drawing's relationship to the chart part;
 * `description` is the chart's alternative text (screen readers, and Excel's "Alt Text").
 */
export function renderDrawingXml(anchor: ChartAnchor, chartRelId: string, description: string): string {
  const cell = (tag: 'from' | 'to', column: number, row: number): string =>
    `<xdr:${tag}><xdr:col>${column}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>${row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:${tag}>`;
  const alt = escapeXmlText(description);
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    `<xdr:wsDr xmlns:xdr="${NS_XDR}" xmlns:a="${NS_A}">` +
    '<xdr:twoCellAnchor>' +
    cell('from', anchor.fromColumn, anchor.fromRow) +
    cell('to', anchor.toColumn, anchor.toRow) +
    '<xdr:graphicFrame macro="">' +
    `<xdr:nvGraphicFramePr><xdr:cNvPr id="2" name="Chart 1" descr="${alt}"/><xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>` +
    '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>' +
    `<a:graphic><a:graphicData uri="${NS_C}"><c:chart xmlns:c="${NS_C}" xmlns:r="${NS_R}" r:id="${chartRelId}"/></a:graphicData></a:graphic>` +
    '</xdr:graphicFrame>' +
    '<xdr:clientData/>' +
    '</xdr:twoCellAnchor>' +
    '</xdr:wsDr>'
  );
}

/** `xl/drawings/_rels/drawingN.xml.rels`: the drawing's one relationship, to its chart. */
export function renderDrawingRelsXml(chartRelId: string, chartTarget: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
    `<Relationship Id="${chartRelId}" Type="${CHART_REL_TYPE}" Target="${chartTarget}"/>` +
    '</Relationships>'
  );
}
