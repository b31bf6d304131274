import { mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { XMLParser } from 'fast-xml-parser';
import { SAFE_XML_PARSER_OPTIONS } from '../shared/xml-entities.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as XLSX from 'xlsx';
import { AbortedError, WorkbookError } from '../shared/errors.js';
import type { SheetSpec } from '../shared/sheet-spec.js';
import type { ColumnSpec, TypedRow } from '../shared/table.js';
import { createWorkbookWriter, EXCEL_MAX_DATA_ROWS } from './workbook-writer.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'workbook-writer-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const columns: ColumnSpec[] = [
  { name: 'Opportunity ID', type: 'text', numFmt: undefined },
  { name: 'Amount', type: 'currency', numFmt: '"$"#,##0.00' },
  { name: 'Probability', type: 'percent', numFmt: '0%' },
  { name: 'Close Date', type: 'date', numFmt: undefined },
  { name: 'Created', type: 'datetime', numFmt: 'yyyy-mm-dd hh:mm' },
  { name: 'Won', type: 'boolean', numFmt: undefined },
  { name: 'Age', type: 'integer', numFmt: '#,##0' },
  { name: 'Note', type: 'text', numFmt: undefined },
];

function sampleRow(i: number): TypedRow {
  return [
    `OPP-${i}`,
    1000.25 * (i + 1),
    0.1 * (i % 10),
    new Date(Date.UTC(2026, 10, 27)),
    new Date(Date.UTC(2026, 10, 27, 9, 30)),
    i % 2 === 0,
    i,
    i === 0 ? '=HYPERLINK("http://evil")' : `note ${i}`,
  ];
}

async function* fromArray(rows: readonly TypedRow[]): AsyncIterable<TypedRow> {
  for (const row of rows) yield row;
}

async function* generated(count: number, make: (i: number) => TypedRow = sampleRow): AsyncIterable<TypedRow> {
  for (let i = 0; i < count; i += 1) yield make(i);
}

/** The parts of the zip, as text, through SheetJS's zip reader (independent of exceljs). */
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

const xml = new XMLParser({
  ...SAFE_XML_PARSER_OPTIONS,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  preserveOrder: false,
});
const orderedXml = new XMLParser({ ...SAFE_XML_PARSER_OPTIONS, ignoreAttributes: true, preserveOrder: true });

/** Child element names of <worksheet>, in document order. */
function worksheetChildren(sheetXml: string): string[] {
  const doc = orderedXml.parse(sheetXml) as Record<string, unknown>[];
  const worksheet = doc.find((node) => 'worksheet' in node) as { worksheet: Record<string, unknown>[] } | undefined;
  return (worksheet?.worksheet ?? []).map((node) => Object.keys(node)[0] ?? '');
}

// CT_Worksheet's sequence (ECMA-376 Part 1, 18.3.1.99): Excel rejects elements out of this order.
const WORKSHEET_ORDER = [
  'sheetPr',
  'dimension',
  'sheetViews',
  'sheetFormatPr',
  'cols',
  'sheetData',
  'sheetCalcPr',
  'sheetProtection',
  'protectedRanges',
  'scenarios',
  'autoFilter',
  'sortState',
  'dataConsolidate',
  'customSheetViews',
  'mergeCells',
  'phoneticPr',
  'conditionalFormatting',
  'dataValidations',
  'hyperlinks',
  'printOptions',
  'pageMargins',
  'pageSetup',
  'headerFooter',
  'rowBreaks',
  'colBreaks',
  'customProperties',
  'cellWatches',
  'ignoredErrors',
  'smartTags',
  'drawing',
  'legacyDrawing',
  'legacyDrawingHF',
  'picture',
  'oleObjects',
  'controls',
  'webPublishItems',
  'tableParts',
  'extLst',
];

function expectSchemaOrder(children: readonly string[]): void {
  const positions = children.map((name) => WORKSHEET_ORDER.indexOf(name));
  expect(positions).not.toContain(-1);
  expect([...positions].sort((a, b) => a - b)).toEqual(positions);
}

const summarySpec: SheetSpec = {
  name: 'Summary',
  title: 'Pipeline summary',
  columns: [
    { header: 'Metric', format: 'text' },
    { header: 'Pipeline', format: 'currency' },
    { header: 'Win rate', format: 'percent' },
    { header: 'Cycle', format: 'days' },
    { header: 'Deals', format: 'integer' },
    { header: 'As of', format: 'date' },
  ],
  rows: [
    ['EMEA', 1_250_000.5, 0.315, 42.25, 120, new Date(Date.UTC(2026, 10, 27))],
    ['NA', 2_000_000, 'n/a (no won deals)', Number.NaN, 80, new Date(Date.UTC(2026, 10, 27))],
  ],
  notes: ['Win rate = won / (won + lost).'],
  dataBars: [1],
  definedNames: [{ name: 'WinRate', row: 0, column: 2 }],
  currency: 'EUR',
  // The source has cents: money shows them (the default is whole units).
  currencyDecimals: 2,
};

describe('createWorkbookWriter', () => {
  it('writes data and spec sheets that exceljs and SheetJS read back with types, values and formats', async () => {
    const filePath = join(dir, 'out.xlsx');
    const writer = createWorkbookWriter({ filePath, now: new Date(Date.UTC(2026, 10, 27, 6)) });
    const progress: number[] = [];
    const data = await writer.addDataSheet({
      name: 'Opportunities',
      columns,
      rows: generated(3),
      onProgress: (n) => progress.push(n),
    });
    expect(data).toEqual({ sheetNames: ['Opportunities'], rows: 3, truncatedCells: 0, warnings: [] });
    expect(progress.at(-1)).toBe(3);
    const summary = await writer.addSpecSheet(summarySpec);
    const about = await writer.addSpecSheet({
      name: 'About',
      columns: [
        { header: 'Key', format: 'text' },
        { header: 'Value', format: 'text' },
      ],
      rows: [['Server', 'https://tableau.example.com']],
      asTable: false,
    });
    writer.setTabOrder([summary, 'Opportunities', about]);
    const { bytes, warnings } = await writer.commit();
    expect(bytes).toBe((await stat(filePath)).size);
    // The workbook before delivery is pipeline data: this user only, whatever the umask.
    expect((await stat(filePath)).mode & 0o777).toBe(0o600);
    expect(warnings).toEqual(["sheet 'Summary': 1 cell(s) held NaN or Infinity and were left blank"]);

    // exceljs reader
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(filePath);
    expect(book.worksheets.map((ws) => ws.name)).toEqual(['Summary', 'Opportunities', 'About']);
    const opp = book.getWorksheet('Opportunities');
    if (opp === undefined) throw new Error('sheet missing');
    expect(opp.getRow(1).values).toEqual([undefined, ...columns.map((c) => c.name)]);
    expect(opp.getCell('A1').font?.bold).toBe(true);
    expect(opp.getCell('A2').value).toBe('OPP-0');
    expect(opp.getCell('B3').value).toBe(2000.5);
    expect(opp.getCell('B3').numFmt).toBe('"$"#,##0.00');
    expect(opp.getCell('C3').value).toBeCloseTo(0.1, 12);
    expect(opp.getCell('C3').numFmt).toBe('0%');
    // Wall-clock UTC fields in, same wall-clock out.
    expect(opp.getCell('D2').value).toEqual(new Date(Date.UTC(2026, 10, 27)));
    expect(opp.getCell('D2').numFmt).toBe('yyyy-mm-dd');
    expect(opp.getCell('E2').value).toEqual(new Date(Date.UTC(2026, 10, 27, 9, 30)));
    expect(opp.getCell('F2').value).toBe(true);
    expect(opp.getCell('F3').value).toBe(false);
    expect(opp.getCell('G4').value).toBe(2);
    expect(opp.getCell('H2').value).toBe('=HYPERLINK("http://evil")');
    expect(opp.getCell('H2').formula).toBeUndefined();
    expect(opp.views[0]).toMatchObject({ state: 'frozen', ySplit: 1, topLeftCell: 'A2' });
    expect(opp.getColumn(1).width).toBeGreaterThanOrEqual('Opportunity ID'.length);
    const tables = opp.getTables() as unknown as { table: { name: string; tableRef: string; headerRow: boolean } }[];
    expect(tables).toHaveLength(1);
    expect(tables[0]?.table).toMatchObject({ name: 'Opportunities', tableRef: 'A1:H4', headerRow: true });

    const sum = book.getWorksheet('Summary');
    if (sum === undefined) throw new Error('sheet missing');
    expect(sum.getCell('A1').value).toBe('Pipeline summary');
    expect(sum.getCell('A1').font?.bold).toBe(true);
    expect(sum.getCell('A3').value).toBe('Metric');
    expect(sum.getCell('B4').value).toBe(1_250_000.5);
    expect(sum.getCell('B4').numFmt).toBe('"€"#,##0.00');
    expect(sum.getCell('C4').numFmt).toBe('0.0%');
    expect(sum.getCell('C5').value).toBe('n/a (no won deals)');
    // Whole days: the header says "days", the number has no decimals and no English suffix.
    expect(sum.getCell('D4').numFmt).toBe('#,##0');
    expect(sum.getCell('D5').value).toBeNull();
    expect(sum.getCell('E4').numFmt).toBe('#,##0');
    expect(sum.getCell('F4').value).toEqual(new Date(Date.UTC(2026, 10, 27)));
    expect(sum.getCell('A7').value).toBe('Win rate = won / (won + lost).');
    const winRate = book.definedNames.getRanges('WinRate');
    expect(winRate.ranges).toEqual(['Summary!$C$4']); // exceljs drops quotes it does not need

    // SheetJS reader (independent implementation)
    const sheetjs = XLSX.readFile(filePath, { cellNF: true, cellStyles: true });
    expect(sheetjs.SheetNames).toEqual(['Summary', 'Opportunities', 'About']);
    const ws = sheetjs.Sheets['Opportunities'];
    if (ws === undefined) throw new Error('sheet missing');
    expect(ws['!ref']).toBe('A1:H4');
    expect(ws['A2']).toMatchObject({ t: 's', v: 'OPP-0' });
    expect(ws['B2']).toMatchObject({ t: 'n', v: 1000.25, z: '"$"#,##0.00' });
    expect(ws['C3']).toMatchObject({ t: 'n', z: '0%' });
    expect(ws['F2']).toMatchObject({ t: 'b', v: true });
    expect(ws['H2']).toMatchObject({ t: 's', v: '=HYPERLINK("http://evil")' });
    expect(ws['H2']?.f).toBeUndefined();
    const created = ws['E2'];
    expect(created).toMatchObject({ t: 'n', z: 'yyyy-mm-dd hh:mm' });
    expect(XLSX.SSF.parse_date_code(created?.v as number)).toMatchObject({ y: 2026, m: 11, d: 27, H: 9, M: 30 });
    expect(sheetjs.Workbook?.Names?.find((n) => n.Name === 'WinRate')?.Ref).toBe("'Summary'!$C$4");
    expect(sheetjs.Sheets['About']?.['B1']?.v).toBe('Value');
  });

  it('shows per-cell formats over the column format, for exceljs and SheetJS alike', async () => {
    const filePath = join(dir, 'kpis.xlsx');
    const writer = createWorkbookWriter({ filePath });
    const spec: SheetSpec = {
      name: 'KPIs',
      title: 'Pipeline metrics',
      columns: [
        { header: 'KPI', format: 'text' },
        { header: 'Value', format: 'number', align: 'right' },
        { header: 'Definition', format: 'text', width: 30, wrap: true },
      ],
      rows: [
        ['Pipeline', 1_250_000.5, 'Sum of the amounts of all open deals as of the run date, whatever their stage'],
        ['Win rate', 0.315, 'won ÷ (won + lost)'],
        ['Sales cycle', 42.25, 'Σ(close − created) ÷ won deals'],
        ['Open deals', 1234, 'Open deals'],
        ['Coverage', 'input missing (metrics.quota)', 'open value ÷ quota'],
        ['Ratio', 2.5, 'no per-cell format: the column’s'],
        ['Closed on', new Date(Date.UTC(2026, 10, 27)), 'a date in a number column'],
      ],
      cellFormats: [
        ['text', 'currency'],
        [undefined, 'percent'],
        [undefined, 'days'],
        [undefined, 'integer'],
        [undefined, 'percent'],
        undefined,
        [undefined, 'date'],
      ],
      definedNames: [{ name: 'WinRate', row: 1, column: 1 }],
      currency: 'EUR',
    };
    await writer.addSpecSheet(spec);
    await writer.commit();

    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(filePath);
    const ws = book.getWorksheet('KPIs');
    if (ws === undefined) throw new Error('sheet missing');
    const shown = [4, 5, 6, 7, 8, 9, 10].map((r) => [ws.getCell(`B${r}`).value, ws.getCell(`B${r}`).numFmt]);
    // Money in whole units by default (what Tableau shows for whole amounts), days as whole numbers.
    expect(shown).toEqual([
      [1_250_000.5, '"€"#,##0'],
      [0.315, '0.0%'],
      [42.25, '#,##0'],
      [1234, '#,##0'],
      ['input missing (metrics.quota)', '0.0%'],
      [2.5, '#,##0.00'],
      [new Date(Date.UTC(2026, 10, 27)), 'yyyy-mm-dd'],
    ]);
    // The column's alignment and wrapping stay on cells with their own format.
    expect(ws.getCell('B4').alignment).toMatchObject({ horizontal: 'right' });
    expect(ws.getCell('B9').alignment).toMatchObject({ horizontal: 'right' });
    expect(ws.getCell('C4').alignment).toMatchObject({ wrapText: true, vertical: 'top' });
    expect(ws.getCell('A4').numFmt).toBeUndefined();
    // The value column is wide enough for the widest value as shown (€1,250,000.50), not as a bare number.
    expect(ws.getColumn(2).width).toBeGreaterThanOrEqual('€1,250,000.50'.length);
    expect(book.definedNames.getRanges('WinRate').ranges).toEqual(['KPIs!$B$5']);

    const sheetjs = XLSX.readFile(filePath, { cellNF: true });
    const sj = sheetjs.Sheets['KPIs'];
    if (sj === undefined) throw new Error('sheet missing');
    expect(['B4', 'B5', 'B6', 'B7', 'B9', 'B10'].map((ref) => [sj[ref]?.t, sj[ref]?.z])).toEqual([
      ['n', '"€"#,##0'],
      ['n', '0.0%'],
      ['n', '#,##0'],
      ['n', '#,##0'],
      ['n', '#,##0.00'],
      ['n', 'yyyy-mm-dd'],
    ]);
    expect(sj['B5']?.w).toBe('31.5%');
    expect(sj['B7']?.w).toBe('1,234');
    expect(sj['B8']).toMatchObject({ t: 's', v: 'input missing (metrics.quota)' });
  });

  it('lays spec sheets out for reading and printing: header style, frozen header, wrapped notes, page setup', async () => {
    const filePath = join(dir, 'layout.xlsx');
    const writer = createWorkbookWriter({ filePath });
    const longNote =
      'Reached / moved on / conversion: deals created in the period that reached the stage and went past it, from their current stage and the stages snapshots saw them in.';
    await writer.addSpecSheet({
      name: 'Funnel',
      title: 'Pipeline by stage',
      notes: ['Short note.', longNote],
      columns: [
        { header: 'Stage', format: 'text', width: 20 },
        { header: 'Deals', format: 'integer', width: 12 },
        { header: 'Value', format: 'currency', width: 16 },
      ],
      rows: [
        ['Lead', 10, 1000],
        ['Won', 2, 500],
      ],
      dataBars: [1],
    });
    await writer.addSpecSheet({
      name: 'Defs',
      columns: [
        { header: 'KPI', format: 'text', width: 12 },
        { header: 'Definition of the metric', format: 'text', width: 20, wrap: true },
      ],
      rows: [
        ['Win rate', 'won deals ÷ (won + lost deals), deals closed in the period'],
        ['Deals', 'open deals'],
      ],
    });
    await writer.addSpecSheet({
      name: 'Wide',
      columns: Array.from({ length: 8 }, (_, i) => ({ header: `Column ${i}`, format: 'text' as const, width: 20 })),
      rows: [Array.from({ length: 8 }, (_, i) => `v${i}`)],
    });
    await writer.commit();

    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(filePath);
    const funnel = book.getWorksheet('Funnel');
    const wide = book.getWorksheet('Wide');
    if (funnel === undefined || wide === undefined) throw new Error('sheet missing');
    const header = funnel.getCell('B3');
    expect(header.font).toMatchObject({ bold: true, color: { theme: 0 } });
    expect(header.fill).toMatchObject({ type: 'pattern', pattern: 'solid', fgColor: { theme: 4 } });
    expect(funnel.views[0]).toMatchObject({ state: 'frozen', ySplit: 3, topLeftCell: 'A4' });
    // Notes start one blank row under the table, span its width and wrap; a long one gets the height of its lines.
    expect(funnel.getCell('A7').value).toBe('Short note.');
    expect(funnel.getCell('A8').value).toBe(longNote);
    expect(funnel.getCell('A8').alignment).toMatchObject({ wrapText: true });
    expect(funnel.getCell('C8').isMerged).toBe(true);
    expect(funnel.getCell('C8').master.address).toBe('A8');
    expect(funnel.getRow(7).height).toBeUndefined();
    // 48 characters a line: 163 characters need 4 lines.
    expect(funnel.getRow(8).height).toBe(4 * 15);
    expect(funnel.pageSetup).toMatchObject({ orientation: 'portrait', fitToPage: true, fitToWidth: 1, fitToHeight: 0 });
    expect(funnel.pageSetup.printTitlesRow).toBe('3:3');
    expect(funnel.headerFooter.oddFooter).toBe('&L&A&RPage &P of &N');
    expect(wide.pageSetup).toMatchObject({ orientation: 'landscape', fitToPage: true, fitToWidth: 1 });
    expect(wide.pageSetup.printTitlesRow).toBe('1:1');
    // Wrapped text gets the rows it needs (readers do not grow rows when opening a file); short text keeps the default.
    const defs = book.getWorksheet('Defs');
    if (defs === undefined) throw new Error('sheet missing');
    expect(defs.getCell('B2').alignment).toMatchObject({ wrapText: true, vertical: 'top' });
    expect(defs.getCell('A2').alignment).toMatchObject({ vertical: 'top' });
    expect(defs.getRow(2).height).toBe(3 * 15);
    expect(defs.getRow(3).height).toBeUndefined();
    // The header wraps too: 24 characters over a 20-wide column with a filter button take two lines.
    expect(defs.getCell('B1').alignment).toMatchObject({ wrapText: true });
    expect(defs.getRow(1).height).toBe(2 * 15);

    const parts = await zipParts(filePath);
    const sheet1 = parts.get('xl/worksheets/sheet1.xml') ?? '';
    const children = worksheetChildren(sheet1);
    expect(children).toEqual(
      expect.arrayContaining([
        'sheetPr',
        'mergeCells',
        'conditionalFormatting',
        'pageSetup',
        'headerFooter',
        'tableParts',
      ]),
    );
    expectSchemaOrder(children);
    // The title spans the printed width (so it prints whole), and so does each note.
    expect(sheet1).toContain(
      '<mergeCells count="3"><mergeCell ref="A1:C1"/><mergeCell ref="A7:C7"/><mergeCell ref="A8:C8"/></mergeCells>',
    );
  });

  it('rejects cell formats that are not aligned with the rows', async () => {
    const writer = createWorkbookWriter({ filePath: join(dir, 'bad-formats.xlsx') });
    const base: SheetSpec = { name: 'S', columns: [{ header: 'x', format: 'number' }], rows: [[1]] };
    await expect(writer.addSpecSheet({ ...base, cellFormats: [['percent'], ['percent']] })).rejects.toMatchObject({
      code: 'WORKBOOK_INVALID_SPEC',
      message: expect.stringMatching(/cellFormats has 2 rows but the sheet has 1/),
    });
    await writer.abort();
    const other = createWorkbookWriter({ filePath: join(dir, 'bad-formats-2.xlsx') });
    await expect(other.addSpecSheet({ ...base, cellFormats: [['percent', 'days']] })).rejects.toMatchObject({
      code: 'WORKBOOK_INVALID_SPEC',
      message: expect.stringMatching(/row 0 has 2 entries but the sheet has 1 columns/),
    });
    await other.abort();
  });

  it('produces well-formed parts: table, relationships, content types, schema order, data bars', async () => {
    const filePath = join(dir, 'parts.xlsx');
    const writer = createWorkbookWriter({ filePath });
    await writer.addDataSheet({
      name: 'Pipeline by Stage',
      columns: [...columns, { name: 'amount', type: 'number', numFmt: undefined }],
      rows: generated(5, (i) => [...sampleRow(i), i]),
    });
    await writer.addSpecSheet(summarySpec);
    await writer.commit();
    const parts = await zipParts(filePath);

    const contentTypes = xml.parse(parts.get('[Content_Types].xml') ?? '') as {
      Types: { Override: { PartName: string; ContentType: string }[] };
    };
    const overrides = new Map(contentTypes.Types.Override.map((o) => [o.PartName, o.ContentType]));
    for (const id of [1, 2]) {
      expect(parts.has(`xl/tables/table${id}.xml`)).toBe(true);
      expect(overrides.get(`/xl/tables/table${id}.xml`)).toBe(
        'application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml',
      );
      expect(overrides.get(`/xl/worksheets/sheet${id}.xml`)).toBe(
        'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml',
      );
    }

    const table1 = xml.parse(parts.get('xl/tables/table1.xml') ?? '') as {
      table: {
        name: string;
        displayName: string;
        ref: string;
        autoFilter: { ref: string };
        tableColumns: { tableColumn: { name: string }[] };
      };
    };
    expect(table1.table).toMatchObject({
      name: 'Pipeline_by_Stage',
      displayName: 'Pipeline_by_Stage',
      ref: 'A1:I6',
      autoFilter: { ref: 'A1:I6' },
    });
    const tableColumnNames = table1.table.tableColumns.tableColumn.map((c) => c.name);
    expect(tableColumnNames.at(-1)).toBe('amount (2)');
    expect(new Set(tableColumnNames.map((n) => n.toLowerCase())).size).toBe(tableColumnNames.length);
    const sheet1 = parts.get('xl/worksheets/sheet1.xml') ?? '';
    // Table column names equal the header cells.
    expect(sheet1).toContain('<c r="I1" s="');
    expect(sheet1).toContain('<t>amount (2)</t>');

    const rels = xml.parse(parts.get('xl/worksheets/_rels/sheet1.xml.rels') ?? '') as {
      Relationships: { Relationship: { Id: string; Type: string; Target: string } };
    };
    expect(rels.Relationships.Relationship).toMatchObject({
      Type: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/table',
      Target: '../tables/table1.xml',
    });
    expect(sheet1).toContain(
      `<tableParts count="1"><tablePart r:id="${rels.Relationships.Relationship.Id}"/></tableParts></worksheet>`,
    );
    expect(sheet1).not.toContain(' t="str"');
    expect(sheet1).not.toContain('<autoFilter');

    const children1 = worksheetChildren(sheet1);
    // A data sheet prints too: fit to the page width (sheetPr), with a footer.
    expect(children1).toEqual([
      'sheetPr',
      'sheetViews',
      'sheetFormatPr',
      'cols',
      'sheetData',
      'pageMargins',
      'pageSetup',
      'headerFooter',
      'tableParts',
    ]);
    expectSchemaOrder(children1);
    const sheet2 = parts.get('xl/worksheets/sheet2.xml') ?? '';
    const children2 = worksheetChildren(sheet2);
    expect(children2).toContain('conditionalFormatting');
    expectSchemaOrder(children2);
    expect(sheet2).toContain('<conditionalFormatting sqref="B4:B5"><cfRule type="dataBar" priority="1">');
    const table2 = xml.parse(parts.get('xl/tables/table2.xml') ?? '') as { table: { ref: string } };
    expect(table2.table.ref).toBe('A3:F5');

    const workbookXml = parts.get('xl/workbook.xml') ?? '';
    expect(workbookXml).toContain('<definedName name="WinRate">&apos;Summary&apos;!$C$4</definedName>');
  });

  it('continues on Name (2) when a sheet reaches the row limit, each with header and table', async () => {
    const filePath = join(dir, 'overflow.xlsx');
    const writer = createWorkbookWriter({ filePath, maxRowsPerSheet: 10 });
    const result = await writer.addDataSheet({ name: 'Opportunities', columns, rows: generated(25) });
    await writer.addDataSheet({ name: 'Opportunities', columns, rows: generated(1) });
    await writer.commit();
    expect(result.sheetNames).toEqual(['Opportunities', 'Opportunities (2)', 'Opportunities (3)']);
    expect(result.rows).toBe(25);
    expect(result.warnings).toEqual([
      "sheet 'Opportunities': 25 rows exceed Excel's 10 rows per sheet; continued on 'Opportunities (2)', 'Opportunities (3)'",
    ]);

    const book = XLSX.readFile(filePath);
    expect(book.SheetNames).toEqual(['Opportunities', 'Opportunities (2)', 'Opportunities (3)', 'Opportunities (4)']);
    const counts = book.SheetNames.map((name) => {
      const rows = XLSX.utils.sheet_to_json<Record<string, unknown>>(book.Sheets[name] ?? {});
      expect(Object.keys(rows[0] ?? {})[0]).toBe('Opportunity ID');
      return rows.length;
    });
    expect(counts).toEqual([10, 10, 5, 1]);
    expect(
      XLSX.utils.sheet_to_json<Record<string, unknown>>(book.Sheets['Opportunities (3)'] ?? {})[0]?.['Opportunity ID'],
    ).toBe('OPP-20');

    const parts = await zipParts(filePath);
    const refs = [1, 2, 3, 4].map(
      (id) =>
        (xml.parse(parts.get(`xl/tables/table${id}.xml`) ?? '') as { table: { ref: string; name: string } }).table,
    );
    expect(refs.map((t) => t.ref)).toEqual(['A1:H11', 'A1:H11', 'A1:H6', 'A1:H2']);
    expect(new Set(refs.map((t) => t.name.toLowerCase())).size).toBe(4);
  });

  it('defaults the row limit to Excel’s and refuses a nonsensical one', () => {
    expect(EXCEL_MAX_DATA_ROWS).toBe(1_048_575);
    expect(() => createWorkbookWriter({ filePath: join(dir, 'x.xlsx'), maxRowsPerSheet: 0 })).toThrow(WorkbookError);
    expect(() => createWorkbookWriter({ filePath: join(dir, 'x.xlsx'), zipLevel: 12 })).toThrow(/zipLevel/);
  });

  it('truncates text over 32,767 characters, blanks NaN/Infinity and says so', async () => {
    const filePath = join(dir, 'limits.xlsx');
    const writer = createWorkbookWriter({ filePath });
    const long = `${'é'.repeat(40_000)}`;
    const result = await writer.addDataSheet({
      name: 'Notes',
      columns: [
        { name: 'Text', type: 'text', numFmt: undefined },
        { name: 'Value', type: 'number', numFmt: undefined },
      ],
      rows: fromArray([
        ['short', 1],
        [long, Number.NaN],
        [long, Number.NEGATIVE_INFINITY],
      ]),
    });
    await writer.commit();
    expect(result.truncatedCells).toBe(2);
    expect(result.warnings).toEqual([
      "sheet 'Notes': 2 text cell(s) longer than Excel's 32,767 characters were cut (first in data row 2)",
      "sheet 'Notes': 2 numeric cell(s) held NaN or Infinity and were left blank (first in data row 2)",
    ]);
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(filePath);
    const ws = book.getWorksheet('Notes');
    expect((ws?.getCell('A3').value as string).length).toBe(32_767);
    expect(ws?.getCell('B3').value).toBeNull();
    expect(ws?.getCell('B4').value).toBeNull();
  });

  it('writes an empty view as a header and a valid one-row table', async () => {
    const filePath = join(dir, 'empty.xlsx');
    const writer = createWorkbookWriter({ filePath });
    const result = await writer.addDataSheet({ name: 'Nothing', columns, rows: fromArray([]) });
    await writer.commit();
    expect(result.rows).toBe(0);
    const parts = await zipParts(filePath);
    expect((xml.parse(parts.get('xl/tables/table1.xml') ?? '') as { table: { ref: string } }).table.ref).toBe('A1:H2');
    expect(XLSX.readFile(filePath).Sheets['Nothing']?.['A1']?.v).toBe('Opportunity ID');
  });

  it('keeps unlisted tabs after listed ones in their order, and rejects unknown names', async () => {
    const filePath = join(dir, 'order.xlsx');
    const writer = createWorkbookWriter({ filePath });
    await writer.addDataSheet({ name: 'Data A', columns, rows: generated(1) });
    await writer.addDataSheet({ name: 'Data B', columns, rows: generated(1) });
    const funnel = await writer.addSpecSheet({
      name: 'Funnel',
      columns: [{ header: 'Stage', format: 'text' }],
      rows: [['Won']],
    });
    const about = await writer.addSpecSheet({ name: 'About', columns: [{ header: 'Key', format: 'text' }], rows: [] });
    expect(() => writer.setTabOrder(['Nope'])).toThrow(/no sheet named 'Nope'/);
    writer.setTabOrder([funnel, 'Data B']);
    await writer.commit();
    expect(XLSX.readFile(filePath).SheetNames).toEqual(['Funnel', 'Data B', 'Data A', about]);
  });

  it('quotes sheet names in defined names where Excel needs it', async () => {
    const filePath = join(dir, 'quoted.xlsx');
    const writer = createWorkbookWriter({ filePath });
    for (const [i, name] of ['2026', "Rep's deals", 'A1'].entries()) {
      await writer.addSpecSheet({
        name,
        columns: [{ header: 'x', format: 'number' }],
        rows: [[i]],
        definedNames: [{ name: `Value${i}`, row: 0, column: 0 }],
      });
    }
    await writer.commit();
    const names = XLSX.readFile(filePath).Workbook?.Names?.map((n) => [n.Name, n.Ref, n.Sheet]);
    expect(names).toEqual([
      ['Value0', "'2026'!$A$2", undefined],
      ['Value1', "'Rep''s deals'!$A$2", undefined],
      ['Value2', "'A1'!$A$2", undefined],
      // The header row repeats on every printed page; scoped to its sheet.
      ['_xlnm.Print_Titles', "'2026'!$1:$1", 0],
      ['_xlnm.Print_Titles', "'Rep''s deals'!$1:$1", 1],
      ['_xlnm.Print_Titles', "'A1'!$1:$1", 2],
      // Each sheet prints its table, notes and blocks, and nothing else.
      ['_xlnm.Print_Area', "'2026'!$A$1:$A$2", 0],
      ['_xlnm.Print_Area', "'Rep''s deals'!$A$1:$A$2", 1],
      ['_xlnm.Print_Area', "'A1'!$A$1:$A$2", 2],
    ]);
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(filePath);
    expect(book.definedNames.getRanges('Value1').ranges).toEqual(["'Rep''s deals'!$A$2"]);
  });

  it('rejects a defined name that is invalid or collides', async () => {
    const writer = createWorkbookWriter({ filePath: join(dir, 'names.xlsx') });
    await expect(
      writer.addSpecSheet({ ...summarySpec, definedNames: [{ name: 'A1', row: 0, column: 0 }] }),
    ).rejects.toThrow(/not a valid Excel name/);
    await writer.abort();
    const second = createWorkbookWriter({ filePath: join(dir, 'names2.xlsx') });
    await second.addSpecSheet(summarySpec);
    await expect(second.addSpecSheet({ ...summarySpec, name: 'Other' })).rejects.toMatchObject({
      code: 'WORKBOOK_INVALID_SPEC',
    });
    await second.abort();
  });

  it('honours the abort signal with AbortedError, and abort() removes the partial file', async () => {
    const filePath = join(dir, 'aborted.xlsx');
    const writer = createWorkbookWriter({ filePath });
    const controller = new AbortController();
    let sourceClosed = false;
    async function* source(): AsyncGenerator<TypedRow> {
      try {
        yield* generated(200_000);
      } finally {
        sourceClosed = true;
      }
    }
    const run = writer.addDataSheet({
      name: 'Big',
      columns,
      rows: source(),
      signal: controller.signal,
      onProgress: (n) => {
        if (n >= 20_000) controller.abort(new Error('shutdown'));
      },
    });
    await expect(run).rejects.toBeInstanceOf(AbortedError);
    expect(sourceClosed).toBe(true);
    await expect(writer.addDataSheet({ name: 'More', columns, rows: generated(1) })).rejects.toThrow(/no more sheets/);
    await writer.abort();
    await writer.abort();
    await expect(stat(filePath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports a full disk as WORKBOOK_WRITE_FAILED naming the path', async () => {
    // A link to /dev/full: every write fails with ENOSPC. abort() removes the link, never the device.
    const filePath = join(dir, 'full.xlsx');
    await symlink('/dev/full', filePath);
    const writer = createWorkbookWriter({ filePath });
    const failure = (async () => {
      await writer.addDataSheet({ name: 'Opportunities', columns, rows: generated(50_000) });
      await writer.commit();
    })();
    await expect(failure).rejects.toMatchObject({
      code: 'WORKBOOK_WRITE_FAILED',
      message: expect.stringContaining(filePath) as unknown,
      details: { path: filePath, errno: 'ENOSPC' },
    });
    await writer.abort();
    await expect(stat(filePath)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stat('/dev/full')).isCharacterDevice()).toBe(true);
  });

  it('reports an unwritable folder as WORKBOOK_WRITE_FAILED', async () => {
    const filePath = join(dir, 'missing-folder', 'out.xlsx');
    const writer = createWorkbookWriter({ filePath });
    const failure = (async () => {
      await writer.addDataSheet({ name: 'Opportunities', columns, rows: generated(10) });
      await writer.commit();
    })();
    await expect(failure).rejects.toMatchObject({ code: 'WORKBOOK_WRITE_FAILED' });
    await writer.abort();
  });

  it('passes source errors through unchanged', async () => {
    async function* failing(): AsyncGenerator<TypedRow> {
      yield sampleRow(0);
      throw new Error('source broke');
    }
    const writer = createWorkbookWriter({ filePath: join(dir, 'src.xlsx') });
    await expect(writer.addDataSheet({ name: 'X', columns, rows: failing() })).rejects.toThrow('source broke');
    await writer.abort();
  });
});
