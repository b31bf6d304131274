/**
 * Update mode through the real CLI on team workbooks LibreOffice wrote (test/fixtures/team, made by
 * scripts/make-team-workbook.py): the export refreshes its table and its own sheets, every other part of the package
 * is byte for byte what it was, LibreOffice recalculates the team's formulas over the table to the new figures, the
 * pivot cache refreshes on open, notes follow their keys, and every refusal leaves the file exactly as it was.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readCellsRecalculated, readTeamManifest, type TeamWorkbookManifest } from '../helpers/libreoffice.js';
import { runCli } from './helpers/cli.js';

const FIXTURES = new URL('../fixtures/team/', import.meta.url);
let dir: string;
let header: string[];
let rows: string[][];
let manifest: TeamWorkbookManifest;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tee-update-'));
  [header = [], ...rows] = parse(await readFile(new URL('opportunities.csv', FIXTURES))) as string[][];
  manifest = await readTeamManifest(fileURLToPath(new URL('team.manifest.json', FIXTURES)));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Tonight's view: rows re-sorted, the first two deals (both with notes) gone, one new deal, amounts changed. */
function tonight(): string[][] {
  const amount = header.indexOf('Amount');
  const changed = rows
    .slice(2)
    .reverse()
    .map((r, i) => {
      const copy = [...r];
      if (i % 3 === 0) copy[amount] = `$${(1000 + i).toLocaleString('en-US')}`;
      return copy;
    });
  const fresh = [...(rows[3] ?? [])];
  fresh[0] = 'OPP-900001';
  return [...changed, fresh];
}

async function setUp(
  name: string,
  team: URL,
  extra = '',
  view: string[][] = tonight(),
): Promise<{ config: string; file: string }> {
  const folder = join(dir, name);
  const file = join(folder, 'out', 'Team.xlsx');
  await import('node:fs/promises').then((fs) => fs.mkdir(join(folder, 'out'), { recursive: true }));
  await copyFile(team, file);
  await writeFile(join(folder, 'tonight.csv'), toCsv([header, ...view]));
  const config = join(folder, 'export.yaml');
  await writeFile(
    config,
    `
timezone: Europe/Paris
stateDir: ./state
exports:
  - id: team
    views:
      - { file: tonight.csv, sheet: Opportunities${extra} }
    metrics: { from: Opportunities, asOf: 2026-11-27 }
    destination: { type: local, dir: ./out, fileName: Team.xlsx, mode: update }
`,
  );
  return { config, file };
}

async function entries(path: string): Promise<Map<string, Buffer>> {
  const zip = await JSZip.loadAsync(await readFile(path));
  const out = new Map<string, Buffer>();
  for (const [name, f] of Object.entries(zip.files)) if (!f.dir) out.set(name, await f.async('nodebuffer'));
  return out;
}

describe('update mode on a LibreOffice team workbook (local destination)', () => {
  it('refreshes the table and its own sheets and leaves every other part byte for byte', async () => {
    const { config, file } = await setUp('refresh', new URL('team.xlsx', FIXTURES));
    const before = await entries(file);
    const res = await runCli(['run', 'team', '--config', config, '--json']);
    expect(res.code, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout) as {
      status: string;
      update?: {
        tables: {
          teammateColumns: string[];
          calculatedColumns: string[];
          droppedRows: { key: string; values: string[] }[];
        }[];
      };
    };
    expect(report.status).toBe('succeeded');
    const table = report.update?.tables[0];
    expect(table?.teammateColumns).toEqual(['Next step']);
    expect(table?.calculatedColumns).toEqual(['Weighted']);
    // Both deals that left the view had notes: they are listed, not lost silently.
    expect(table?.droppedRows.map((d) => d.key).sort()).toEqual(['OPP-000001', 'OPP-000002']);
    expect(table?.droppedRows.find((d) => d.key === 'OPP-000001')?.values).toEqual([manifest.notes['OPP-000001']]);

    const after = await entries(file);
    const owned = (name: string): boolean =>
      name === manifest.table.part ||
      name === 'xl/workbook.xml' ||
      name === 'xl/styles.xml' ||
      name === '[Content_Types].xml' ||
      name === 'xl/_rels/workbook.xml.rels' ||
      name.startsWith('xl/pivotCache/pivotCacheDefinition') ||
      // The export's sheets (the Opportunities sheet and the metric/About sheets) and their tables.
      ownedSheetParts.has(name);
    const ownedSheetParts = await exportOwnedParts(before);
    const changed = [...before.keys()].filter(
      (n) => !owned(n) && !before.get(n)?.equals(after.get(n) ?? Buffer.alloc(0)),
    );
    expect(changed).toEqual([]);
    for (const name of before.keys()) if (!owned(name)) expect(after.has(name), name).toBe(true);
  });

  it('recalculates the team formulas over the table to the new total, refreshes the pivot on open, keeps notes on their keys', async () => {
    const { config, file } = await setUp('recalc', new URL('team.xlsx', FIXTURES));
    const res = await runCli(['run', 'team', '--config', config]);
    expect(res.code, res.stderr).toBe(0);
    const expectedTotal = tonight().reduce(
      (sum, r) => sum + Number((r[header.indexOf('Amount')] ?? '').replace(/[$,]/g, '')),
      0,
    );
    const notes = await readCellsRecalculated(file, 'Team notes');
    const total = notes.find((r) => r[0] === 'Total pipeline');
    expect(Number(total?.[1])).toBe(expectedTotal);
    const sheet = await readCellsRecalculated(file, 'Opportunities');
    const head = sheet[0] ?? [];
    const idAt = head.indexOf('Opportunity ID');
    const noteAt = head.indexOf('Next step');
    for (const [key, note] of Object.entries(manifest.notes)) {
      const row = sheet.find((r) => r[idAt] === key);
      if (key === 'OPP-000001' || key === 'OPP-000002') expect(row).toBeUndefined();
      else expect(row?.[noteAt], key).toBe(note);
    }
    expect(sheet.filter((r) => r[noteAt] !== '' && r !== head)).toHaveLength(Object.keys(manifest.notes).length - 2);
    const zip = await JSZip.loadAsync(await readFile(file));
    const cache = await zip.file('xl/pivotCache/pivotCacheDefinition1.xml')?.async('string');
    expect(cache).toMatch(/refreshOnLoad="1"/);
    expect(cache).toMatch(new RegExp(`<worksheetSource ref="A1:Q${tonight().length + 1}" sheet="Opportunities"/>`));
  });

  it('keeps vbaProject.bin and the macro-enabled content type of an .xlsm', async () => {
    const { config, file } = await setUp('xlsm', new URL('team.xlsm', FIXTURES));
    const before = await entries(file);
    const res = await runCli(['run', 'team', '--config', config]);
    expect(res.code, res.stderr).toBe(0);
    const after = await entries(file);
    expect(after.get('xl/vbaProject.bin')?.equals(before.get('xl/vbaProject.bin') ?? Buffer.alloc(1))).toBe(true);
    expect(after.get('[Content_Types].xml')?.toString()).toMatch(/macroEnabled\.main\+xml/);
  });

  it.each([
    [
      'a table that is not in the workbook',
      ', table: Deals',
      /WORKBOOK_UPDATE_TABLE_NOT_FOUND.*no table named 'Deals'/,
    ],
    ['a key column the view does not have', ', key: Deal Number', /WORKBOOK_UPDATE_KEY_MISSING.*"Deal Number"/],
  ])('refuses %s and leaves the file byte for byte', async (_name, extra, message) => {
    const { config, file } = await setUp(`refuse-${extra.length}`, new URL('team.xlsx', FIXTURES), extra);
    const before = await readFile(file);
    const res = await runCli(['run', 'team', '--config', config]);
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).toMatch(message);
    expect((await readFile(file)).equals(before)).toBe(true);
  });

  it('refuses a table that would grow into other content, and an encrypted file, leaving them byte for byte', async () => {
    // Something a teammate typed right below the table, which grows by five rows tonight.
    const grown = [...rows, ...rows.slice(0, 5).map((r, i) => [`OPP-95000${i}`, ...r.slice(1)])];
    const { config, file } = await setUp('overlap', new URL('team.xlsx', FIXTURES), '', grown);
    const zip = await JSZip.loadAsync(await readFile(file));
    const part = manifest.sheets.find((s) => s.name === 'Opportunities')?.part ?? '';
    const xml = (await zip.file(part)?.async('string')) ?? '';
    zip.file(
      part,
      xml.replace(
        '</sheetData>',
        '<row r="303"><c r="B303" t="inlineStr"><is><t>my total</t></is></c></row></sheetData>',
      ),
    );
    await writeFile(file, await zip.generateAsync({ type: 'nodebuffer' }));
    const blocked = await readFile(file);
    const res = await runCli(['run', 'team', '--config', config]);
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).toMatch(/WORKBOOK_UPDATE_OVERLAP.*Opportunities!B303/);
    expect((await readFile(file)).equals(blocked)).toBe(true);

    const ole = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(4096, 1)]);
    await writeFile(file, ole);
    const encrypted = await runCli(['run', 'team', '--config', config]);
    expect(encrypted.code).toBe(1);
    expect(encrypted.stdout + encrypted.stderr).toMatch(/encrypted or password-protected/);
    expect((await readFile(file)).equals(ole)).toBe(true);
  });

  it('validate --online checks the team workbook, each table and each key up front, and changes nothing', async () => {
    const good = await setUp('validate-good', new URL('team.xlsx', FIXTURES), ', key: Opportunity ID');
    const before = await readFile(good.file);
    const ok = await runCli(['validate', '--online', '--config', good.config]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/✓ team: team workbook .*Team\.xlsx can be updated/);
    expect(ok.stdout).toMatch(
      /✓ team: table 'Opportunities' on sheet 'Opportunities': 17 columns, key "Opportunity ID"/,
    );
    expect(ok.stdout).toMatch(/online check passed/);
    expect((await readFile(good.file)).equals(before)).toBe(true);

    // A key the table does not have, and a view whose sheet is the team's own (no table of ours): both named at once.
    const bad = await setUp('validate-bad', new URL('team.xlsx', FIXTURES), ', key: Deal Number');
    await writeFile(
      bad.config,
      (await readFile(bad.config, 'utf8')).replace(
        '    metrics:',
        '      - { file: tonight.csv, sheet: Team notes }\n    metrics:',
      ),
    );
    const res = await runCli(['validate', '--online', '--config', bad.config]);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(res.stderr).toMatch(/online check failed \(2 problems/);
    expect(res.stderr).toMatch(/views\[0\]: the key column "Deal Number" is not a column of table 'Opportunities'/);
    expect(res.stderr).toMatch(/views\[1\]: .*has a sheet 'Team notes' but no table named 'Team_notes'/);

    // Not a workbook at all (a CSV saved under the .xlsx name): refused with what it is.
    await writeFile(bad.file, 'Opportunity ID,Amount\nOPP-1,10\n');
    const csv = await runCli(['validate', '--online', '--config', bad.config]);
    expect(csv.code).toBe(1);
    expect(csv.stderr).toMatch(/team: team workbook: .*cannot be updated/);
    expect(await readFile(bad.file, 'utf8')).toBe('Opportunity ID,Amount\nOPP-1,10\n');
  });

  it('refuses teammate values without a key and leaves the file byte for byte', async () => {
    const { config, file } = await setUp('no-key', new URL('team.xlsx', FIXTURES));
    // Without metrics there is no default key (metrics.columns.id).
    await writeFile(config, (await readFile(config, 'utf8')).replace(/\n {4}metrics: .*\n/, '\n'));
    const before = await readFile(file);
    const res = await runCli(['run', 'team', '--config', config]);
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).toMatch(/WORKBOOK_UPDATE_KEY_REQUIRED.*"Next step".*key/);
    expect((await readFile(file)).equals(before)).toBe(true);
  });
});

/** The parts of the sheets the export writes whole or refreshes: the data sheet, the metric and About sheets, their tables. */
async function exportOwnedParts(before: Map<string, Buffer>): Promise<Set<string>> {
  const ownedSheets = new Set([
    'Opportunities',
    'Summary',
    'Funnel',
    'Stale deals',
    'Unqualified leads',
    'By owner',
    'By product',
    'Breakdowns',
    'Monthly revenue',
    'Lead target',
    'Trend',
    'Stage moves',
    'About',
  ]);
  const parts = new Set<string>();
  for (const sheet of manifest.sheets) {
    if (!ownedSheets.has(sheet.name)) continue;
    parts.add(sheet.part);
    const rels = sheet.part.replace(/([^/]+)$/, '_rels/$1.rels');
    parts.add(rels);
    const relsXml = before.get(rels)?.toString() ?? '';
    for (const m of relsXml.matchAll(/Target="\.\.\/tables\/(table\d+\.xml)"/g)) parts.add(`xl/tables/${m[1] ?? ''}`);
  }
  return parts;
}

function toCsv(table: readonly (readonly string[])[]): string {
  return table.map((r) => r.map((v) => `"${v.replace(/"/g, '""')}"`).join(',')).join('\n') + '\n';
}
