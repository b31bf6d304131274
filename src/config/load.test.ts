import { describe, expect, it } from 'vitest';
import { ConfigError } from '../shared/errors.js';
import { parseConfigText, formatPath } from './load.js';
import { parseDuration } from './duration.js';

const FILE = '/etc/tableau-export/exports.yaml';

const valid = `
timezone: Europe/Paris
tableau:
  serverUrl: https://tableau.example.com
  site: sales
  auth: { type: pat, tokenNameEnv: TABLEAU_PAT_NAME, tokenSecretEnv: TABLEAU_PAT_SECRET }
exports:
  - id: nightly
    schedule: "0 6 * * 1-5"
    timezone: America/New_York
    views:
      - { workbook: Sales Pipeline, view: Opportunities, filters: { Region: [EMEA, NA] } }
    destination: { type: local, dir: ./out }
`;

function issuesOf(text: string, env?: NodeJS.ProcessEnv): string[] {
  try {
    parseConfigText(text, FILE, env === undefined ? {} : { checkEnv: true, env });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.line ?? '?'} ${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe('parseConfigText', () => {
  it('accepts a valid file, fills defaults and resolves relative paths against the file', () => {
    const loaded = parseConfigText(valid, FILE);
    const exp = loaded.config.exports[0];
    expect(exp?.id).toBe('nightly');
    expect(exp?.views[0]?.pivot).toBe(true);
    expect(exp?.views[0]?.filters).toEqual({ Region: ['EMEA', 'NA'] });
    expect(loaded.config.stateDir).toBe('/etc/tableau-export/data');
    expect(exp?.destination).toMatchObject({ type: 'local', dir: '/etc/tableau-export/out' });
    expect(loaded.config.tableau?.maxAgeMinutes).toBe(1);
  });

  it.each([
    ['an invalid cron expression', valid.replace('"0 6 * * 1-5"', '"61 6 * * *"'), /exports\[0\]\.schedule: .*cron/],
    ['an unknown time zone', valid.replace('America/New_York', 'America/Gotham'), /exports\[0\]\.timezone: .*IANA/],
    [
      'a secret value instead of an env var name',
      valid.replace('tokenSecretEnv: TABLEAU_PAT_SECRET', 'tokenSecretEnv: "s3cr3t value!"'),
      /tableau\.auth\.tokenSecretEnv: must be the NAME/,
    ],
    ['an unknown key', valid.replace('site: sales', 'site: sales\n  sitee: x'), /tableau\.sitee: unknown key/],
    [
      'a missing destination',
      valid.replace('    destination: { type: local, dir: ./out }\n', ''),
      /exports\[0\]\.destination/,
    ],
    [
      'a view addressed two ways',
      valid.replace(
        '{ workbook: Sales Pipeline, view: Opportunities,',
        '{ workbook: Sales Pipeline, view: Opportunities, viewId: abc,',
      ),
      /exports\[0\]\.views\[0\]: address the view exactly one way/,
    ],
    [
      'a onedrive destination without the onedrive section',
      valid.replace('{ type: local, dir: ./out }', '{ type: onedrive, drive: { user: a@b.c }, path: Reports/x.xlsx }'),
      /no top-level "onedrive" section/,
    ],
    [
      'a onedrive path OneDrive refuses',
      valid.replace(
        '{ type: local, dir: ./out }',
        '{ type: onedrive, drive: { user: a@b.c }, path: "Reports/Q1: plan?.xlsx" }',
      ),
      /exports\[0\]\.destination\.path/,
    ],
    ['an invalid YAML document', 'exports: [\n  - id: x\n', /YAML syntax/],
    [
      'a plain-http server URL (credentials would travel in clear)',
      valid.replace('https://tableau.example.com', 'http://tableau.example.com'),
      /tableau\.serverUrl: must be an absolute https:\/\/ URL/,
    ],
    [
      'a Redis URL with a password in the file',
      `${valid}queue: { redis: "redis://:hunter2@redis:6379/0" }\n`,
      /queue\.redis: holds a password \(in the user info.*\); .*redisUrlEnv/,
    ],
    [
      'a Redis URL with a password in its query string (ioredis reads it)',
      `${valid}queue: { redis: "redis://redis:6379/0?password=hunter2" }\n`,
      /queue\.redis: holds a password \(in the query string, \?password=\); .*redisUrlEnv/,
    ],
  ])('reports %s with file, line and path', (_name, text, pattern) => {
    const issues = issuesOf(text);
    expect(issues.join('\n')).toMatch(pattern);
  });

  it('checks the webhook URLs of the environment (validate): https, and no private target without allowPrivate', () => {
    const withNotify = (notify: string) =>
      valid.replace(
        '    destination: { type: local, dir: ./out }',
        `    destination: { type: local, dir: ./out }\n    notify: ${notify}`,
      );
    const env = (url: string) => ({ TABLEAU_PAT_NAME: 'n', TABLEAU_PAT_SECRET: 's', HOOK: url });
    expect(issuesOf(withNotify('{ webhookUrlEnv: HOOK }'), env('https://hooks.slack.com/services/x'))).toEqual([]);
    expect(issuesOf(withNotify('{ webhookUrlEnv: HOOK }'), env('http://hooks.slack.com/services/SECRET'))).toEqual([
      expect.stringMatching(
        /^\d+ exports\[0\]\.notify\.webhookUrlEnv: the URL in environment variable HOOK is an http:\/\/ URL; webhooks must use https:\/\/$/,
      ),
    ]);
    expect(issuesOf(withNotify('{ webhookUrlEnv: HOOK }'), env('https://192.168.1.5/hook')).join('\n')).toMatch(
      /HOOK points at a private address \(192\.168\.1\.5\); set allowPrivate: true/,
    );
    expect(
      issuesOf(withNotify('{ webhookUrlEnv: HOOK, allowPrivate: true }'), env('https://192.168.1.5/hook')),
    ).toEqual([]);
  });

  it('never echoes a Redis password it refuses', () => {
    for (const url of ['redis://redis:6379/0?password=hunter2', 'redis://:hunter2@redis:6379/0']) {
      const issues = issuesOf(`${valid}queue: { redis: "${url}" }\n`);
      expect(issues.join('\n')).toMatch(/queue\.redis: holds a password/);
      expect(issues.join('\n')).not.toContain('hunter2');
    }
  });

  it('reports duplicate export ids and duplicate sheet names', () => {
    const text = `${valid}
  - id: nightly
    views:
      - { workbook: A, view: Deals }
      - { workbook: B, view: deals }
    destination: { type: local, dir: ./out }
`;
    const issues = issuesOf(text);
    expect(issues).toContainEqual(
      expect.stringMatching(/^15 exports\[1\].id: duplicate export id "nightly" \(also exports\[0\]\)/),
    );
    expect(issues).toContainEqual(
      expect.stringMatching(/exports\[1\]\.views\[1\]\.sheet: sheet name "deals" is already used by views\[0\]/),
    );
  });

  it('reports every problem of a file with several errors at once, in line order', () => {
    const text = `
timezone: Mars/Olympus
tableau:
  serverUrl: not a url
  auth: { type: pat, tokenNameEnv: A, tokenSecretEnv: B }
exports:
  - id: Bad Id
    schedule: "every day"
    views: []
    destination: { type: local, dir: ./out }
  - id: ok
    views: [{ file: data.csv }]
    destination: { type: ftp }
`;
    const issues = issuesOf(text);
    expect(issues.length).toBeGreaterThanOrEqual(6);
    const joined = issues.join('\n');
    expect(joined).toMatch(/^2 timezone:/m);
    expect(joined).toMatch(/^4 tableau\.serverUrl:/m);
    expect(joined).toMatch(/^7 exports\[0\]\.id:/m);
    expect(joined).toMatch(/^8 exports\[0\]\.schedule:/m);
    expect(joined).toMatch(/^9 exports\[0\]\.views:/m);
    expect(joined).toMatch(/^13 exports\[1\]\.destination/m);
    const lines = issues.map((i) => Number(i.split(' ')[0]));
    expect([...lines].sort((a, b) => a - b)).toEqual(lines);
  });

  it('runs the cross-field rules on an export whose other keys fail the schema (metrics.from, sheet names)', () => {
    const text = `
exports:
  - id: nightly
    schedule: "every night"
    views:
      - { file: deals.csv, sheet: Deals, pivot: "no" }
      - { file: stages.csv, sheet: Stages }
    metrics: { from: Opportunities }
    destination: { type: local, dir: ./out, fileName: report.xls }
`;
    const joined = issuesOf(text).join('\n');
    expect(joined).toMatch(/^4 exports\[0\]\.schedule:/m);
    expect(joined).toMatch(/^6 exports\[0\]\.views\[0\]\.pivot:/m);
    // The rules still see the sheets of every view, including the one that failed, and the destination.
    expect(joined).toMatch(
      /^8 exports\[0\]\.metrics\.from: "Opportunities" is not a sheet of this export; sheets: "Deals", "Stages"/m,
    );
    expect(joined).toMatch(/^9 exports\[0\]\.destination\.fileName: must be a plain file name ending with \.xlsx/m);
  });

  it('formats issues as file:line path: message', () => {
    try {
      parseConfigText(valid.replace('America/New_York', 'Nowhere/City'), FILE);
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).message).toMatch(/^\/etc\/tableau-export\/exports\.yaml:10 exports\[0\]\.timezone: /);
    }
  });

  it('with checkEnv, reports env vars that are named but not set', () => {
    expect(issuesOf(valid, { TABLEAU_PAT_NAME: 'n' })).toEqual([
      expect.stringMatching(/tableau\.auth\.tokenSecretEnv: environment variable TABLEAU_PAT_SECRET is not set/),
    ]);
    expect(issuesOf(valid, { TABLEAU_PAT_NAME: 'n', TABLEAU_PAT_SECRET: 's' })).toEqual([]);
  });
});

describe('parseDuration', () => {
  it.each([
    ['30m', 1_800_000],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['45', 45_000],
    [12, 12_000],
  ])('%s → %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['soon', '30 minutes', '', '1x'])('rejects %s', (text) => expect(parseDuration(text)).toBeUndefined());
});

describe('formatPath', () => {
  it('renders indexes and keys', () =>
    expect(formatPath(['exports', 0, 'views', 1, 'sheet'])).toBe('exports[0].views[1].sheet'));
});

describe('shipped config files', () => {
  it.each(['config/exports.yaml', 'config/exports.example.yaml'])('%s is valid', async (file) => {
    const { loadConfig } = await import('./load.js');
    const loaded = await loadConfig(new URL(`../../${file}`, import.meta.url).pathname);
    expect(loaded.config.exports.length).toBeGreaterThan(0);
  });
});

describe('README configuration reference', () => {
  it('matches the schema (run `npm run config-reference` after changing the schema)', async () => {
    const { readFile } = await import('node:fs/promises');
    const { withConfigReference } = await import('./reference.js');
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    expect(withConfigReference(readme)).toBe(readme);
  });
});
