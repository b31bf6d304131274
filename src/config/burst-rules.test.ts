import { describe, expect, it } from 'vitest';
import { ConfigError } from '../shared/errors.js';
import { parseConfigText } from './load.js';

const FILE = '/etc/tableau-export/exports.yaml';

const configWith = (exportYaml: string): string => `
tableau:
  serverUrl: https://tableau.example.com
  auth: { type: pat, tokenNameEnv: TABLEAU_PAT_NAME, tokenSecretEnv: TABLEAU_PAT_SECRET }
onedrive: { tenantId: t, clientId: c, clientSecretEnv: AZURE_CLIENT_SECRET }
exports:
  - id: regions
${exportYaml}`;

function issuesOf(text: string): string[] {
  try {
    parseConfigText(text, FILE);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe('burst config rules', () => {
  it('accepts a OneDrive path template naming the field, and a local fileName with folders', () => {
    const onedrive = configWith(`    views: [{ workbook: Sales Pipeline, view: Opportunities }]
    burst: { by: Region, values: all }
    destination: { type: onedrive, drive: { user: ops@contoso.com }, path: "Reports/{Region}/Pipeline {Region}.xlsx" }
`);
    const loaded = parseConfigText(onedrive, FILE);
    expect(loaded.config.exports[0]?.burst).toEqual({ by: 'Region', values: 'all', into: 'files' });
    const local = configWith(`    views: [{ workbook: Sales Pipeline, view: Opportunities }]
    burst: { by: Region, values: [EMEA, NA], into: files }
    destination: { type: local, dir: ./out, fileName: "{Region}/Pipeline {Region}.xlsx" }
`);
    expect(issuesOf(local)).toEqual([]);
  });

  it('needs {by} in the template and no other placeholder', () => {
    expect(
      issuesOf(
        configWith(`    views: [{ workbook: Sales Pipeline, view: Opportunities }]
    burst: { by: Owner, values: all, into: files }
    destination: { type: onedrive, drive: { user: ops@contoso.com }, path: "Reports/{Region}.xlsx" }
`),
      ),
    ).toEqual([
      'exports[0].destination.path: must contain the placeholder {Owner} (the burst field), so each value gets its own file, e.g. "Reports/{Owner}/Pipeline {Owner}.xlsx"',
      'exports[0].destination.path: names {Region}, which is not the burst field; only {Owner} can be filled in',
    ]);
    expect(
      issuesOf(
        configWith(`    views: [{ workbook: Sales Pipeline, view: Opportunities }]
    burst: { by: Owner, values: all, into: files }
    destination: { type: local, dir: ./out }
`),
      ),
    ).toEqual([
      'exports[0].destination.fileName: a burst into files needs a file name template; for example: fileName: "Pipeline {Owner}.xlsx"',
    ]);
  });

  it('refuses two listed values that give the same file once refused characters are replaced', () => {
    expect(
      issuesOf(
        configWith(`    views: [{ workbook: Sales Pipeline, view: Opportunities }]
    burst: { by: Region, values: ["A/B", "a_b"], into: files }
    destination: { type: local, dir: ./out, fileName: "{Region}.xlsx" }
`),
      ),
    ).toEqual([
      'exports[0].burst.values[1]: values "A/B" and "a_b" both give the file "a_b.xlsx"; list one of them only',
    ]);
  });

  it('warns (without failing) when a listed value is renamed for OneDrive', () => {
    const loaded = parseConfigText(
      configWith(`    views: [{ workbook: Sales Pipeline, view: Opportunities }]
    burst: { by: Region, values: ["EMEA: North"], into: files }
    destination: { type: local, dir: ./out, fileName: "{Region}.xlsx" }
`),
      FILE,
    );
    expect(loaded.warnings.map((w) => w.message)).toEqual([
      'value "EMEA: North" has characters OneDrive or Windows refuse in a name; its file is "EMEA_ North.xlsx"',
    ]);
  });

  it('refuses placeholders and update mode into sheets, CSV views, and a view already filtering the field', () => {
    expect(
      issuesOf(
        configWith(`    views:
      - { workbook: Sales Pipeline, view: Opportunities, filters: { Region: EMEA } }
      - { file: ./deals.csv }
    burst: { by: Region, values: all, into: sheets }
    destination: { type: local, dir: ./out, fileName: "{Region}.xlsx", mode: update }
`),
      ),
    ).toEqual([
      'exports[0].views[0].filters.Region: the burst sets the filter "Region" for each part; remove it from the view\'s filters (or list the values in burst.values)',
      'exports[0].views[1]: a burst splits Tableau views with vf_ filters; a CSV file view cannot be split (remove burst or the file view)',
      'exports[0].burst.into: into: sheets builds one workbook whole, so it cannot update a team workbook; use into: files or mode: replace',
      'exports[0].destination.fileName: {Region} is filled in only with burst.into: files (into: sheets writes one workbook); remove it or use into: files',
    ]);
  });
});
