import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { SAFE_XML_PARSER_OPTIONS } from '../../shared/xml-entities.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as XLSX from 'xlsx';
import type { SheetSpec } from '../../shared/sheet-spec.js';
import { createWorkbookWriter } from '../workbook-writer.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'charts-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function zipParts(path: string): Promise<Map<string, string>> {
  const container = XLSX.CFB.read(await readFile(path), { type: 'buffer' }) as {
    FullPaths: string[];
    FileIndex: { type: number; content?: Uint8Array }[];
  };
  const parts = new Map<string, string>();
  container.FullPaths.forEach((fullPath, index) => {
    const entry = container.FileIndex[index];
    if (entry?.type === 2 && entry.content !== undefined) {
      parts.set(fullPath.replace(/^Root Entry\//, ''), Buffer.from(entry.content).toString('utf8'));
    }
  });
  return parts;
}

type Node = Record<string, unknown>;
const ordered = new XMLParser({
  ...SAFE_XML_PARSER_OPTIONS,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  preserveOrder: true,
});
// Attribute values as numbers where they are (axis ids, indexes, flags).
const plain = new XMLParser({
  ...SAFE_XML_PARSER_OPTIONS,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: true,
  isArray: (name) => ['c:ser', 'c:pt', 'c:catAx', 'c:valAx'].includes(name),
});

/** The child element names of the first element `name` found depth-first in a preserveOrder tree. */
function childrenOf(tree: Node[], name: string): string[] | undefined {
  for (const node of tree) {
    const key = Object.keys(node).find((k) => k !== ':@');
    if (key === undefined || key === '#text') continue;
    const kids = node[key] as Node[];
    if (key === name) return kids.map((k) => Object.keys(k).find((x) => x !== ':@') ?? '');
    const found = childrenOf(kids, name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** `names` appear in this order (others may be missing); no name outside the sequence. */
function expectSequence(actual: readonly string[] | undefined, sequence: readonly string[]): void {
  expect(actual).toBeDefined();
  const positions = (actual ?? []).map((n) => sequence.indexOf(n));
  expect(positions, `${(actual ?? []).join(',')}`).not.toContain(-1);
  expect([...positions].sort((a, b) => a - b)).toEqual(positions);
}

const months = Array.from({ length: 4 }, (_, i) => new Date(Date.UTC(2026, 8 + i, 1)));
const monthly: SheetSpec = {
  name: "Rep's revenue",
  title: 'Won revenue per month, Sep 2026 – Dec 2026',
  columns: [
    { header: 'Month', format: 'month' },
    { header: 'Revenue', format: 'currency' },
    { header: 'Growth', format: 'percent' },
  ],
  rows: months.map((m, i) => [m, 1000 * (i + 1), i === 0 ? 'n/a (no revenue in Aug 2026)' : -0.1 * i]),
  negativeRed: [2],
  chart: {
    title: 'Won revenue and growth',
    categoryColumn: 0,
    categoryAxisTitle: 'Month',
    valueAxisTitle: 'Won revenue',
    secondaryAxisTitle: 'Growth',
    series: [
      { column: 1, plot: 'bar', axis: 'primary' },
      { column: 2, plot: 'line', axis: 'secondary' },
    ],
    emptyNote: 'No won revenue yet.',
  },
};

describe('native charts', () => {
  it('writes a chart part, its drawing and their relationships and content types, schema-ordered', async () => {
    const filePath = join(dir, 'chart.xlsx');
    const writer = createWorkbookWriter({ filePath });
    await writer.addSpecSheet(monthly);
    await writer.commit();
    const parts = await zipParts(filePath);

    const types = parts.get('[Content_Types].xml') ?? '';
    expect(types).toContain(
      '<Override PartName="/xl/drawings/drawing1.xml" ContentType="application/vnd.openxmlformats-officedocument.drawing+xml"/>',
    );
    expect(types).toContain(
      '<Override PartName="/xl/charts/chart1.xml" ContentType="application/vnd.openxmlformats-officedocument.drawingml.chart+xml"/>',
    );
    const sheet = parts.get('xl/worksheets/sheet1.xml') ?? '';
    const sheetRels = parts.get('xl/worksheets/_rels/sheet1.xml.rels') ?? '';
    const drawingRel = /<Relationship Id="(rId\d+)" Type="[^"]+\/drawing" Target="..\/drawings\/drawing1.xml"\/>/.exec(
      sheetRels,
    );
    expect(drawingRel).not.toBeNull();
    expect(sheet).toContain(`<drawing r:id="${drawingRel?.[1]}"/><tableParts`);
    expect(parts.get('xl/drawings/_rels/drawing1.xml.rels')).toContain(
      'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart" Target="../charts/chart1.xml"',
    );

    // The drawing anchors the chart under the title, above the table, and names it for screen readers.
    const drawing = plain.parse(parts.get('xl/drawings/drawing1.xml') ?? '') as {
      'xdr:wsDr': { 'xdr:twoCellAnchor': { 'xdr:from': Node; 'xdr:to': Node; 'xdr:graphicFrame': Node } };
    };
    const anchor = drawing['xdr:wsDr']['xdr:twoCellAnchor'];
    expect(anchor['xdr:from']).toMatchObject({ 'xdr:col': 0, 'xdr:row': 2 });
    expect(anchor['xdr:to']).toMatchObject({ 'xdr:row': 22 });
    expect(JSON.stringify(anchor['xdr:graphicFrame'])).toContain('"descr":"Won revenue and growth"');
    expectSequence(
      childrenOf(ordered.parse(parts.get('xl/drawings/drawing1.xml') ?? '') as Node[], 'xdr:twoCellAnchor'),
      ['xdr:from', 'xdr:to', 'xdr:graphicFrame', 'xdr:clientData'],
    );

    const chartXml = parts.get('xl/charts/chart1.xml') ?? '';
    const tree = ordered.parse(chartXml) as Node[];
    expectSequence(childrenOf(tree, 'c:chartSpace'), ['c:date1904', 'c:roundedCorners', 'c:chart', 'c:spPr', 'c:txPr']);
    expectSequence(childrenOf(tree, 'c:chart'), [
      'c:title',
      'c:autoTitleDeleted',
      'c:plotArea',
      'c:legend',
      'c:plotVisOnly',
      'c:dispBlanksAs',
    ]);
    expect(childrenOf(tree, 'c:plotArea')).toEqual([
      'c:layout',
      'c:barChart',
      'c:lineChart',
      'c:catAx',
      'c:valAx',
      'c:catAx',
      'c:valAx',
    ]);
    expectSequence(childrenOf(tree, 'c:barChart'), [
      'c:barDir',
      'c:grouping',
      'c:varyColors',
      'c:ser',
      'c:dLbls',
      'c:gapWidth',
      'c:overlap',
      'c:axId',
    ]);
    expectSequence(childrenOf(tree, 'c:lineChart'), ['c:grouping', 'c:varyColors', 'c:ser', 'c:marker', 'c:axId']);
    const series = [
      'c:idx',
      'c:order',
      'c:tx',
      'c:spPr',
      'c:invertIfNegative',
      'c:marker',
      'c:dLbls',
      'c:cat',
      'c:val',
      'c:smooth',
    ];
    expectSequence(childrenOf(tree, 'c:ser'), series);
    const axis = [
      'c:axId',
      'c:scaling',
      'c:delete',
      'c:axPos',
      'c:majorGridlines',
      'c:title',
      'c:numFmt',
      'c:majorTickMark',
      'c:minorTickMark',
      'c:tickLblPos',
      'c:spPr',
      'c:txPr',
      'c:crossAx',
      'c:crosses',
      'c:crossBetween',
      'c:auto',
      'c:lblAlgn',
      'c:lblOffset',
      'c:noMultiLvlLbl',
    ];
    expectSequence(
      childrenOf(tree, 'c:catAx'),
      axis.filter((a) => !['c:majorGridlines', 'c:crossBetween'].includes(a)),
    );
    expectSequence(
      childrenOf(tree, 'c:valAx'),
      axis.filter((a) => !['c:auto', 'c:lblAlgn', 'c:lblOffset', 'c:noMultiLvlLbl'].includes(a)),
    );

    const chart = plain.parse(chartXml) as { 'c:chartSpace': { 'c:chart': { 'c:plotArea': Node } } };
    const area = chart['c:chartSpace']['c:chart']['c:plotArea'] as {
      'c:barChart': { 'c:ser': Node[]; 'c:axId': { val: number }[] };
      'c:lineChart': { 'c:ser': Node[]; 'c:axId': { val: number }[] };
      'c:catAx': { 'c:axId': { val: number }; 'c:crossAx': { val: number }; 'c:delete': { val: number } }[];
      'c:valAx': {
        'c:axId': { val: number };
        'c:crossAx': { val: number };
        'c:axPos': { val: string };
        'c:crosses': { val: string };
        'c:numFmt': { formatCode: string; sourceLinked: number };
      }[];
    };
    // Every axis a chart group names exists, and each axis crosses its partner: bars on the primary pair, the line
    // on the secondary pair, whose value axis sits on the right.
    const ids = (list: { val: number }[]): number[] => list.map((a) => a.val);
    const catIds = area['c:catAx'].map((a) => a['c:axId'].val);
    const valIds = area['c:valAx'].map((a) => a['c:axId'].val);
    expect(new Set([...catIds, ...valIds]).size).toBe(4);
    expect(ids(area['c:barChart']['c:axId'])).toEqual([catIds[0], valIds[0]]);
    expect(ids(area['c:lineChart']['c:axId'])).toEqual([catIds[1], valIds[1]]);
    for (const [i, cat] of area['c:catAx'].entries()) expect(cat['c:crossAx'].val).toBe(valIds[i]);
    for (const [i, val] of area['c:valAx'].entries()) expect(val['c:crossAx'].val).toBe(catIds[i]);
    expect(area['c:catAx'][1]?.['c:delete'].val).toBe(1);
    expect(area['c:valAx'][1]).toMatchObject({ 'c:axPos': { val: 'r' }, 'c:crosses': { val: 'max' } });
    // Axis labels are formatted like the cells.
    expect(area['c:valAx'][0]?.['c:numFmt']).toEqual({ formatCode: '"$"#,##0', sourceLinked: 1 });
    expect(area['c:valAx'][1]?.['c:numFmt']).toEqual({ formatCode: '0.0%', sourceLinked: 1 });

    // Series reference the table's cells (sheet name quoted), with caches of what the cells hold.
    const bar = area['c:barChart']['c:ser'][0] as {
      'c:tx': { 'c:strRef': { 'c:f': string; 'c:strCache': { 'c:pt': { 'c:v': string }[] } } };
      'c:cat': {
        'c:numRef': { 'c:f': string; 'c:numCache': { 'c:formatCode': string; 'c:ptCount': { val: number } } };
      };
      'c:val': { 'c:numRef': { 'c:f': string; 'c:numCache': { 'c:pt': { idx: number; 'c:v': number }[] } } };
    };
    expect(bar['c:tx']['c:strRef']['c:f']).toBe("'Rep''s revenue'!$B$24");
    expect(bar['c:tx']['c:strRef']['c:strCache']['c:pt'][0]?.['c:v']).toBe('Revenue');
    expect(bar['c:cat']['c:numRef']['c:f']).toBe("'Rep''s revenue'!$A$25:$A$28");
    expect(bar['c:cat']['c:numRef']['c:numCache']).toMatchObject({
      'c:formatCode': 'mmm yyyy',
      'c:ptCount': { val: 4 },
    });
    expect(bar['c:val']['c:numRef']['c:f']).toBe("'Rep''s revenue'!$B$25:$B$28");
    expect(bar['c:val']['c:numRef']['c:numCache']['c:pt'].map((p) => p['c:v'])).toEqual([1000, 2000, 3000, 4000]);
    const line = area['c:lineChart']['c:ser'][0] as {
      'c:val': { 'c:numRef': { 'c:numCache': { 'c:ptCount': { val: number }; 'c:pt': { idx: number }[] } } };
    };
    // The n/a cell is no point (a gap), never a 0.
    expect(line['c:val']['c:numRef']['c:numCache']['c:ptCount'].val).toBe(4);
    expect(line['c:val']['c:numRef']['c:numCache']['c:pt'].map((p) => p.idx)).toEqual([1, 2, 3]);

    // The header cell the series names is where the table puts it, and the ranges are the table's data rows.
    const book = XLSX.readFile(filePath);
    const ws = book.Sheets["Rep's revenue"];
    expect(ws?.['B24']?.v).toBe('Revenue');
    expect(ws?.['B25']?.v).toBe(1000);
    expect(ws?.['B28']?.v).toBe(4000);
    expect(ws?.['B29']).toBeUndefined();
    // Negative growth is red through a conditional format (dxf), not a number format.
    expect(sheet).toContain(
      '<conditionalFormatting sqref="C25:C28"><cfRule type="cellIs" dxfId="0" priority="1" operator="lessThan"><formula>0</formula></cfRule></conditionalFormatting>',
    );
    expect(parts.get('xl/styles.xml')).toMatch(
      /<dxfs count="1"><dxf><font><color rgb="FF9C0006"\/><\/font><\/dxf><\/dxfs>/,
    );
  });

  it('writes a one-line note instead of a chart when there is nothing to draw', async () => {
    const filePath = join(dir, 'empty.xlsx');
    const writer = createWorkbookWriter({ filePath });
    await writer.addSpecSheet({ ...monthly, rows: months.map((m) => [m, 0, 'n/a (no revenue)']) });
    await writer.addSpecSheet({ ...monthly, name: 'Nothing', rows: [] });
    await writer.commit();
    const parts = await zipParts(filePath);
    expect([...parts.keys()].filter((k) => k.includes('chart') || k.includes('drawing'))).toEqual([]);
    const book = XLSX.readFile(filePath);
    expect(book.Sheets["Rep's revenue"]?.['A3']?.v).toBe('No won revenue yet.');
    expect(book.Sheets['Nothing']?.['A3']?.v).toBe('No won revenue yet.');
    // The table follows the note (one blank row between).
    expect(book.Sheets["Rep's revenue"]?.['A5']?.v).toBe('Month');
  });

  it('rejects a chart whose columns are outside the table or whose secondary axis has no title', async () => {
    const writer = createWorkbookWriter({ filePath: join(dir, 'bad.xlsx') });
    await expect(
      writer.addSpecSheet({
        ...monthly,
        chart: { ...monthly.chart!, series: [{ column: 7, plot: 'bar', axis: 'primary' }] },
      }),
    ).rejects.toMatchObject({
      code: 'WORKBOOK_INVALID_SPEC',
      message: expect.stringMatching(/column 7, outside the table/),
    });
    await writer.abort();
    const other = createWorkbookWriter({ filePath: join(dir, 'bad2.xlsx') });
    const { secondaryAxisTitle: _, ...noTitle } = monthly.chart!;
    await expect(other.addSpecSheet({ ...monthly, chart: noTitle })).rejects.toMatchObject({
      code: 'WORKBOOK_INVALID_SPEC',
      message: expect.stringMatching(/no secondaryAxisTitle/),
    });
    await other.abort();
  });
});

describe('spec sheet blocks, links and print layout', () => {
  it('writes blocks above and below the table, a link to another sheet, and a one-page print area', async () => {
    const filePath = join(dir, 'blocks.xlsx');
    const writer = createWorkbookWriter({ filePath, printFooter: '&L&A&RPage &P sur &N' });
    const summary = await writer.addSpecSheet({
      name: 'Summary',
      title: 'Pipeline metrics as of 27 Nov 2026',
      columns: [
        { header: 'KPI', format: 'text', width: 20 },
        { header: 'Value', format: 'number', width: 14, align: 'right' },
        { header: 'Unit', format: 'text', width: 12 },
        { header: 'Definition', format: 'text', width: 30, wrap: true },
      ],
      before: [
        {
          rows: [['Refreshed', new Date(Date.UTC(2026, 10, 27, 6, 0)), 'America/New_York'], ['About →']],
          columns: [undefined, { format: 'datetime', align: 'left' }],
          links: [{ row: 1, column: 0, sheet: 'About' }],
          boldRows: [0],
        },
        {
          header: ['Since 26 Nov 2026', 'Deals', 'Value', 'What counts'],
          rows: [['New deals', 3, 12_500, 'In the view now, not then']],
          columns: [undefined, { format: 'integer' }, { format: 'currency', align: 'right' }, { indent: 1 }],
        },
      ],
      rows: [['Win rate', 0.4, '%', 'won ÷ closed']],
      cellFormats: [[undefined, 'percent']],
      after: [{ header: ['Not configured', 'Add'], rows: [['Coverage', 'metrics.quota: the quota']], spanFrom: 1 }],
      notes: ['A note.'],
      printOnOnePage: true,
    });
    const about = await writer.addSpecSheet({
      name: 'About',
      columns: [{ header: 'Item', format: 'text' }],
      rows: [['x']],
    });
    await writer.commit();
    expect([summary, about]).toEqual(['Summary', 'About']);

    const book = XLSX.readFile(filePath, { cellNF: true, cellDates: false });
    const ws = book.Sheets['Summary']!;
    expect(ws['A1']?.v).toBe('Pipeline metrics as of 27 Nov 2026');
    expect(ws['A3']?.v).toBe('Refreshed');
    expect(ws['B3']).toMatchObject({ t: 'n', z: 'yyyy-mm-dd hh:mm' });
    expect(XLSX.SSF.parse_date_code(ws['B3']?.v as number)).toMatchObject({ y: 2026, m: 11, d: 27, H: 6, M: 0 });
    expect(ws['A4']?.v).toBe('About →');
    expect(ws['A6']?.v).toBe('Since 26 Nov 2026');
    expect(ws['C7']).toMatchObject({ v: 12_500, z: '"$"#,##0' });
    expect(ws['A9']?.v).toBe('KPI');
    expect(ws['B10']).toMatchObject({ v: 0.4, z: '0.0%' });
    expect(ws['A12']?.v).toBe('Not configured');
    expect(ws['B13']?.v).toBe('metrics.quota: the quota');
    expect(ws['A15']?.v).toBe('A note.');

    const parts = await zipParts(filePath);
    const sheet = parts.get('xl/worksheets/sheet1.xml') ?? '';
    expect(sheet).toContain(
      '<hyperlinks><hyperlink ref="A4" location="&apos;About&apos;!A1" display="About →"/></hyperlinks>'.replace(
        /&apos;/g,
        "'",
      ),
    );
    // The setting spans the rest of its row; the title and the note span the sheet.
    expect(sheet).toContain('<mergeCell ref="B12:D12"/><mergeCell ref="B13:D13"/>');
    // One page; the footer in the workbook's language; the header repeats; the printed range covers it all.
    expect(sheet).toMatch(/<pageSetup[^>]*fitToHeight="1"/);
    expect(sheet).toContain('<oddFooter>&amp;L&amp;A&amp;RPage &amp;P sur &amp;N</oddFooter>');
    // Not frozen: a frozen pane this far down would fill the screen.
    expect(sheet).not.toContain('state="frozen"');
    const names = book.Workbook?.Names?.filter((n) => n.Sheet === 0).map((n) => [n.Name, n.Ref]);
    expect(names).toEqual([
      ['_xlnm.Print_Titles', "'Summary'!$9:$9"],
      ['_xlnm.Print_Area', "'Summary'!$A$1:$D$15"],
    ]);
  });
});
