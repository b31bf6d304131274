/**
 * Builds a team workbook end to end: the demo's seeded pipeline as a Tableau-style CSV → a workbook written by our
 * own CLI (`tableau-export run`, local destination) → the team's workbook built from it in LibreOffice
 * (`scripts/make-team-workbook.py`: formula and notes columns in the table, Team notes, pivot, chart, validation,
 * conditional formatting, a comment, a hidden sheet) with its JSON manifest, and optionally the .xlsm variant.
 *
 * The demo's sample, config/team-workbook.xlsx (+ .manifest.json): the demo's generator (seed 20261127, 5,000
 * opportunities, as the demo's Tableau simulator serves by default) with a fixed "today" so it can be regenerated
 * identically in content:
 *
 *   npm run make:team-workbook
 *
 * The test fixtures in test/fixtures/team/ (see its README.md):
 *
 *   npx tsx scripts/build-team-workbook.ts --rows 300 --seed 42 --as-of 2026-11-27 \
 *     --csv test/fixtures/team/opportunities.csv --base test/fixtures/team/base.xlsx \
 *     --out test/fixtures/team/team.xlsx --xlsm
 *
 * Options: --rows N (default 5000), --seed S (default 20261127), --as-of YYYY-MM-DD (default 2026-11-27),
 * --out FILE.xlsx (required), --base FILE.xlsx and --csv FILE.csv to keep the intermediate files, --xlsm to also
 * write <out stem>.xlsm, --formula-style structured|a1. Needs LibreOffice: `bash scripts/ensure-libreoffice.sh`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import { makeBaseWorkbook } from '../test/helpers/base-workbook.js';
import { libreOfficeAvailable, readTeamManifest, runTeamWorkbookScript } from '../test/helpers/libreoffice.js';

function positiveInteger(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive whole number, got '${text}'`);
  return n;
}

function utcDate(text: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (m === null) throw new Error(`--as-of must be a date YYYY-MM-DD, got '${text}'`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '5000' },
      seed: { type: 'string', default: '20261127' },
      'as-of': { type: 'string', default: '2026-11-27' },
      out: { type: 'string' },
      base: { type: 'string' },
      csv: { type: 'string' },
      xlsm: { type: 'boolean', default: false },
      'formula-style': { type: 'string', default: 'structured' },
    },
  });
  const out = values.out;
  if (out === undefined || !out.endsWith('.xlsx')) throw new Error('--out FILE.xlsx is required');
  const formulaStyle = values['formula-style'];
  if (formulaStyle !== 'structured' && formulaStyle !== 'a1') {
    throw new Error(`--formula-style must be structured or a1, got '${formulaStyle}'`);
  }
  if (!libreOfficeAvailable()) throw new Error('LibreOffice is missing: run `bash scripts/ensure-libreoffice.sh`');

  const work = await mkdtemp(join(tmpdir(), 'tee-team-wb-'));
  try {
    const base = await makeBaseWorkbook({
      rows: positiveInteger('rows', values.rows),
      seed: positiveInteger('seed', values.seed),
      asOf: utcDate(values['as-of']),
      out: values.base ?? join(work, 'base.xlsx'),
      csv: values.csv ?? join(work, 'opportunities.csv'),
    });
    const manifestPath = await runTeamWorkbookScript(base.xlsx, { out, xlsm: values.xlsm, formulaStyle });
    // Python's json.dump is not Prettier's layout, and `npm test` checks the format of what lands in config/.
    const prettierOptions = (await prettier.resolveConfig(manifestPath)) ?? {};
    const text = await readFile(manifestPath, 'utf8');
    await writeFile(manifestPath, await prettier.format(text, { ...prettierOptions, filepath: manifestPath }));
    const manifest = await readTeamManifest(manifestPath);
    console.log(
      `${out}: table ${manifest.table.name} ${manifest.table.refBefore} → ${manifest.table.refAfter}, ` +
        `${Object.keys(manifest.notes).length} notes, sheets ${manifest.sheets.map((s) => s.name).join(', ')}`,
    );
    console.log(`manifest: ${manifestPath}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`build-team-workbook: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
