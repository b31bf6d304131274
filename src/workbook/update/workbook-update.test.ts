/**
 * Update mode's writer on team workbooks made by another program (exceljs's in-memory model, which writes its own
 * package layout, shared strings and table parts): the refreshed table, the team's columns by key, the calculated
 * column, the parts left byte for byte, and the refusals that leave the file alone.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ColumnSpec, TypedRow } from '../../shared/table.js';
import { AppError } from '../../shared/errors.js';
import { openWorkbookUpdate } from './workbook-update.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wb-update-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const COLUMNS: ColumnSpec[] = [
  { name: 'Opportunity ID', type: 'text', numFmt: undefined },
  { name: 'Stage', type: 'text', numFmt: undefined },
  { name: 'Amount', type: 'currency', numFmt: '"$"#,##0' },
];

/** A team workbook: the export's table with two team columns, a sheet of their own, a formula over the table. */
async function teamWorkbook(rows: [string, string, number, string | null][]): Promise<string> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('Opportunities');
  sheet.addTable({
    name: 'Opportunities',
    ref: 'A1',
    headerRow: true,
    style: { theme: 'TableStyleMedium2', showRowStripes: true },
    columns: [
      { name: 'Opportunity ID' },
      { name: 'Stage' },
      { name: 'Amount' },
      { name: 'Next step' },
      { name: 'Double' },
    ],
    rows: rows.map(([id, stage, amount, note], i) => [id, stage, amount, note, { formula: `C${i + 2}*2` }]),
  });
  sheet.getCell('H2').value = 'keep me';
  const notes = book.addWorksheet('Team notes');
  notes.getCell('A1').value = 'Total';
  notes.getCell('B1').value = { formula: `SUM(Opportunities!C2:C${rows.length + 1})` };
  notes.getCell('A3').value = 'a note of our own';
  const path = join(dir, 'team.xlsx');
  await book.xlsx.writeFile(path);
  return path;
}

async function* rowsOf(rows: TypedRow[]): AsyncGenerator<TypedRow> {
  yield* rows;
}

async function update(team: string, rows: TypedRow[], extra: { key?: string } = {}) {
  const out = join(dir, 'out.xlsx');
  const writer = await openWorkbookUpdate({
    teamFile: team,
    label: 'Reports/Team.xlsx',
    filePath: out,
    tempDir: dir,
    zipLevel: 1,
  });
  try {
    const result = await writer.addDataSheet({
      name: 'Opportunities',
      columns: COLUMNS,
      rows: rowsOf(rows),
      update: { key: extra.key, keySetting: 'views[0].key', previousColumns: undefined, rowCount: rows.length },
    });
    await writer.commit();
    return { out, result };
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

async function readBack(path: string): Promise<ExcelJS.Workbook> {
  const book = new ExcelJS.Workbook();
  await book.xlsx.readFile(path);
  return book;
}

describe('openWorkbookUpdate', () => {
  it('refreshes the table: notes follow their keys, the formula column is extended, the rest is kept', async () => {
    const team = await teamWorkbook([
      ['OPP-1', 'Proposal', 100, 'call Monday'],
      ['OPP-2', 'Contact', 200, null],
      ['OPP-3', 'Closing', 300, 'send contract'],
    ]);
    const { out, result } = await update(
      team,
      [
        ['OPP-3', 'Closed Won', 350],
        ['OPP-4', 'Lead', 40],
        ['OPP-1', 'Proposal', 110],
        ['OPP-5', 'Lead', 50],
      ],
      { key: 'Opportunity ID' },
    );
    expect(result.rows).toBe(4);
    expect(result.update?.teammateColumns).toEqual(['Next step']);
    expect(result.update?.calculatedColumns).toEqual(['Double']);
    expect(result.update?.droppedRows).toEqual([]);

    const book = await readBack(out);
    const sheet = book.getWorksheet('Opportunities');
    const values = [2, 3, 4, 5].map((r) => [1, 2, 3, 4].map((c) => sheet?.getCell(r, c).value ?? null));
    expect(values).toEqual([
      ['OPP-3', 'Closed Won', 350, 'send contract'],
      ['OPP-4', 'Lead', 40, null],
      ['OPP-1', 'Proposal', 110, 'call Monday'],
      ['OPP-5', 'Lead', 50, null],
    ]);
    expect([2, 3, 4, 5].map((r) => (sheet?.getCell(r, 5).value as { formula?: string } | null)?.formula)).toEqual([
      'C2*2',
      'C3*2',
      'C4*2',
      'C5*2',
    ]);
    // Beside the table, nothing moved.
    expect(sheet?.getCell('H2').value).toBe('keep me');
    // The table part covers the new rows.
    const zip = await JSZip.loadAsync(await readFile(out));
    const tablePart = Object.keys(zip.files).find((n) => /^xl\/tables\/table\d+\.xml$/.test(n)) ?? '';
    const tableXml = await zip.file(tablePart)?.async('string');
    expect(tableXml).toMatch(/ref="A1:E5"/);
    // Full recalculation on open, no stale calculation chain.
    const workbookXml = await zip.file('xl/workbook.xml')?.async('string');
    expect(workbookXml).toMatch(/<calcPr[^>]*fullCalcOnLoad="1"/);
    expect(zip.file('xl/calcChain.xml')).toBeNull();
  });

  it('copies every part it does not own byte for byte', async () => {
    const team = await teamWorkbook([['OPP-1', 'Proposal', 100, null]]);
    const { out } = await update(team, [
      ['OPP-1', 'Proposal', 120],
      ['OPP-2', 'Lead', 5],
    ]);
    const before = await JSZip.loadAsync(await readFile(team));
    const after = await JSZip.loadAsync(await readFile(out));
    const owned = new Set(['xl/workbook.xml', '[Content_Types].xml', 'xl/_rels/workbook.xml.rels', 'xl/styles.xml']);
    const changed: string[] = [];
    for (const name of Object.keys(before.files)) {
      if (before.files[name]?.dir === true) continue;
      const a = await before.file(name)?.async('nodebuffer');
      const b = await after.file(name)?.async('nodebuffer');
      if (b === undefined || a === undefined || !a.equals(b)) changed.push(name);
    }
    const table = Object.keys(before.files).filter((n) => n.startsWith('xl/tables/'));
    expect(changed.filter((n) => !owned.has(n) && !table.includes(n) && n !== 'xl/worksheets/sheet1.xml')).toEqual([]);
    expect(changed).toContain('xl/worksheets/sheet1.xml');
  });

  it('adds a new view column at the right of the table', async () => {
    const team = await teamWorkbook([['OPP-1', 'Proposal', 100, 'x']]);
    const out = join(dir, 'out.xlsx');
    const writer = await openWorkbookUpdate({
      teamFile: team,
      label: 'Team.xlsx',
      filePath: out,
      tempDir: dir,
      zipLevel: 1,
    });
    const columns: ColumnSpec[] = [...COLUMNS, { name: 'Region', type: 'text', numFmt: undefined }];
    const result = await writer.addDataSheet({
      name: 'Opportunities',
      columns,
      rows: rowsOf([['OPP-1', 'Proposal', 100, 'EMEA']]),
      update: { key: 'Opportunity ID', keySetting: 'views[0].key', previousColumns: undefined, rowCount: 1 },
    });
    await writer.commit();
    expect(result.update?.addedColumns).toEqual(['Region']);
    const sheet = (await readBack(out)).getWorksheet('Opportunities');
    expect(sheet?.getCell('F1').value).toBe('Region');
    expect(sheet?.getCell('F2').value).toBe('EMEA');
    expect(sheet?.getCell('D2').value).toBe('x');
  });

  it('refuses teammate values without a key, and content in the way of a growing table, leaving nothing written', async () => {
    const team = await teamWorkbook([['OPP-1', 'Proposal', 100, 'a note']]);
    const withoutKey = update(team, [['OPP-1', 'Proposal', 100]]);
    await expect(withoutKey).rejects.toMatchObject({ code: 'WORKBOOK_UPDATE_KEY_REQUIRED' });
    await expect(withoutKey).rejects.toSatisfy(
      (e: unknown) => e instanceof AppError && /"Next step".*set views\[0\]\.key/.test(e.userMessage),
    );
    await expect(stat(join(dir, 'out.xlsx'))).rejects.toThrow();

    const book = await readBack(team);
    book.getWorksheet('Opportunities')!.getCell('B4').value = 'in the way';
    await book.xlsx.writeFile(team);
    const blocked = update(
      team,
      [
        ['OPP-1', 'Proposal', 1],
        ['OPP-2', 'Lead', 2],
        ['OPP-3', 'Lead', 3],
      ],
      { key: 'Opportunity ID' },
    );
    await expect(blocked).rejects.toSatisfy(
      (e: unknown) =>
        e instanceof AppError && e.code === 'WORKBOOK_UPDATE_OVERLAP' && /Opportunities!B4/.test(e.message),
    );
  });

  it('refuses a file that is not an .xlsx with a clear error', async () => {
    const csv = join(dir, 'team.xlsx');
    await import('node:fs/promises').then((fs) => fs.writeFile(csv, 'a,b\n1,2\n'));
    await expect(
      openWorkbookUpdate({
        teamFile: csv,
        label: 'Reports/Team.xlsx',
        filePath: join(dir, 'o.xlsx'),
        tempDir: dir,
        zipLevel: 1,
      }),
    ).rejects.toMatchObject({ code: 'WORKBOOK_UPDATE_INVALID_TARGET' });
    const ole = join(dir, 'locked.xlsx');
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(
        ole,
        Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(512)]),
      ),
    );
    await expect(
      openWorkbookUpdate({
        teamFile: ole,
        label: 'Reports/Team.xlsx',
        filePath: join(dir, 'o.xlsx'),
        tempDir: dir,
        zipLevel: 1,
      }),
    ).rejects.toThrow(/encrypted or password-protected/);
  });
});
