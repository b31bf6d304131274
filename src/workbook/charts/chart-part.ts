/**
 * `xl/charts/chartN.xml`: one native chart as DrawingML (`c:chartSpace`, ECMA-376 Part 1, 21.2), written as strings
 * like the row XML. Excel refuses (or "repairs") a chart whose elements are out of their schema sequence, so every
 * function below writes its element's children in the order of its complex type, noted on each:
 *
 * - CT_ChartSpace: date1904, roundedCorners, chart, spPr, txPr
 * - CT_Chart: title, autoTitleDeleted, plotArea, legend, plotVisOnly, dispBlanksAs
 * - CT_PlotArea: layout, (barChart | lineChart)+, (catAx | valAx)+
 * - CT_BarChart: barDir, grouping, varyColors, ser*, dLbls, gapWidth, overlap, axId, axId
 * - CT_LineChart: grouping, varyColors, ser*, marker, axId, axId
 * - CT_BarSer: idx, order, tx, spPr, invertIfNegative, dLbls, cat, val
 * - CT_LineSer: idx, order, tx, spPr, marker, cat, val, smooth
 * - CT_CatAx: axId, scaling, delete, axPos, title, numFmt, majorTickMark, minorTickMark, tickLblPos, spPr, txPr,
 *   crossAx, crosses, auto, lblAlgn, lblOffset, noMultiLvlLbl
 * - CT_ValAx: axId, scaling, delete, axPos, majorGridlines, title, numFmt, majorTickMark, minorTickMark, tickLblPos,
 *   spPr, txPr, crossAx, crosses, crossBetween
 *
 * Each axis names the axis it crosses (`crossAx`), and the two pairs (primary, secondary) are distinct ids. Series
 * reference the sheet's cells (`c:f`) and carry a cache of their values, which is what readers show before they
 * recalculate (and all that a viewer without a calculation engine ever shows).
 */
import { escapeXmlText } from '../cell-xml.js';

const NS_C = 'http://schemas.openxmlformats.org/drawingml/2006/chart';
const NS_A = 'http://schemas.openxmlformats.org/drawingml/2006/main';
const NS_R = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

// Axis ids: any unsigned integers unique within the chart.
const PRIMARY_CAT = 500_000_001;
const PRIMARY_VAL = 500_000_002;
const SECONDARY_CAT = 500_000_003;
const SECONDARY_VAL = 500_000_004;

// Office's default accent colours, in order, so a chart reads the same in Excel, LibreOffice and a PDF.
const PALETTE = ['4472C4', 'ED7D31', 'A5A5A5', 'FFC000', '5B9BD5', '70AD47', '264478', '9E480E'] as const;
const GRID_COLOR = 'D9D9D9';
const AXIS_COLOR = 'BFBFBF';
const TEXT_COLOR = '404040';

/** Cells and their cached values: numbers (with the cells' format) or text. A blank or non-numeric cell is null. */
export type ChartCache =
  | { readonly kind: 'number'; readonly formatCode: string; readonly values: readonly (number | null)[] }
  | { readonly kind: 'text'; readonly values: readonly (string | null)[] };

export interface ChartRange {
  /** An absolute reference with its quoted sheet, e.g. `'Monthly revenue'!$C$25:$C$37`. */
  readonly ref: string;
  readonly cache: ChartCache;
}

export interface ChartPartSeries {
  /** The header cell naming the series, and its text. */
  readonly name: { readonly ref: string; readonly text: string };
  readonly values: ChartRange & { readonly cache: Extract<ChartCache, { kind: 'number' }> };
  readonly plot: 'bar' | 'line';
  readonly axis: 'primary' | 'secondary';
  readonly markersOnly: boolean;
  readonly dashed: boolean;
}

export interface ChartAxis {
  readonly title: string;
  /** The number format of the axis labels: the cells', linked to them (`sourceLinked`). */
  readonly formatCode: string;
}

export interface ChartPartInput {
  readonly title: string;
  readonly categories: ChartRange;
  readonly series: readonly ChartPartSeries[];
  readonly barDirection: 'bar' | 'column';
  readonly stacked: boolean;
  readonly dataLabels: boolean;
  readonly categoryAxis: { readonly title: string; readonly formatCode: string | undefined };
  readonly valueAxis: ChartAxis;
  readonly secondaryAxis: ChartAxis | undefined;
}

/** The XML of `xl/charts/chartN.xml`. The caller checks that some series has a number to draw. */
export function renderChartXml(input: ChartPartInput): string {
  const bars = input.series.filter((s) => s.plot === 'bar');
  const lines = input.series.filter((s) => s.plot === 'line');
  const secondary = input.series.some((s) => s.axis === 'secondary');
  const groups: string[] = [];
  // One chart group per plot type and axis pair: Excel draws the bars first, lines over them.
  const barsOn = (axis: 'primary' | 'secondary'): ChartPartSeries[] => bars.filter((s) => s.axis === axis);
  const linesOn = (axis: 'primary' | 'secondary'): ChartPartSeries[] => lines.filter((s) => s.axis === axis);
  if (barsOn('primary').length > 0) groups.push(renderBarChart(input, barsOn('primary'), 'primary'));
  if (linesOn('primary').length > 0) groups.push(renderLineChart(input, linesOn('primary'), 'primary'));
  if (barsOn('secondary').length > 0) groups.push(renderBarChart(input, barsOn('secondary'), 'secondary'));
  if (linesOn('secondary').length > 0) groups.push(renderLineChart(input, linesOn('secondary'), 'secondary'));
  const axes = renderPrimaryAxes(input) + (secondary ? renderSecondaryAxes(input) : '');
  const legend =
    input.series.length > 1
      ? `<c:legend><c:legendPos val="b"/><c:overlay val="0"/>${textProperties(900)}</c:legend>`
      : '';
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    `<c:chartSpace xmlns:c="${NS_C}" xmlns:a="${NS_A}" xmlns:r="${NS_R}">` +
    '<c:date1904 val="0"/><c:roundedCorners val="0"/>' +
    '<c:chart>' +
    renderTitle(input.title, 1400, true) +
    '<c:autoTitleDeleted val="0"/>' +
    `<c:plotArea><c:layout/>${groups.join('')}${axes}</c:plotArea>` +
    legend +
    // Only the rows a filter leaves visible are drawn, so the chart follows the table's filter.
    '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/>' +
    '</c:chart>' +
    '<c:spPr><a:solidFill><a:srgbClr val="FFFFFF"/></a:solidFill><a:ln><a:noFill/></a:ln></c:spPr>' +
    textProperties(1000) +
    '</c:chartSpace>'
  );
}

function axisIds(axis: 'primary' | 'secondary'): string {
  return axis === 'primary'
    ? `<c:axId val="${PRIMARY_CAT}"/><c:axId val="${PRIMARY_VAL}"/>`
    : `<c:axId val="${SECONDARY_CAT}"/><c:axId val="${SECONDARY_VAL}"/>`;
}

/** CT_BarChart. */
function renderBarChart(
  input: ChartPartInput,
  series: readonly ChartPartSeries[],
  axis: 'primary' | 'secondary',
): string {
  const stacked = input.stacked && series.length > 1;
  return (
    '<c:barChart>' +
    `<c:barDir val="${input.barDirection === 'bar' ? 'bar' : 'col'}"/>` +
    `<c:grouping val="${stacked ? 'stacked' : 'clustered'}"/>` +
    '<c:varyColors val="0"/>' +
    series.map((s) => renderBarSeries(input, s)).join('') +
    (input.dataLabels ? dataLabels(series[0]?.values.cache.formatCode) : '') +
    `<c:gapWidth val="${stacked ? 50 : 80}"/>` +
    (stacked ? '<c:overlap val="100"/>' : '') +
    axisIds(axis) +
    '</c:barChart>'
  );
}

/** CT_LineChart. */
function renderLineChart(
  input: ChartPartInput,
  series: readonly ChartPartSeries[],
  axis: 'primary' | 'secondary',
): string {
  return (
    '<c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>' +
    series.map((s) => renderLineSeries(input, s)).join('') +
    '<c:marker val="1"/>' +
    axisIds(axis) +
    '</c:lineChart>'
  );
}

function colorOf(input: ChartPartInput, s: ChartPartSeries): string {
  return PALETTE[input.series.indexOf(s) % PALETTE.length] ?? PALETTE[0];
}

/** CT_BarSer. */
function renderBarSeries(input: ChartPartInput, s: ChartPartSeries): string {
  const index = input.series.indexOf(s);
  return (
    `<c:ser><c:idx val="${index}"/><c:order val="${index}"/>` +
    seriesName(s) +
    `<c:spPr><a:solidFill><a:srgbClr val="${colorOf(input, s)}"/></a:solidFill><a:ln><a:noFill/></a:ln></c:spPr>` +
    '<c:invertIfNegative val="0"/>' +
    categoryData(input.categories) +
    valueData(s) +
    '</c:ser>'
  );
}

/** CT_LineSer. */
function renderLineSeries(input: ChartPartInput, s: ChartPartSeries): string {
  const index = input.series.indexOf(s);
  const color = colorOf(input, s);
  const line = s.markersOnly
    ? '<a:ln><a:noFill/></a:ln>'
    : `<a:ln w="28575" cap="rnd"><a:solidFill><a:srgbClr val="${color}"/></a:solidFill>${s.dashed ? '<a:prstDash val="dash"/>' : ''}<a:round/></a:ln>`;
  // CT_Marker: symbol, size, spPr.
  const marker = s.markersOnly
    ? `<c:marker><c:symbol val="circle"/><c:size val="8"/><c:spPr><a:solidFill><a:srgbClr val="${color}"/></a:solidFill><a:ln w="9525"><a:solidFill><a:srgbClr val="FFFFFF"/></a:solidFill></a:ln></c:spPr></c:marker>`
    : '<c:marker><c:symbol val="none"/></c:marker>';
  return (
    `<c:ser><c:idx val="${index}"/><c:order val="${index}"/>` +
    seriesName(s) +
    `<c:spPr>${line}</c:spPr>` +
    marker +
    categoryData(input.categories) +
    valueData(s) +
    '<c:smooth val="0"/></c:ser>'
  );
}

/** CT_SerTx: the header cell that names the series. */
function seriesName(s: ChartPartSeries): string {
  return `<c:tx><c:strRef><c:f>${escapeXmlText(s.name.ref)}</c:f>${stringCache([s.name.text])}</c:strRef></c:tx>`;
}

/** CT_AxDataSource: a numRef for dates and numbers (formatted like the cells), else a strRef. */
function categoryData(categories: ChartRange): string {
  const f = `<c:f>${escapeXmlText(categories.ref)}</c:f>`;
  const { cache } = categories;
  return cache.kind === 'number'
    ? `<c:cat><c:numRef>${f}${numberCache(cache.formatCode, cache.values)}</c:numRef></c:cat>`
    : `<c:cat><c:strRef>${f}${stringCache(cache.values)}</c:strRef></c:cat>`;
}

/** CT_NumDataSource. */
function valueData(s: ChartPartSeries): string {
  const { cache } = s.values;
  return `<c:val><c:numRef><c:f>${escapeXmlText(s.values.ref)}</c:f>${numberCache(cache.formatCode, cache.values)}</c:numRef></c:val>`;
}

/** CT_NumData: formatCode, ptCount, pt*; a cell that holds no number is no point (a gap). */
function numberCache(formatCode: string, values: readonly (number | null)[]): string {
  const points = values
    .map((v, idx) => (v === null || !Number.isFinite(v) ? '' : `<c:pt idx="${idx}"><c:v>${v}</c:v></c:pt>`))
    .join('');
  return `<c:numCache><c:formatCode>${escapeXmlText(formatCode)}</c:formatCode><c:ptCount val="${values.length}"/>${points}</c:numCache>`;
}

/** CT_StrData: ptCount, pt*. */
function stringCache(values: readonly (string | null)[]): string {
  const points = values
    .map((v, idx) => (v === null ? '' : `<c:pt idx="${idx}"><c:v>${escapeXmlText(v)}</c:v></c:pt>`))
    .join('');
  return `<c:strCache><c:ptCount val="${values.length}"/>${points}</c:strCache>`;
}

/** CT_DLbls (group order: numFmt, spPr, txPr, dLblPos, showLegendKey … showBubbleSize). */
function dataLabels(formatCode: string | undefined): string {
  return (
    '<c:dLbls>' +
    (formatCode === undefined ? '' : `<c:numFmt formatCode="${escapeXmlText(formatCode)}" sourceLinked="1"/>`) +
    '<c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>' +
    textProperties(900) +
    '<c:dLblPos val="outEnd"/>' +
    '<c:showLegendKey val="0"/><c:showVal val="1"/><c:showCatName val="0"/><c:showSerName val="0"/>' +
    '<c:showPercent val="0"/><c:showBubbleSize val="0"/>' +
    '</c:dLbls>'
  );
}

/**
 * The category axis at the bottom (or the left for horizontal bars, first category at the top) and the value axis
 * crossing it; for horizontal bars with the first category on top, the value axis crosses at the last category, so
 * it stays at the bottom.
 */
function renderPrimaryAxes(input: ChartPartInput): string {
  const horizontal = input.barDirection === 'bar' && input.series.some((s) => s.plot === 'bar');
  const category =
    `<c:catAx><c:axId val="${PRIMARY_CAT}"/>` +
    `<c:scaling><c:orientation val="${horizontal ? 'maxMin' : 'minMax'}"/></c:scaling>` +
    '<c:delete val="0"/>' +
    `<c:axPos val="${horizontal ? 'l' : 'b'}"/>` +
    renderTitle(input.categoryAxis.title, 1000, false, horizontal) +
    (input.categoryAxis.formatCode === undefined
      ? ''
      : `<c:numFmt formatCode="${escapeXmlText(input.categoryAxis.formatCode)}" sourceLinked="1"/>`) +
    '<c:majorTickMark val="none"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>' +
    axisLine() +
    textProperties(900) +
    `<c:crossAx val="${PRIMARY_VAL}"/><c:crosses val="autoZero"/>` +
    // Categories stay evenly spaced text (stages, reps, weeks), never a time scale.
    '<c:auto val="0"/><c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/>' +
    '</c:catAx>';
  const value =
    `<c:valAx><c:axId val="${PRIMARY_VAL}"/>` +
    '<c:scaling><c:orientation val="minMax"/></c:scaling>' +
    '<c:delete val="0"/>' +
    `<c:axPos val="${horizontal ? 'b' : 'l'}"/>` +
    `<c:majorGridlines><c:spPr><a:ln w="9525"><a:solidFill><a:srgbClr val="${GRID_COLOR}"/></a:solidFill></a:ln></c:spPr></c:majorGridlines>` +
    renderTitle(input.valueAxis.title, 1000, false, !horizontal) +
    `<c:numFmt formatCode="${escapeXmlText(input.valueAxis.formatCode)}" sourceLinked="1"/>` +
    '<c:majorTickMark val="none"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>' +
    '<c:spPr><a:ln><a:noFill/></a:ln></c:spPr>' +
    textProperties(900) +
    `<c:crossAx val="${PRIMARY_CAT}"/><c:crosses val="${horizontal ? 'max' : 'autoZero'}"/>` +
    '<c:crossBetween val="between"/>' +
    '</c:valAx>';
  return category + value;
}

/** A hidden category axis for the secondary series and their value axis on the right. */
function renderSecondaryAxes(input: ChartPartInput): string {
  const axis = input.secondaryAxis;
  const category =
    `<c:catAx><c:axId val="${SECONDARY_CAT}"/>` +
    '<c:scaling><c:orientation val="minMax"/></c:scaling>' +
    '<c:delete val="1"/><c:axPos val="b"/>' +
    '<c:majorTickMark val="none"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>' +
    `<c:crossAx val="${SECONDARY_VAL}"/><c:crosses val="autoZero"/>` +
    '<c:auto val="0"/><c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/>' +
    '</c:catAx>';
  const value =
    `<c:valAx><c:axId val="${SECONDARY_VAL}"/>` +
    '<c:scaling><c:orientation val="minMax"/></c:scaling>' +
    '<c:delete val="0"/><c:axPos val="r"/>' +
    (axis === undefined ? '' : renderTitle(axis.title, 1000, false, true)) +
    (axis === undefined ? '' : `<c:numFmt formatCode="${escapeXmlText(axis.formatCode)}" sourceLinked="1"/>`) +
    '<c:majorTickMark val="none"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>' +
    '<c:spPr><a:ln><a:noFill/></a:ln></c:spPr>' +
    textProperties(900) +
    // The secondary value axis crosses its category axis at the far end: it is drawn on the right.
    `<c:crossAx val="${SECONDARY_CAT}"/><c:crosses val="max"/>` +
    '<c:crossBetween val="between"/>' +
    '</c:valAx>';
  return category + value;
}

function axisLine(): string {
  return `<c:spPr><a:ln w="9525"><a:solidFill><a:srgbClr val="${AXIS_COLOR}"/></a:solidFill></a:ln></c:spPr>`;
}

/** CT_Title with rich text (tx, overlay); `rotated` for the title of a vertical axis. */
function renderTitle(text: string, size: number, bold: boolean, rotated = false): string {
  const run = `<a:rPr sz="${size}" b="${bold ? 1 : 0}"><a:solidFill><a:srgbClr val="${TEXT_COLOR}"/></a:solidFill></a:rPr>`;
  return (
    '<c:title><c:tx><c:rich>' +
    `<a:bodyPr${rotated ? ' rot="-5400000" vert="horz"' : ''}/><a:lstStyle/>` +
    `<a:p><a:pPr><a:defRPr sz="${size}" b="${bold ? 1 : 0}"/></a:pPr><a:r>${run}<a:t>${escapeXmlText(text)}</a:t></a:r></a:p>` +
    '</c:rich></c:tx><c:overlay val="0"/></c:title>'
  );
}

/** CT_TextBody for labels: a default run size and colour. */
function textProperties(size: number): string {
  return (
    `<c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="${size}">` +
    `<a:solidFill><a:srgbClr val="${TEXT_COLOR}"/></a:solidFill></a:defRPr></a:pPr><a:endParaRPr lang="en-US"/></a:p></c:txPr>`
  );
}
