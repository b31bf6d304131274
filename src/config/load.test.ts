import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../shared/errors.js';
import { CONFIG_MAX_BYTES_ENV, DEFAULT_CONFIG_MAX_BYTES, loadConfig, parseConfigText, formatPath } from './load.js';
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
    expect(joined).toMatch(
      /^9 exports\[0\]\.destination\.fileName: "report.xls" does not end with \.xlsx; must be a plain file name ending with \.xlsx/m,
    );
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

describe('file names', () => {
  it.each([
    ['a NUL', String.raw`"Sales\0Pipeline.xlsx"`, String.raw`"Sales\u0000Pipeline.xlsx" contains control characters`],
    ['a tab', String.raw`"Sales\tPipeline.xlsx"`, String.raw`"Sales\tPipeline.xlsx" contains control characters`],
    ['a folder', '"out/Sales.xlsx"', '"out/Sales.xlsx" contains a path separator'],
    ['only the extension', '".xlsx"', '".xlsx" does not end with .xlsx'],
    ['blanks', '"  "', '"  " is empty'],
  ])('refuses a local fileName with %s, as the local destination does at run time', (_what, yaml, problem) => {
    const text = valid.replace(
      'destination: { type: local, dir: ./out }',
      `destination: { type: local, dir: ./out, fileName: ${yaml} }`,
    );
    expect(issuesOf(text)).toEqual([
      `13 exports[0].destination.fileName: ${problem}; must be a plain file name ending with .xlsx (put folders in "dir")`,
    ]);
  });

  it('refuses a NUL in a OneDrive path', () => {
    const text = `${valid.replace('destination: { type: local, dir: ./out }', String.raw`destination: { type: onedrive, drive: { user: ops@contoso.com }, path: "Reports/Sales\0.xlsx" }`)}onedrive: { tenantId: 11111111-2222-3333-4444-555555555555, clientId: 66666666-7777-8888-9999-000000000000, clientSecretEnv: S }\n`;
    expect(issuesOf(text)).toEqual([
      "13 exports[0].destination.path: file name 'Sales\u0000.xlsx' contains a control character",
    ]);
  });
});

describe('config file limits', () => {
  /** `valid`, padded with a comment to `bytes` bytes. */
  const padded = (bytes: number): string => {
    const head = `${valid}#`;
    return `${head}${'x'.repeat(bytes - head.length - 1)}\n`;
  };

  it('refuses a file over the size cap before parsing it, naming the file, its size, the cap and the fix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tee-config-cap-'));
    try {
      const file = join(dir, 'big.yaml');
      await writeFile(file, padded(DEFAULT_CONFIG_MAX_BYTES + 1));
      const err = await loadConfig(file, { env: {} }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      const issue = (err as ConfigError).issues[0];
      expect(issue?.file).toBe(file);
      expect(issue?.message).toBe(
        `file is 1,048,577 bytes, over the 1,048,576-byte limit for a config file; check it is the right file, ` +
          `or raise the limit with ${CONFIG_MAX_BYTES_ENV}`,
      );
      // Exactly at the cap is fine, and the env var raises the cap.
      await writeFile(file, padded(DEFAULT_CONFIG_MAX_BYTES));
      expect((await loadConfig(file, { env: {} })).config.exports).toHaveLength(1);
      await writeFile(file, padded(DEFAULT_CONFIG_MAX_BYTES + 10));
      const raised = await loadConfig(file, { env: { [CONFIG_MAX_BYTES_ENV]: String(DEFAULT_CONFIG_MAX_BYTES * 2) } });
      expect(raised.config.exports).toHaveLength(1);
      const lowered = await loadConfig(file, { env: { [CONFIG_MAX_BYTES_ENV]: '100' } }).catch((e: unknown) => e);
      expect((lowered as ConfigError).issues[0]?.message).toMatch(/over the 100-byte limit/);
      const nonsense = await loadConfig(file, { env: { [CONFIG_MAX_BYTES_ENV]: '1MB' } }).catch((e: unknown) => e);
      expect((nonsense as ConfigError).issues[0]?.message).toMatch(
        new RegExp(`^${CONFIG_MAX_BYTES_ENV}="1MB" is not a size; give a whole number of bytes`),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('turns an alias bomb into a config error, quickly', () => {
    const bomb = [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
      'exports: [*g]',
    ].join('\n');
    const started = Date.now();
    expect(issuesOf(bomb)).toEqual([
      '? : YAML aliases expand to too many nodes (over 1000, as in an "alias bomb"); write the values out or use fewer aliases',
    ]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('still expands the few aliases a real config uses', () => {
    const text = valid.replace('timezone: America/New_York', 'timezone: &tz America/New_York\n    catchUp: false');
    expect(
      issuesOf(
        `${text}  - id: second\n    timezone: *tz\n    views: [{ file: ./a.csv }]\n    destination: { type: local, dir: ./out }\n`,
      ),
    ).toEqual([]);
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
