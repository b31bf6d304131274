/**
 * The spine end to end through the real CLI: demo data as CSV files → typed workbook → local folder. The workbook is
 * read back with exceljs AND with SheetJS (an independent reader).
 */
import { mkdtemp, readdir, readFile, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import XLSX from 'xlsx';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatePipeline, writeTableauCsvFile } from '../../src/simulators/demo-data/pipeline-generator.js';
import { runCli } from './helpers/cli.js';

const ROWS = 5000;
let dir: string;
let csvPath: string;
let generated: { header: string[]; rows: string[][] };

function config(views: string, extra = ''): string {
  return `
timezone: Europe/Paris
stateDir: ./state
exports:
  - id: pipeline
    timezone: America/New_York
    views:
${views}
    destination: { type: local, dir: ./out, fileName: Pipeline.xlsx }
${extra}`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tee-cli-'));
  csvPath = join(dir, 'opportunities.csv');
  generated = generatePipeline({ seed: 42, count: ROWS, asOf: new Date(Date.UTC(2026, 10, 27)) });
  await writeTableauCsvFile(csvPath, generated.header, generated.rows);
  await copyFile(new URL('../fixtures/csv/populate_csv.csv', import.meta.url), join(dir, 'by-region.csv'));
});

describe('tableau-export run (CSV source, local destination)', () => {
  it('writes a typed workbook that two independent readers agree on', async () => {
    const cfg = join(dir, 'ok.yaml');
    await writeFile(
      cfg,
      config(
        '      - { file: opportunities.csv, sheet: Opportunities }\n      - { file: by-region.csv, sheet: By Region }',
      ),
    );
    const res = await runCli(['run', 'pipeline', '--config', cfg, '--json']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout.trim()) as {
      status: string;
      rows: number;
      sheets: { sheet: string; rows: number }[];
      destination: { location: string };
      bytes: number;
    };
    expect(report.status).toBe('succeeded');
    expect(report.sheets).toEqual([
      expect.objectContaining({ sheet: 'Opportunities', rows: ROWS }),
      expect.objectContaining({ sheet: 'By Region', rows: 4 }),
    ]);
    const file = join(dir, 'out', 'Pipeline.xlsx');
    expect(report.destination.location).toBe(file);
    expect(await readdir(join(dir, 'out'))).toEqual(['Pipeline.xlsx']); // no temp files left next to it

    const header = generated.header;
    const col = (name: string): number => header.indexOf(name);
    const first = generated.rows[0]!;

    // exceljs
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    const ws = wb.getWorksheet('Opportunities')!;
    expect(ws.actualRowCount).toBe(ROWS + 1);
    expect(ws.getRow(1).getCell(1).value).toBe('Opportunity ID');
    const amountCell = ws.getRow(2).getCell(col('Amount') + 1);
    expect(amountCell.value).toBe(Number(first[col('Amount')]!.replace(/[$,]/g, '')));
    expect(amountCell.numFmt).toContain('$');
    const probCell = ws.getRow(2).getCell(col('Probability') + 1);
    expect(probCell.value).toBeCloseTo(Number(first[col('Probability')]!.replace('%', '')) / 100, 10);
    expect(probCell.numFmt).toContain('%');
    const created = first[col('Created Date')]!.split('/').map(Number);
    const createdCell = ws.getRow(2).getCell(col('Created Date') + 1).value;
    expect(createdCell).toBeInstanceOf(Date);
    expect((createdCell as Date).toISOString().slice(0, 10)).toBe(
      `${created[2]}-${String(created[0]).padStart(2, '0')}-${String(created[1]).padStart(2, '0')}`,
    );
    expect(ws.getRow(2).getCell(col('Is Won') + 1).value).toBe(first[col('Is Won')] === 'True');
    expect(wb.getWorksheet('About')).toBeDefined();

    // SheetJS, independently
    const book = XLSX.read(await readFile(file), { cellDates: true });
    expect(book.SheetNames).toEqual(['Opportunities', 'By Region', 'About']);
    const sheet = book.Sheets['Opportunities']!;
    const range = XLSX.utils.decode_range(sheet['!ref']!);
    expect(range.e.r).toBe(ROWS);
    const cellAt = (c: number): XLSX.CellObject => sheet[XLSX.utils.encode_cell({ r: 1, c })]!;
    expect(cellAt(col('Amount')).t).toBe('n');
    expect(cellAt(col('Amount')).v).toBe(amountCell.value);
    expect(cellAt(col('Probability')).t).toBe('n');
    expect(cellAt(col('Created Date')).t).toBe('d');
    expect(cellAt(col('Is Won')).t).toBe('b');
    expect(cellAt(col('Account')).t).toBe('s');
    expect(cellAt(col('Account')).v).toBe(first[col('Account')]);
    const about = XLSX.utils.sheet_to_json<string[]>(book.Sheets['About']!, { header: 1 }).flat().join('\n');
    expect(about).toContain('Refreshed at');
    expect(about).toContain('America/New_York');

    // The Tableau Measure Names/Values export arrives pivoted: one row per region.
    const region = XLSX.utils.sheet_to_json<Record<string, unknown>>(book.Sheets['By Region']!);
    const south = region.find((r) => r['Region'] === 'South')!;
    expect(south['Sales']).toBeCloseTo(311783.644, 6);
    expect(south['Profit Ratio']).toBeCloseTo(0.144482316, 9);
  });

  it.each([
    ['a ragged row', 'Opportunity ID,Amount\r\nOPP-1,"$1,000"\r\nOPP-2,"$2,000",extra\r\n', /line 3/],
    ['a bad quote', 'Opportunity ID,Amount\r\nOPP-1,"$1,000"\r\nOPP-2,"$2,0"00"\r\n', /line 3/],
  ])(
    'fails with exit 1 and the line number on %s, leaving the previous workbook untouched',
    async (_name, csv, linePattern) => {
      const sub = await mkdtemp(join(dir, 'bad-'));
      await writeTableauCsvFile(join(sub, 'opportunities.csv'), generated.header, generated.rows.slice(0, 50));
      const cfg = join(sub, 'cfg.yaml');
      await writeFile(cfg, config('      - { file: opportunities.csv, sheet: Opportunities }'));
      const first = await runCli(['run', 'pipeline', '--config', cfg]);
      expect(first.code).toBe(0);
      const target = join(sub, 'out', 'Pipeline.xlsx');
      const before = await readFile(target);

      await writeFile(join(sub, 'opportunities.csv'), csv);
      const res = await runCli(['run', 'pipeline', '--config', cfg]);
      expect(res.code).toBe(1);
      expect(res.stdout).toMatch(/CSV_MALFORMED/);
      expect(res.stdout).toMatch(linePattern);
      expect(res.stdout).toContain('opportunities.csv');
      expect((await readFile(target)).equals(before)).toBe(true);
      expect(await readdir(join(sub, 'out'))).toEqual(['Pipeline.xlsx']);
      expect(await readdir(join(sub, 'state', 'tmp'))).toEqual([]);
    },
  );

  it("reads Tableau's UTF-16 tab-separated crosstab into columns, and warns where a file is not UTF-8", async () => {
    const sub = await mkdtemp(join(dir, 'encodings-'));
    const crosstab = 'Region\tSales, Total\tOwner\r\nEMEA\t"1,234"\tÉlodie\r\nAPAC\t567\t東京\r\n';
    await writeFile(
      join(sub, 'crosstab.csv'),
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(crosstab, 'utf16le')]),
    );
    // A Latin-1 export saved by another tool: "Société" with a single 0xE9 byte.
    await writeFile(
      join(sub, 'latin1.csv'),
      Buffer.concat([
        Buffer.from('Account,Amount\n'),
        Buffer.from('Soci\xe9t\xe9,10\n', 'latin1'),
        Buffer.from('Acme,20\n'),
      ]),
    );
    const cfg = join(sub, 'cfg.yaml');
    await writeFile(
      cfg,
      config('      - { file: crosstab.csv, sheet: Crosstab }\n      - { file: latin1.csv, sheet: Latin }'),
    );
    const res = await runCli(['run', 'pipeline', '--json', '--config', cfg]);
    expect(res.code, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout.trim()) as { status: string; warnings: string[] };
    expect(report.status).toBe('succeeded');
    expect(report.warnings).toContainEqual(
      `Latin: "${join(sub, 'latin1.csv')}" has 2 invalid UTF-8 byte sequences (the first on line 2, at byte 19), ` +
        'written as "\uFFFD"; save the file as UTF-8, or as UTF-16 with its byte-order mark (Tableau\'s crosstab export)',
    );
    const book = XLSX.read(await readFile(join(sub, 'out', 'Pipeline.xlsx')));
    const rows = XLSX.utils.sheet_to_json<unknown[]>(book.Sheets['Crosstab']!, { header: 1 });
    expect(rows).toEqual([
      ['Region', 'Sales, Total', 'Owner'],
      ['EMEA', 1234, 'Élodie'],
      ['APAC', 567, '東京'],
    ]);
  });

  it('exits 2 with every problem listed for a bad config', async () => {
    const cfg = join(dir, 'bad.yaml');
    await writeFile(
      cfg,
      'timezone: Nowhere/City\nexports:\n  - id: BAD ID\n    views: []\n    destination: { type: local }\n',
    );
    const res = await runCli(['run', '--all', '--config', cfg]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/bad\.yaml:1 timezone:/);
    expect(res.stderr).toMatch(/bad\.yaml:3 exports\[0\]\.id:/);
    expect(res.stderr).toMatch(/bad\.yaml:4 exports\[0\]\.views:/);
    expect(res.stderr).toMatch(/exports\[0\]\.destination\.dir/);
  });

  it('exits 2 for an unknown export id, naming the known ones', async () => {
    const cfg = join(dir, 'ok.yaml');
    const res = await runCli(['run', 'nope', '--config', cfg]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/unknown export "nope".*pipeline/);
  });
});
