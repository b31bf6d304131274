/**
 * The package parts exceljs's streaming writer does not know: table parts, drawings and their charts, and the
 * `[Content_Types].xml` that must list them (without an entry Excel reports the file as corrupt).
 */
import { renderChartXml, type ChartPartInput } from './charts/chart-part.js';
import { renderDrawingRelsXml, renderDrawingXml, type ChartAnchor } from './charts/drawing-part.js';
import { replaceContentTypes, type WorkbookInternals } from './exceljs-internals.js';
import { renderTablePartXml, type TablePartInput } from './table-part.js';

export interface PackageParts {
  /** Adds `xl/tables/table{id}.xml` for a table (the next id) and returns its path relative to a worksheet. */
  addTablePart(table: Omit<TablePartInput, 'id'>): string;
  /**
   * Adds `xl/charts/chart{id}.xml` and the drawing `xl/drawings/drawing{id}.xml` that places it at `anchor` (with the
   * drawing's relationships), and returns the drawing's path relative to a worksheet.
   */
  addChartDrawing(chart: ChartPartInput, anchor: ChartAnchor): string;
}

const CHART_REL_ID = 'rId1';

/** Creates the registry and makes exceljs write our `[Content_Types].xml`. One per workbook. */
export function createPackageParts(internals: WorkbookInternals): PackageParts {
  const tableIds: number[] = [];
  const chartIds: number[] = [];
  // exceljs's [Content_Types].xml has no entry for table, drawing or chart parts; without one Excel reports the
  // file as corrupt.
  replaceContentTypes(internals, (sheetIds) => renderContentTypesXml(sheetIds, tableIds, chartIds));
  return {
    addTablePart(table) {
      const id = tableIds.length + 1;
      tableIds.push(id);
      internals.zip.append(renderTablePartXml({ id, ...table }), { name: `xl/tables/table${id}.xml` });
      return `../tables/table${id}.xml`;
    },
    addChartDrawing(chart, anchor) {
      // One chart per drawing, so a drawing and its chart share their number.
      const id = chartIds.length + 1;
      chartIds.push(id);
      internals.zip.append(renderChartXml(chart), { name: `xl/charts/chart${id}.xml` });
      internals.zip.append(renderDrawingXml(anchor, CHART_REL_ID, chart.title), {
        name: `xl/drawings/drawing${id}.xml`,
      });
      internals.zip.append(renderDrawingRelsXml(CHART_REL_ID, `../charts/chart${id}.xml`), {
        name: `xl/drawings/_rels/drawing${id}.xml.rels`,
      });
      return `../drawings/drawing${id}.xml`;
    },
  };
}

function renderContentTypesXml(
  sheetIds: readonly number[],
  tableIds: readonly number[],
  chartIds: readonly number[],
): string {
  const override = (part: string, type: string): string =>
    `<Override PartName="${part}" ContentType="application/vnd.openxmlformats-${type}"/>`;
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
    '<Default Extension="xml" ContentType="application/xml"/>' +
    override('/xl/workbook.xml', 'officedocument.spreadsheetml.sheet.main+xml') +
    sheetIds
      .map((id) => override(`/xl/worksheets/sheet${id}.xml`, 'officedocument.spreadsheetml.worksheet+xml'))
      .join('') +
    override('/xl/theme/theme1.xml', 'officedocument.theme+xml') +
    override('/xl/styles.xml', 'officedocument.spreadsheetml.styles+xml') +
    tableIds.map((id) => override(`/xl/tables/table${id}.xml`, 'officedocument.spreadsheetml.table+xml')).join('') +
    chartIds
      .map(
        (id) =>
          override(`/xl/drawings/drawing${id}.xml`, 'officedocument.drawing+xml') +
          override(`/xl/charts/chart${id}.xml`, 'officedocument.drawingml.chart+xml'),
      )
      .join('') +
    override('/docProps/core.xml', 'package.core-properties+xml') +
    override('/docProps/app.xml', 'officedocument.extended-properties+xml') +
    '</Types>'
  );
}
