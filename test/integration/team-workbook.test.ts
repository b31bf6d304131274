/**
 * The team's workbook that update-mode tests patch, built the way a teammate builds it: our CLI writes the base
 * workbook, LibreOffice (headless, through UNO: scripts/make-team-workbook.py) adds a formula column and a notes
 * column inside the table, a Team notes sheet with formulas over the table, a pivot table, a chart, conditional
 * formatting, data validation, a comment, a hidden sheet, and the .xlsm variant gets a vbaProject.bin part. The
 * packages are read back part by part (JSZip) and cell by cell (SheetJS), and LibreOffice's recalculation on load is
 * checked against a value edited at the XML level.
 *
 * LibreOffice is required, not optional: `npm test` installs it (scripts/ensure-libreoffice.sh).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import { SAFE_XML_PARSER_OPTIONS } from '../../src/shared/xml-entities.js';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import XLSX from 'xlsx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINE_HEADER, PIPELINE_STAGES } from '../../src/simulators/demo-data/pipeline-generator.js';
import { makeBaseWorkbook } from '../helpers/base-workbook.js';
import {
  convertWithLibreOffice,
  libreOfficeAvailable,
  makeTeamWorkbook,
  readCellsRecalculated,
  readTeamManifest,
  REPO_ROOT,
  type TeamWorkbook,
} from '../helpers/libreoffice.js';

const ROWS = 300;
const AS_OF = new Date(Date.UTC(2026, 10, 27));
const TABLE_REF = `A1:Q${ROWS + 1}`;
const STRUCTURED_WEIGHTED = 'Opportunities[[#This Row],[Amount]]*Opportunities[[#This Row],[Probability]]';

interface Opportunity {
  readonly id: string;
  readonly stage: string;
  readonly amount: number;
  readonly probability: number;
}

let dir: string;
let team: TeamWorkbook;
let teamA1: TeamWorkbook;
let baseXlsx: string;
let opportunities: Opportunity[];
let zip: JSZip;
let edited: { path: string; target: Opportunity; delta: number };

const xml = new XMLParser({ ...SAFE_XML_PARSER_OPTIONS, ignoreAttributes: false, attributeNamePrefix: '' });
/** The same, with the elements that repeat always as arrays. */
const lists = new XMLParser({
  ...SAFE_XML_PARSER_OPTIONS,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  isArray: (name) => ['conditionalFormatting', 'cfRule', 'dataValidation'].includes(name),
});

async function part(z: JSZip, path: string): Promise<string> {
  const text = await z.file(path)?.async('string');
  if (text === undefined) throw new Error(`the package has no part ${path}; it has ${Object.keys(z.files).join(', ')}`);
  return text;
}

/** Relationships of a part: Id → { type (last URI segment), target (package path) }. */
async function rels(z: JSZip, partPath: string): Promise<Map<string, { type: string; target: string }>> {
  const folder = partPath.slice(0, partPath.lastIndexOf('/'));
  const name = partPath.slice(partPath.lastIndexOf('/') + 1);
  const text = await z.file(`${folder}/_rels/${name}.rels`)?.async('string');
  const out = new Map<string, { type: string; target: string }>();
  if (text === undefined) return out;
  for (const m of text.matchAll(/<Relationship ([^>]*)\/>/g)) {
    const attr = (a: string): string => new RegExp(`${a}="([^"]*)"`).exec(m[1]!)![1]!;
    const target = new URL(attr('Target'), `file:///${folder}/`).pathname.slice(1);
    out.set(attr('Id'), { type: attr('Type').split('/').pop()!, target });
  }
  return out;
}

async function sheetPart(z: JSZip, sheet: string): Promise<string> {
  const wb = await part(z, 'xl/workbook.xml');
  const m = new RegExp(`<sheet [^>]*name="${sheet}"[^>]*r:id="([^"]+)"`).exec(wb);
  if (m === null) throw new Error(`no sheet ${sheet} in xl/workbook.xml`);
  return (await rels(z, 'xl/workbook.xml')).get(m[1]!)!.target;
}

async function tablePart(z: JSZip, name: string): Promise<Record<string, unknown>> {
  for (const path of Object.keys(z.files).filter((p) => /^xl\/tables\/table\d+\.xml$/.test(p))) {
    const table = xml.parse(await part(z, path)).table;
    if (table.name === name) return table;
  }
  throw new Error(`no table part named ${name}`);
}

function tableColumnNames(table: Record<string, unknown>): string[] {
  const cols = (table['tableColumns'] as { tableColumn: { name: string }[] }).tableColumn;
  return cols.map((c) => c.name);
}

/** 'B3' → [row 2, column 1] in a 2-D array of rows. */
function cellOf(rows: string[][], ref: string): string {
  const m = /^([A-Z]+)(\d+)$/.exec(ref)!;
  const col = [...m[1]!].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0) - 1;
  return rows[Number(m[2]) - 1]?.[col] ?? '';
}

/**
 * A copy of the team workbook with one Amount changed at the XML level (cell value only: every cached formula value
 * in the file stays as it was), on an open deal so the weighted total moves too.
 */
async function writeEditedCopy(): Promise<{ path: string; target: Opportunity; delta: number }> {
  const target = opportunities.find((o) => o.probability > 0 && o.probability < 1)!;
  const row = opportunities.indexOf(target) + 2;
  const delta = 1_000_000;
  const copy = await JSZip.loadAsync(await readFile(team.xlsx));
  const sheetPath = await sheetPart(copy, 'Opportunities');
  const sheetXml = await part(copy, sheetPath);
  const cell = new RegExp(`(<c r="I${row}"[^>]*>)<v>(\\d+(?:\\.\\d+)?)</v>`);
  if (Number(cell.exec(sheetXml)?.[2]) !== target.amount) {
    throw new Error(`cell I${row} of ${sheetPath} does not hold ${target.id}'s Amount ${target.amount}`);
  }
  copy.file(sheetPath, sheetXml.replace(cell, `$1<v>${target.amount + delta}</v>`));
  const path = join(dir, 'edited.xlsx');
  await writeFile(path, await copy.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
  return { path, target, delta };
}

function sumBy(pick: (o: Opportunity) => number): number {
  return opportunities.reduce((s, o) => s + pick(o), 0);
}

beforeAll(async () => {
  if (!libreOfficeAvailable()) {
    throw new Error(
      'LibreOffice is missing (soffice, and /usr/bin/python3 with python3-uno): run `bash scripts/ensure-libreoffice.sh`; `npm test` installs it',
    );
  }
  dir = await mkdtemp(join(tmpdir(), 'tee-team-wb-test-'));
  const csv = join(dir, 'opportunities.csv');
  const base = await makeBaseWorkbook({ rows: ROWS, seed: 42, asOf: AS_OF, out: join(dir, 'base.xlsx'), csv });
  baseXlsx = base.xlsx;
  [team, teamA1] = await Promise.all([
    makeTeamWorkbook(base.xlsx, join(dir, 'team')),
    makeTeamWorkbook(base.xlsx, join(dir, 'team-a1'), { formulaStyle: 'a1' }),
  ]);
  const records = parseCsv(await readFile(csv, 'utf8'), { columns: true }) as Record<string, string>[];
  opportunities = records.map((r) => ({
    id: r['Opportunity ID']!,
    stage: r['Stage']!,
    amount: Number(r['Amount']!.replace(/[$,]/g, '')),
    probability: Number(r['Probability']!.replace('%', '')) / 100,
  }));
  zip = await JSZip.loadAsync(await readFile(team.xlsx));
  edited = await writeEditedCopy();
}, 240_000);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('the team workbook (LibreOffice-built)', () => {
  it('extends the table with a formula column and a notes column, and its table part lists both', async () => {
    const before = await tablePart(await JSZip.loadAsync(await readFile(baseXlsx)), 'Opportunities');
    expect(before['ref']).toBe(`A1:O${ROWS + 1}`);
    expect(team.manifest.table.refBefore).toBe(before['ref']);

    const table = await tablePart(zip, 'Opportunities');
    expect(table['ref']).toBe(TABLE_REF);
    expect((table['autoFilter'] as { ref: string }).ref).toBe(TABLE_REF);
    expect(tableColumnNames(table)).toEqual([...PIPELINE_HEADER, 'Weighted', 'Next step']);
    expect(team.manifest.table.refAfter).toBe(TABLE_REF);

    const book = XLSX.read(await readFile(team.xlsx), { cellFormula: true });
    const sheet = book.Sheets['Opportunities']!;
    expect(sheet['P1']?.v).toBe('Weighted');
    expect(sheet['Q1']?.v).toBe('Next step');
    const byId = new Map(opportunities.map((o) => [o.id, o]));
    for (let r = 2; r <= ROWS + 1; r += 1) {
      const o = byId.get(String(sheet[`A${r}`]?.v))!;
      expect(sheet[`P${r}`]?.f).toBe(STRUCTURED_WEIGHTED);
      expect(sheet[`P${r}`]?.v).toBeCloseTo(o.amount * o.probability, 6);
    }
    expect(team.manifest.table.formulaColumn).toMatchObject({ firstFormula: STRUCTURED_WEIGHTED, formulaCells: ROWS });

    const a1 = XLSX.read(await readFile(teamA1.xlsx), { cellFormula: true }).Sheets['Opportunities']!;
    expect(a1['P2']?.f).toBe('I2*J2');
    expect(a1[`P${ROWS + 1}`]?.f).toBe(`I${ROWS + 1}*J${ROWS + 1}`);
    expect(
      tableColumnNames(await tablePart(await JSZip.loadAsync(await readFile(teamA1.xlsx)), 'Opportunities')),
    ).toEqual([...PIPELINE_HEADER, 'Weighted', 'Next step']);
  });

  it('puts each note on the row of its key, as text, and nowhere else', async () => {
    const notes = team.manifest.notes;
    expect(Object.keys(notes)).toHaveLength(7);
    expect(notes).toHaveProperty('OPP-000001');
    expect(notes).toHaveProperty(`OPP-${String(ROWS).padStart(6, '0')}`);
    const sheet = XLSX.read(await readFile(team.xlsx), { cellFormula: true }).Sheets['Opportunities']!;
    const written = new Map<string, string>();
    for (let r = 2; r <= ROWS + 1; r += 1) {
      const note = sheet[`Q${r}`];
      if (note === undefined) continue;
      expect(note.t).toBe('s');
      expect(note.f).toBeUndefined();
      written.set(String(sheet[`A${r}`]?.v), String(note.v));
    }
    expect(Object.fromEntries(written)).toEqual(notes);
    expect(Object.values(notes)).toContain('=check with legal before signing');
  });

  it('has a Team notes sheet whose formulas over the table hold the values LibreOffice computed', async () => {
    const sheet = XLSX.read(await readFile(team.xlsx), { cellFormula: true }).Sheets['Team notes']!;
    expect(sheet['B3']).toMatchObject({ f: 'SUM(Opportunities[Amount])', v: sumBy((o) => o.amount) });
    expect(sheet['B4']).toMatchObject({ f: 'COUNTA(Opportunities[Opportunity ID])', v: ROWS });
    expect(sheet['B5']?.f).toBe('SUM(Opportunities[Weighted])');
    expect(sheet['B5']?.v).toBeCloseTo(
      sumBy((o) => o.amount * o.probability),
      4,
    );
    PIPELINE_STAGES.forEach((stage, i) => {
      const row = 11 + i;
      expect(sheet[`A${row}`]?.v).toBe(stage);
      expect(sheet[`B${row}`]).toMatchObject({
        f: `SUMIFS(Opportunities[Amount],Opportunities[Stage],A${row})`,
        v: sumBy((o) => (o.stage === stage ? o.amount : 0)),
      });
    });
    expect(team.manifest.structuredReferences).toBe(true);
    expect(team.manifest.formulasOverTable.map((f) => f.cell)).toEqual(
      expect.arrayContaining(['B3', 'B4', 'B5', 'B11']),
    );
  });

  it('has a pivot table on Pivot whose cache reads the table (by its range), sum of Amount by Stage', async () => {
    const wb = await part(zip, 'xl/workbook.xml');
    const cacheRid = /<pivotCache [^>]*r:id="([^"]+)"/.exec(wb)?.[1];
    expect(cacheRid).toBeDefined();
    const definitionPath = (await rels(zip, 'xl/workbook.xml')).get(cacheRid!)!.target;
    const definition = xml.parse(await part(zip, definitionPath)).pivotCacheDefinition;
    const source = definition.cacheSource.worksheetSource as { ref?: string; sheet?: string; name?: string };
    expect(source.name === 'Opportunities' || (source.ref === TABLE_REF && source.sheet === 'Opportunities')).toBe(
      true,
    );
    expect(Number(definition.recordCount)).toBe(ROWS);
    expect(team.manifest.pivot.caches[0]?.source).toEqual(source);

    const pivotRels = [...(await rels(zip, await sheetPart(zip, 'Pivot'))).values()];
    const pivotTable = pivotRels.find((r) => r.type === 'pivotTable');
    expect(pivotTable).toBeDefined();
    const pt = xml.parse(await part(zip, pivotTable!.target)).pivotTableDefinition;
    const columns = [...PIPELINE_HEADER, 'Weighted', 'Next step'];
    expect(Number(pt.rowFields.field.x)).toBe(columns.indexOf('Stage'));
    expect(Number(pt.dataFields.dataField.fld)).toBe(columns.indexOf('Amount'));
    expect(pt.dataFields.dataField.subtotal ?? 'sum').toBe('sum');
  });

  it('has a chart drawn on Team notes over its per-stage block', async () => {
    const drawing = [...(await rels(zip, await sheetPart(zip, 'Team notes'))).values()].find(
      (r) => r.type === 'drawing',
    );
    expect(drawing).toBeDefined();
    const chart = [...(await rels(zip, drawing!.target)).values()].find((r) => r.type === 'chart');
    expect(chart).toBeDefined();
    const ranges = [...(await part(zip, chart!.target)).matchAll(/<c:f>([^<]*)<\/c:f>/g)].map((m) =>
      m[1]!.replaceAll('&apos;', "'"),
    );
    expect(ranges).toEqual(expect.arrayContaining(["'Team notes'!$A$11:$A$17", "'Team notes'!$B$11:$B$17"]));
  });

  it('has conditional formatting, data validation, a comment, a hidden sheet and a tab colour outside the table', async () => {
    const sheetPath = await sheetPart(zip, 'Team notes');
    const sheet = lists.parse(await part(zip, sheetPath)).worksheet;
    const cf = sheet.conditionalFormatting.find((c: { sqref: string }) => c.sqref === 'B7');
    expect(cf.cfRule.map((r: Record<string, string>) => [r['type'], r['operator'], r['formula']])).toEqual([
      ['cellIs', 'lessThan', 0.5],
      ['cellIs', 'greaterThanOrEqual', 1],
    ]);
    expect(cf.cfRule.every((r: Record<string, string>) => /^\d+$/.test(String(r['dxfId'])))).toBe(true);
    expect(await part(zip, 'xl/styles.xml')).toMatch(/<dxfs count="[1-9]\d*">/);
    const validations = sheet.dataValidations.dataValidation.map((v: Record<string, unknown>) => [
      v['sqref'],
      v['type'],
      v['formula1'],
    ]);
    expect(validations).toEqual([
      ['B6', 'decimal', 0],
      ['B8', 'list', 'Lists!$A$1:$A$3'],
    ]);
    expect(sheet.sheetPr.tabColor.rgb).toBe('FF2E7D32');

    const comments = [...(await rels(zip, sheetPath)).values()].find((r) => r.type === 'comments');
    expect(comments).toBeDefined();
    const commentXml = await part(zip, comments!.target);
    expect(commentXml).toMatch(/<comment ref="B6"/);
    expect(commentXml).toContain('Quarterly target agreed with finance');

    const wb = await part(zip, 'xl/workbook.xml');
    expect(wb).toMatch(/<sheet name="Lists" [^>]*state="hidden"/);
    expect(/<sheet name="([^"]+)"/.exec(wb)?.[1]).toBe('Team notes');
    expect(team.manifest.hiddenSheets).toEqual(['Lists']);
  });

  it('makes an .xlsm: the same parts plus vbaProject.bin, its relationship and the macro-enabled content types', async () => {
    const xlsm = await JSZip.loadAsync(await readFile(team.xlsm));
    const vba = await xlsm.file('xl/vbaProject.bin')!.async('nodebuffer');
    expect(createHash('sha256').update(vba).digest('hex')).toBe(team.manifest.xlsm?.sha256);
    expect(vba.subarray(0, 8).toString('hex')).toBe('d0cf11e0a1b11ae1');

    const types = await part(xlsm, '[Content_Types].xml');
    expect(types).toContain('<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>');
    expect(types).toContain(
      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>',
    );
    expect(types).not.toContain('spreadsheetml.sheet.main+xml');
    const vbaRel = [...(await rels(xlsm, 'xl/workbook.xml')).values()].find((r) => r.type === 'vbaProject');
    expect(vbaRel?.target).toBe('xl/vbaProject.bin');

    const changed = ['[Content_Types].xml', 'xl/_rels/workbook.xml.rels'];
    const xlsxNames = Object.keys(zip.files).filter((n) => !zip.files[n]!.dir);
    expect(Object.keys(xlsm.files).sort()).toEqual([...xlsxNames, 'xl/vbaProject.bin'].sort());
    for (const name of xlsxNames.filter((n) => !changed.includes(n))) {
      const [a, b] = await Promise.all([zip.file(name)!.async('nodebuffer'), xlsm.file(name)!.async('nodebuffer')]);
      expect(b.equals(a), name).toBe(true);
    }

    // LibreOffice opens the .xlsm and computes the same Team notes.
    const rows = await readCellsRecalculated(team.xlsm, 'Team notes');
    expect(Number(cellOf(rows, 'B3'))).toBe(sumBy((o) => o.amount));
  });

  it('convertWithLibreOffice recalculates on load: an Amount edited in the XML changes the SUM over the table', async () => {
    const { path, target, delta } = edited;
    const total = sumBy((o) => o.amount);
    const weighted = sumBy((o) => o.amount * o.probability);
    const stageRow = 11 + PIPELINE_STAGES.indexOf(target.stage as (typeof PIPELINE_STAGES)[number]);
    const stageTotal = sumBy((o) => (o.stage === target.stage ? o.amount : 0));
    // The edited file still caches the old total: only a recalculation can show the new one.
    const editedZip = await JSZip.loadAsync(await readFile(path));
    expect(await part(editedZip, await sheetPart(editedZip, 'Team notes'))).toContain(`<v>${total}</v>`);

    // Without the profile setting LibreOffice shows the cached values (its OOXML default is not "always").
    const out = join(dir, 'converted');
    const [rows, [cached]] = await Promise.all([
      readCellsRecalculated(path, 'Team notes'),
      convertWithLibreOffice(path, { to: 'csv', outDir: out, sheet: 'Team notes', recalc: false }),
    ]);
    expect(Number(cellOf(rows, 'B3'))).toBe(total + delta);
    expect(Number(cellOf(rows, 'B5'))).toBeCloseTo(weighted + delta * target.probability, 4);
    expect(Number(cellOf(rows, `B${stageRow}`))).toBe(stageTotal + delta);
    expect(cached).toBe(join(out, 'edited-Team notes.csv'));
    expect(Number(cellOf(parseCsv(await readFile(cached!, 'utf8')) as string[][], 'B3'))).toBe(total);
  });

  it('convertWithLibreOffice writes a recalculated .xlsx, and a .pdf', async () => {
    const out = join(dir, 'converted-other');
    // A one-sheet workbook for the PDF: laying out all 16 sheets of the team workbook would take seconds for nothing.
    const small = new ExcelJS.Workbook();
    small.addWorksheet('Numbers').addRows([[1], [2], [{ formula: 'SUM(A1:A2)' }]]);
    const smallPath = join(dir, 'small.xlsx');
    await small.xlsx.writeFile(smallPath);
    const [xlsx, pdf] = await Promise.all([
      convertWithLibreOffice(edited.path, { to: 'xlsx', outDir: out, recalc: true }),
      convertWithLibreOffice(smallPath, { to: 'pdf', outDir: out, recalc: true }),
    ]);
    expect(xlsx).toEqual([join(out, 'edited.xlsx')]);
    const resaved = XLSX.read(await readFile(xlsx![0]!), { cellFormula: true }).Sheets['Team notes']!;
    expect(resaved['B3']).toMatchObject({ f: 'SUM(Opportunities[Amount])', v: sumBy((o) => o.amount) + edited.delta });
    expect(pdf).toEqual([join(out, 'small.pdf')]);
    expect((await readFile(pdf![0]!)).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect((await stat(pdf![0]!)).size).toBeGreaterThan(1_000);
  });
});

describe('the committed team workbooks (test/fixtures/team, config/team-workbook.xlsx)', () => {
  it.each([
    ['test/fixtures/team/team', ROWS],
    ['config/team-workbook', 5000],
  ])('%s.xlsx holds what its manifest says', async (stem, rows) => {
    const manifest = await readTeamManifest(join(REPO_ROOT, `${stem}.manifest.json`));
    const bytes = await readFile(join(REPO_ROOT, `${stem}.xlsx`));
    const committed = await JSZip.loadAsync(bytes);
    const table = await tablePart(committed, 'Opportunities');
    expect(table['ref']).toBe(`A1:Q${rows + 1}`);
    expect(manifest.table.refAfter).toBe(table['ref']);
    expect(tableColumnNames(table)).toEqual(manifest.table.columns);
    expect(
      Object.keys(committed.files)
        .filter((n) => !committed.files[n]!.dir)
        .sort(),
    ).toEqual([...manifest.parts].sort());
    const sheet = XLSX.read(bytes).Sheets['Opportunities']!;
    for (const [key, row] of Object.entries(manifest.noteRows)) {
      expect(sheet[`A${row}`]?.v).toBe(key);
      expect(sheet[`Q${row}`]?.v).toBe(manifest.notes[key]);
    }
    if (manifest.xlsm !== undefined) {
      const xlsm = await JSZip.loadAsync(await readFile(join(REPO_ROOT, `${stem}.xlsm`)));
      const vba = await xlsm.file(manifest.xlsm.part)!.async('nodebuffer');
      expect(createHash('sha256').update(vba).digest('hex')).toBe(manifest.xlsm.sha256);
    }
  });
});
