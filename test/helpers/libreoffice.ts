/**
 * LibreOffice (Debian's `libreoffice-calc-nogui`, headless) as an independent spreadsheet program for tests: convert a
 * workbook with every formula recalculated from its cells, read a sheet back as LibreOffice computes it, and build
 * the team's workbook (`scripts/make-team-workbook.py`) that update-mode tests patch.
 *
 * Every call runs its own soffice with a private, throw-away profile (`-env:UserInstallation`), so calls never share
 * state or hand their work to an instance another test started. One call costs about 3 s on this project's 2-core
 * machines (most of it LibreOffice's start-up), so keep them few: export all sheets in one call rather than one call
 * per sheet. `npm test` installs LibreOffice first (`scripts/ensure-libreoffice.sh`).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { parse as parseCsv } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import { SAFE_XML_PARSER_OPTIONS } from '../../src/shared/xml-entities.js';
import JSZip from 'jszip';
import { z } from 'zod';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Debian's python3, the one python3-uno belongs to (a pyenv `python3` on PATH has no `uno`). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
const TEAM_SCRIPT = join(REPO_ROOT, 'scripts', 'make-team-workbook.py');
const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * CSV export: comma, double quotes, UTF-8 (76), cell values as stored rather than as shown (so `$45,047` reads back
 * as `45047`), no formulas, sheet by its 1-based position or -1 for every sheet (LibreOffice 7.2+, one file each,
 * named `<input stem>-<sheet name>.csv`). Token meanings: https://help.libreoffice.org/latest/en-US/text/shared/guide/csv_params.html
 */
const CSV_FILTER = 'Text - txt - csv (StarCalc)';
const csvOptions = (sheetNumber: number): string => `44,34,76,1,,0,false,true,false,false,false,${sheetNumber}`;

/** The soffice found on PATH (or /usr/bin/soffice), or undefined. */
function findSoffice(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/bin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, 'soffice');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** True when an executable `soffice` and Debian's python3 exist (cheap: no process is started). */
export function libreOfficeAvailable(): boolean {
  if (findSoffice() === undefined) return false;
  try {
    accessSync(SYSTEM_PYTHON, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function requireSoffice(): string {
  const soffice = findSoffice();
  if (soffice === undefined) {
    throw new Error(
      'LibreOffice (soffice) is not installed: run `bash scripts/ensure-libreoffice.sh` (npm test does it for you)',
    );
  }
  return soffice;
}

interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command in its own process group; on timeout the whole group (soffice forks soffice.bin) is killed. */
function runProcess(command: string, args: readonly string[], timeoutMs: number): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`${basename(command)} ${args.join(' ')} took longer than ${timeoutMs} ms and was killed`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/**
 * Writes a LibreOffice profile whose registry sets "Recalculation on file load" for OOXML and ODF: 0 = always (every
 * formula is computed from the cells when the file opens, cached `<v>` values are ignored), 1 = never (LibreOffice
 * shows the cached values). Set explicitly both ways, so a test never depends on the machine's default.
 */
async function writeRecalcProfile(profileDir: string, recalc: boolean): Promise<void> {
  const mode = recalc ? 0 : 1;
  const item = (name: string): string =>
    `<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="${name}" oor:op="fuse"><value>${mode}</value></prop></item>`;
  await mkdir(join(profileDir, 'user'), { recursive: true });
  await writeFile(
    join(profileDir, 'user', 'registrymodifications.xcu'),
    [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
      item('OOXMLRecalcMode'),
      item('ODFRecalcMode'),
      '</oor:items>',
      '',
    ].join('\n'),
  );
}

/** Sheet names of an .xlsx/.xlsm in tab order (hidden sheets included), read from xl/workbook.xml. */
export async function workbookSheetNames(xlsxPath: string): Promise<string[]> {
  const zip = await JSZip.loadAsync(await readFile(xlsxPath));
  const xml = await zip.file('xl/workbook.xml')?.async('string');
  if (xml === undefined) throw new Error(`${xlsxPath} has no xl/workbook.xml: not a SpreadsheetML package`);
  const parsed = new XMLParser({
    ...SAFE_XML_PARSER_OPTIONS,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (n) => n === 'sheet',
  }).parse(xml);
  const sheets = z
    .object({ workbook: z.object({ sheets: z.object({ sheet: z.array(z.object({ name: z.string() })) }) }) })
    .parse(parsed);
  return sheets.workbook.sheets.sheet.map((s) => s.name);
}

export interface ConvertOptions {
  readonly to: 'xlsx' | 'csv' | 'pdf';
  /** Folder for the output (created if missing); must not be the input's folder when converting xlsx to xlsx. */
  readonly outDir: string;
  /** CSV only: export this sheet (by name); default every sheet, one file each. */
  readonly sheet?: string;
  /** Recalculate every formula when LibreOffice loads the file (true), or keep the cached values (false). */
  readonly recalc: boolean;
  readonly timeoutMs?: number;
}

async function filterFor(input: string, options: ConvertOptions): Promise<{ filter: string; outputs: string[] }> {
  const stem = basename(input, extname(input));
  const outDir = resolve(options.outDir);
  if (options.to === 'pdf') return { filter: 'pdf', outputs: [join(outDir, `${stem}.pdf`)] };
  if (options.to === 'xlsx') {
    if (outDir === resolve(dirname(input)) && extname(input) === '.xlsx') {
      throw new Error(`convertWithLibreOffice: outDir ${outDir} is the folder of ${input}; it would overwrite it`);
    }
    return { filter: 'xlsx:Calc MS Excel 2007 XML', outputs: [join(outDir, `${stem}.xlsx`)] };
  }
  const names = await workbookSheetNames(input);
  if (options.sheet === undefined) {
    return {
      filter: `csv:${CSV_FILTER}:${csvOptions(-1)}`,
      outputs: names.map((n) => join(outDir, `${stem}-${n}.csv`)),
    };
  }
  const position = names.indexOf(options.sheet);
  if (position < 0) {
    throw new Error(`convertWithLibreOffice: ${input} has no sheet '${options.sheet}' (sheets: ${names.join(', ')})`);
  }
  return {
    filter: `csv:${CSV_FILTER}:${csvOptions(position + 1)}`,
    outputs: [join(outDir, `${stem}-${options.sheet}.csv`)],
  };
}

/**
 * Converts `input` with LibreOffice headless (`--convert-to`) and returns the paths written. CSV exports every sheet
 * (one `<stem>-<sheet>.csv` each) unless `sheet` names one; UTF-8, values as stored. With `recalc: true` every
 * formula is recomputed from the cells on load, so the output shows what a spreadsheet program computes, not the
 * cached values in the file. Throws when soffice is missing, fails, times out, or does not write the expected files.
 */
export async function convertWithLibreOffice(input: string, options: ConvertOptions): Promise<string[]> {
  const soffice = requireSoffice();
  await stat(input); // a clear ENOENT naming the input, rather than LibreOffice's silence
  const { filter, outputs } = await filterFor(input, options);
  await mkdir(options.outDir, { recursive: true });
  const profile = await mkdtemp(join(tmpdir(), 'tee-lo-profile-'));
  try {
    await writeRecalcProfile(profile, options.recalc);
    const args = [
      `-env:UserInstallation=${pathToFileURL(profile).href}`,
      '--headless',
      '--norestore',
      '--nologo',
      '--nolockcheck',
      '--convert-to',
      filter,
      '--outdir',
      resolve(options.outDir),
      resolve(input),
    ];
    const res = await runProcess(soffice, args, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const missing: string[] = [];
    for (const out of outputs) {
      try {
        await stat(out);
      } catch {
        missing.push(out);
      }
    }
    if (res.code !== 0 || missing.length > 0) {
      const present = (await readdir(options.outDir)).join(', ') || 'nothing';
      throw new Error(
        `LibreOffice did not convert ${input} to ${options.to} (exit ${res.code}; missing ${missing.join(', ') || 'none'}; ` +
          `${options.outDir} holds ${present}): ${`${res.stdout}\n${res.stderr}`.trim()}`,
      );
    }
    return outputs;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/**
 * One sheet of a workbook as LibreOffice shows it after recalculating every formula from the cells: rows of cell
 * texts (values as stored: numbers unformatted, dates ISO, percents with `%`, booleans TRUE/FALSE; empty cells '').
 * One LibreOffice call (~3 s).
 */
export async function readCellsRecalculated(xlsxPath: string, sheet: string): Promise<string[][]> {
  const outDir = await mkdtemp(join(tmpdir(), 'tee-lo-csv-'));
  try {
    const [csv] = await convertWithLibreOffice(xlsxPath, { to: 'csv', outDir, sheet, recalc: true });
    return parseCsv(await readFile(csv!, 'utf8'), { relax_column_count: true }) as string[][];
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

const manifestSchema = z.object({
  libreOffice: z.string(),
  table: z.object({
    name: z.string(),
    sheet: z.string(),
    key: z.string(),
    part: z.string(),
    idBefore: z.number(),
    id: z.number(),
    /** Whether the table part has a tableStyleInfo (LibreOffice 7.4 drops it). */
    styledBefore: z.boolean(),
    styled: z.boolean(),
    refBefore: z.string(),
    refAfter: z.string(),
    columnsBefore: z.array(z.string()),
    columns: z.array(z.string()),
    calculatedColumnsInTablePart: z.array(z.string()),
    formulaColumn: z.object({
      name: z.string(),
      column: z.string(),
      style: z.enum(['structured', 'a1']),
      firstCell: z.string(),
      firstFormula: z.string(),
      formulaCells: z.number(),
    }),
    notesColumn: z.object({ name: z.string(), column: z.string() }),
  }),
  notes: z.record(z.string(), z.string()),
  noteRows: z.record(z.string(), z.number()),
  sheets: z.array(
    z.object({
      name: z.string(),
      sheetId: z.number(),
      state: z.string(),
      part: z.string(),
      tabColor: z.string().nullable(),
    }),
  ),
  formulasOverTable: z.array(
    z.object({ sheet: z.string(), cell: z.string(), formula: z.string(), cachedValue: z.string().nullable() }),
  ),
  structuredReferences: z.boolean(),
  teamNotes: z.object({
    sheet: z.string(),
    totalCell: z.string(),
    totalFormula: z.string(),
    countCell: z.string(),
    weightedCell: z.string(),
    targetCell: z.string(),
    target: z.number(),
    stageBlock: z.string(),
    conditionalFormatting: z.array(z.object({ sqref: z.string(), rules: z.array(z.string()) })),
    dataValidations: z.array(z.object({ sqref: z.string(), type: z.string(), formula1: z.string().nullable() })),
    tabColor: z.string().nullable(),
    related: z.array(z.object({ type: z.string(), part: z.string() })),
  }),
  comments: z.array(z.object({ part: z.string(), cell: z.string(), author: z.string(), text: z.string() })),
  pivot: z.object({
    sheet: z.string(),
    name: z.string(),
    tables: z.array(z.string()),
    caches: z.array(
      z.object({
        part: z.string(),
        source: z.object({ ref: z.string().optional(), sheet: z.string().optional(), name: z.string().optional() }),
        refreshOnLoad: z.boolean(),
        recordCount: z.number(),
        fields: z.array(z.string()),
      }),
    ),
  }),
  charts: z.array(z.object({ part: z.string(), ranges: z.array(z.string()) })),
  hiddenSheets: z.array(z.string()),
  calcChain: z.boolean(),
  parts: z.array(z.string()),
  xlsm: z.object({ file: z.string(), part: z.string(), bytes: z.number(), sha256: z.string() }).optional(),
});

/** What `scripts/make-team-workbook.py` found in the workbook it saved (`<stem>.manifest.json`). */
export type TeamWorkbookManifest = z.infer<typeof manifestSchema>;

/** Reads and checks a manifest written by `scripts/make-team-workbook.py`. */
export async function readTeamManifest(path: string): Promise<TeamWorkbookManifest> {
  return manifestSchema.parse(JSON.parse(await readFile(path, 'utf8')));
}

export interface TeamWorkbookScriptOptions {
  /** The team workbook to write (.xlsx); the manifest goes to `<stem>.manifest.json`. */
  readonly out: string;
  /** Also write `<stem>.xlsm` (the same package with an `xl/vbaProject.bin` part). */
  readonly xlsm: boolean;
  readonly formulaStyle?: 'structured' | 'a1';
  readonly table?: string;
  readonly key?: string;
}

/**
 * Runs `scripts/make-team-workbook.py` (Debian's python3 + UNO, one LibreOffice session, about 4 s) on `baseXlsx`.
 * Returns the manifest's path. Throws with the script's message when it fails.
 */
export async function runTeamWorkbookScript(baseXlsx: string, options: TeamWorkbookScriptOptions): Promise<string> {
  requireSoffice();
  const out = resolve(options.out);
  const args = [TEAM_SCRIPT, resolve(baseXlsx), '--out', out];
  if (options.xlsm) args.push('--xlsm');
  if (options.formulaStyle !== undefined) args.push('--formula-style', options.formulaStyle);
  if (options.table !== undefined) args.push('--table', options.table);
  if (options.key !== undefined) args.push('--key', options.key);
  const res = await runProcess(SYSTEM_PYTHON, args, DEFAULT_TIMEOUT_MS);
  if (res.code !== 0) {
    throw new Error(`scripts/make-team-workbook.py failed (exit ${res.code}): ${res.stderr.trim() || res.stdout}`);
  }
  return `${out.slice(0, -'.xlsx'.length)}.manifest.json`;
}

export interface TeamWorkbook {
  readonly xlsx: string;
  readonly xlsm: string;
  readonly manifestPath: string;
  readonly manifest: TeamWorkbookManifest;
}

/**
 * Builds the team's workbook from `baseXlsx` (a workbook written by tableau-export) in LibreOffice:
 * `<outDir>/team.xlsx`, `<outDir>/team.xlsm` and `<outDir>/team.manifest.json` (the script's header says what it
 * adds). Throws with the script's message when it fails.
 */
export async function makeTeamWorkbook(
  baseXlsx: string,
  outDir: string,
  options: Omit<TeamWorkbookScriptOptions, 'out' | 'xlsm'> = {},
): Promise<TeamWorkbook> {
  const xlsx = join(resolve(outDir), 'team.xlsx');
  const manifestPath = await runTeamWorkbookScript(baseXlsx, { ...options, out: xlsx, xlsm: true });
  return {
    xlsx,
    xlsm: join(resolve(outDir), 'team.xlsm'),
    manifestPath,
    manifest: await readTeamManifest(manifestPath),
  };
}
