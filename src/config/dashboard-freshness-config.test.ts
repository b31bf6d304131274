import { describe, expect, it } from 'vitest';
import { ConfigError } from '../shared/errors.js';
import { parseConfigText } from './load.js';

const FILE = '/etc/tableau-export/exports.yaml';

const withViews = (views: string, extra = ''): string => `
tableau:
  serverUrl: https://tableau.example.com
  site: sales
  auth: { type: pat, tokenNameEnv: TABLEAU_PAT_NAME, tokenSecretEnv: TABLEAU_PAT_SECRET }
exports:
  - id: nightly
    views:
${views}
    destination: { type: local, dir: ./out }
${extra}`;

function issuesOf(text: string): string[] {
  try {
    parseConfigText(text, FILE);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe('dashboard and freshness settings', () => {
  it('reads a dashboard entry and freshness per export and per view (maxAge as milliseconds, then warn by default)', () => {
    const loaded = parseConfigText(
      withViews(
        [
          '      - dashboard: { workbook: Sales Pipeline, name: Pipeline Overview }',
          '      - { workbook: Sales Pipeline, view: Opportunities, freshness: { maxAge: 2h, then: fail } }',
        ].join('\n'),
        '    freshness: { maxAge: 26h }\n    metrics: { from: Rep Performance }',
      ),
      FILE,
    );
    const exp = loaded.config.exports[0];
    expect(exp?.views[0]?.dashboard).toEqual({ workbook: 'Sales Pipeline', name: 'Pipeline Overview' });
    expect(exp?.freshness).toEqual({ maxAge: 26 * 3_600_000, then: 'warn' });
    expect(exp?.views[1]?.freshness).toEqual({ maxAge: 2 * 3_600_000, then: 'fail' });
  });

  it.each([
    [
      'a dashboard named half',
      '      - dashboard: { name: Pipeline Overview }',
      'exports[0].views[0].dashboard: name the dashboard one way: { workbook, name } (optionally project) or { contentUrl }',
    ],
    [
      'a dashboard named two ways',
      '      - dashboard: { workbook: W, name: D, contentUrl: W/sheets/D }',
      'exports[0].views[0].dashboard: name the dashboard one way: { workbook, name } (optionally project) or { contentUrl }',
    ],
    [
      'a dashboard with a sheet name',
      '      - { dashboard: { contentUrl: W/sheets/D }, sheet: Mine }',
      'exports[0].views[0].sheet: a dashboard fills one sheet per worksheet, each named after its worksheet: remove "sheet" (or export the worksheets one by one with view:)',
    ],
    [
      'a dashboard and a view at once',
      '      - { dashboard: { contentUrl: W/sheets/D }, workbook: W, view: V }',
      'exports[0].views[0]: address the view exactly one way: { workbook, view } or contentUrl or viewId (Tableau), dashboard (a whole Tableau dashboard), or file (local CSV)',
    ],
    [
      'an unknown freshness policy',
      '      - { workbook: W, view: V, freshness: { maxAge: 1h, then: ignore } }',
      /exports\[0\]\.views\[0\]\.freshness\.then: .*warn.*skip.*fail/,
    ],
    [
      'a freshness without maxAge',
      '      - { workbook: W, view: V, freshness: { then: fail } }',
      /exports\[0\]\.views\[0\]\.freshness\.maxAge/,
    ],
    [
      'a maxAge that is not a duration',
      '      - { workbook: W, view: V, freshness: { maxAge: a day } }',
      'exports[0].views[0].freshness.maxAge: "a day" is not a duration; write e.g. 30m, 90s, 1h30m',
    ],
  ])('reports %s', (_, views, message) => {
    const issues = issuesOf(withViews(views));
    if (typeof message === 'string') expect(issues).toContain(message);
    else expect(issues).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
  });
});
