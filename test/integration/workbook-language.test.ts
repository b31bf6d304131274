/**
 * A French workbook through the real CLI (`exports[].workbook.language: fr`): every string the tool wrote — sheet
 * names, cells of the metric and About sheets, chart titles, the page footer — is scanned against the catalogues.
 * None may match an English message that French words differently, and each must be a French message, data from the
 * view, or a date written the French way. Tableau's column names stay as they are, and the numbers are the English
 * workbook's.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import XLSX from 'xlsx';
import { beforeAll, describe, expect, it } from 'vitest';
import { EN } from '../../src/shared/i18n/en.js';
import { FR } from '../../src/shared/i18n/fr.js';
import { createTranslator } from '../../src/shared/i18n/translator.js';
import { generatePipeline, writeTableauCsvFile } from '../../src/simulators/demo-data/pipeline-generator.js';
import { runCli } from './helpers/cli.js';

type Key = keyof typeof EN;
let dir: string;
let data: Set<string>;
let fr: XLSX.WorkBook;
let en: XLSX.WorkBook;
let frParts: Map<string, string>;

function config(id: string, language: string, asOf: string): string {
  return `
  - id: ${id}
    timezone: Europe/Paris
    views: [{ file: opps.csv, sheet: Opportunities }]
    metrics: { from: Opportunities, asOf: ${asOf}, leadTargetPerDay: 40000, qualifyWithinDays: 30, quota: 20000000 }
    workbook: { language: ${language} }
    destination: { type: local, dir: ./out, fileName: ${id}.xlsx }`;
}

async function run(id: string, exports: string): Promise<void> {
  await writeFile(join(dir, 'cfg.yaml'), `stateDir: ./state\nexports:${exports}\n`);
  const res = await runCli(['run', id, '--config', join(dir, 'cfg.yaml')]);
  expect(res.code, res.stdout + res.stderr).toBe(0);
}

function zipParts(buffer: Buffer): Map<string, string> {
  const container = XLSX.CFB.read(buffer, { type: 'buffer' }) as {
    FullPaths: string[];
    FileIndex: { type: number; content?: Uint8Array }[];
  };
  const parts = new Map<string, string>();
  container.FullPaths.forEach((fullPath, index) => {
    const entry = container.FileIndex[index];
    if (entry?.type === 2 && entry.content !== undefined)
      parts.set(fullPath.replace(/^Root Entry\//, ''), Buffer.from(entry.content).toString('utf8'));
  });
  return parts;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tee-lang-'));
  const generated = generatePipeline({ seed: 5, count: 600, asOf: new Date(Date.UTC(2026, 10, 27)) });
  await writeTableauCsvFile(join(dir, 'opps.csv'), generated.header, generated.rows);
  data = new Set([...generated.header, ...generated.rows.flat()].filter((s) => s !== ''));
  // Two nights, so the Summary compares with a previous run and the Stage moves sheet exists.
  await run('nightly-fr', config('nightly-fr', 'fr', '2026-11-26'));
  await run('nightly-fr', config('nightly-fr', 'fr', '2026-11-27'));
  await run('nightly-en', config('nightly-en', 'en', '2026-11-27'));
  const frBytes = await readFile(join(dir, 'out', 'nightly-fr.xlsx'));
  fr = XLSX.read(frBytes);
  en = XLSX.read(await readFile(join(dir, 'out', 'nightly-en.xlsx')));
  frParts = zipParts(frBytes);
}, 300_000);

/** A message as a pattern: each placeholder matches (and captures) anything. */
function pattern(template: string): RegExp {
  const escaped = template.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\{\w+\\\}/g, '([\\s\\S]+?)');
  return new RegExp(`^${escaped}$`, 'u');
}

/** Messages with words of their own (not only placeholders and punctuation). */
const hasWords = (template: string): boolean => /\p{L}{2}/u.test(template.replace(/\{\w+\}/g, ''));
const englishOnly = (Object.keys(EN) as Key[])
  .filter((k) => hasWords(EN[k]) && EN[k] !== FR[k])
  .map((k) => ({ key: k, re: pattern(EN[k]) }));
// Every French message but a bare placeholder; a message without words of its own (`{setting} : {what}`,
// `n.d. ({reason})`) counts only when what fills its placeholders is French too.
const french = (Object.keys(FR) as Key[])
  .filter((k) => !/^\{\w+\}$/.test(FR[k]))
  .map((k) => ({ re: pattern(FR[k]), worded: hasWords(FR[k]) }));

const frT = createTranslator('fr');
const frMonths = new Set(
  Array.from({ length: 48 }, (_, i) => frT.month(new Date(Date.UTC(2024, i, 1)))).map((m) => m.split(' ')[0]),
);
/** `nov. 2026`, `1–27 oct. 2026`, `27 nov. 2026`, `28 nov. 2025 – 27 nov. 2026`: dates the French translator wrote. */
function isFrenchDate(text: string): boolean {
  const range = text.split(' – ');
  if (range.length === 2) return range.every((d) => isFrenchDate(d));
  const m = /^(?:(\d{1,2})(?:–\d{1,2})? )?(\S+) \d{4}$/u.exec(text);
  return m !== null && frMonths.has(m[2] ?? '');
}

function matchesFrench(text: string): boolean {
  // No words at all: a currency symbol, %, a number.
  if (!/\p{L}/u.test(text)) return true;
  // A setting, a time zone, an id: code, not language.
  if (/^[\w./$-]+$/.test(text) && !/^\p{L}+$/u.test(text)) return true;
  if (data.has(text) || isFrenchDate(text)) return true;
  for (const { re, worded } of french) {
    const m = re.exec(text);
    if (m !== null && (worded || m.slice(1).every((part) => matchesFrench(part)))) return true;
  }
  // Lists the translator joined (`Couverture du pipeline et Couverture du quota restant`).
  const parts = text.split(/, | et /);
  return parts.length > 1 && parts.every((p) => matchesFrench(p));
}

/** Every string cell of the tool's sheets, with where it is; About's values (ids, paths, URLs, warnings) apart. */
function toolStrings(book: XLSX.WorkBook): { where: string; text: string; checkFrench: boolean }[] {
  const found: { where: string; text: string; checkFrench: boolean }[] = [];
  for (const name of book.SheetNames) {
    found.push({ where: `sheet name ${name}`, text: name, checkFrench: name !== 'Opportunities' });
    if (name === 'Opportunities') continue;
    const ws = book.Sheets[name]!;
    for (const [ref, cell] of Object.entries(ws)) {
      if (ref.startsWith('!') || (cell as XLSX.CellObject).t !== 's') continue;
      const text = String((cell as XLSX.CellObject).v);
      const aboutValue = name === 'À propos' && ref.startsWith('B');
      found.push({ where: `${name}!${ref}`, text: text.trim(), checkFrench: !aboutValue });
    }
  }
  for (const [part, xml] of frParts) {
    if (part.startsWith('xl/charts/')) {
      for (const m of xml.matchAll(/<a:t>([^<]*)<\/a:t>/g))
        found.push({ where: `${part} title`, text: m[1] ?? '', checkFrench: true });
    }
    if (part.startsWith('xl/worksheets/sheet')) {
      for (const m of xml.matchAll(/<oddFooter>([^<]*)<\/oddFooter>/g))
        found.push({ where: `${part} footer`, text: (m[1] ?? '').replace(/&amp;/g, '&'), checkFrench: true });
    }
  }
  return found;
}

describe('a French workbook', () => {
  it('has no English text left: nothing the tool wrote matches an English message', () => {
    const strings = toolStrings(fr);
    expect(strings.length).toBeGreaterThan(500);
    const english = strings.flatMap((s) =>
      englishOnly.filter((e) => e.re.test(s.text)).map((e) => `${s.where}: "${s.text}" is en ${e.key}`),
    );
    expect(english).toEqual([]);
  });

  it('writes every label, note and chart title from the French catalogue', () => {
    const unknown = toolStrings(fr)
      .filter((s) => s.checkFrench && s.text !== '' && !matchesFrench(s.text))
      .map((s) => `${s.where}: "${s.text}"`);
    expect(unknown).toEqual([]);
  });

  it('names its sheets in French, keeps Tableau’s column names, and carries the same numbers as the English one', () => {
    expect(fr.SheetNames).toEqual([
      'Synthèse',
      'Opportunities',
      'Entonnoir',
      'Affaires dormantes',
      'Leads non qualifiés',
      'Par commercial',
      'Par produit',
      'Répartitions',
      'CA mensuel',
      'Objectif de génération',
      'Tendance',
      "Changements d'étape",
      'À propos',
    ]);
    expect(XLSX.utils.sheet_to_json<string[]>(fr.Sheets['Opportunities']!, { header: 1 })[0]).toEqual(
      XLSX.utils.sheet_to_json<string[]>(en.Sheets['Opportunities']!, { header: 1 })[0],
    );
    const value = (book: XLSX.WorkBook, name: string): unknown => {
      const ref = book.Workbook?.Names?.find((n) => n.Name === name)?.Ref ?? '';
      const m = /^'(.+)'!\$([A-Z]+)\$(\d+)$/.exec(ref);
      return m === null ? undefined : book.Sheets[m[1]!]?.[`${m[2]}${m[3]}`]?.v;
    };
    for (const name of [
      'PipelineValue',
      'WinRate',
      'AvgSalesCycle',
      'SalesVelocity',
      'PipelineCoverage',
      'LeadTarget',
    ]) {
      expect(value(fr, name), name).toBeTypeOf('number');
      expect(value(fr, name), name).toBe(value(en, name));
    }
    // The footer prints "Page 1 sur 12".
    expect(
      [...frParts.values()].some((xml) =>
        xml.includes('<oddFooter>&amp;L&amp;A&amp;RPage &amp;P sur &amp;N</oddFooter>'),
      ),
    ).toBe(true);
  });
});
