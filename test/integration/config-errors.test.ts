/**
 * Bad configuration files of every kind through the real CLI: `validate` (and `run`) exit 2 and list every problem
 * at once, one per line, as `file:line path: message` — never a stack trace, never a secret that was put where an
 * environment variable's name belongs.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runCli, type CliResult } from './helpers/cli.js';

const SENTINEL_SECRET = 'sentinel-config-secret-9b2f7d41c3';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tee-config-errors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(name: string, lines: readonly string[]): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** Environment without any of the variables the test configs name, whatever the caller's shell exports. */
const cleanEnv = (): NodeJS.ProcessEnv => ({
  FAULTS_TEST_PAT_NAME: '',
  FAULTS_TEST_PAT_SECRET: '',
  FAULTS_TEST_WEBHOOK: '',
});

/** The problem lines of a config error: everything after the `config error(s) (N):` header. */
function problemLines(r: CliResult): string[] {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  const header = lines.findIndex((l) => /^config errors?( \(\d+\))?:$/.test(l));
  if (header < 0)
    throw new Error(
      `no "config error(s):" header in stderr (exit ${String(r.code)}):\n${r.stderr}\nstdout:\n${r.stdout}`,
    );
  return lines.slice(header + 1);
}

/** Every problem line is `file:line path: message` for this file. */
function parseProblem(file: string, line: string): { line: number; path: string; message: string } | undefined {
  if (!line.startsWith(`${file}:`)) return undefined;
  const m = /^:(\d+) (\S+): (.+)$/.exec(line.slice(file.length));
  return m === null ? undefined : { line: Number(m[1]), path: m[2] ?? '', message: m[3] ?? '' };
}

describe.concurrent('bad configuration files', () => {
  it.for([
    {
      kind: 'an unclosed flow sequence',
      lines: [
        'timezone: Europe/Paris',
        'exports:',
        '  - id: a',
        '    views: [ { workbook: W, view: V }',
        '    destination: { type: local, dir: ./out }',
      ],
      // The parser notices the unclosed `[` on the next line, where the block collection resumes.
      expected: [{ line: 5, message: /YAML syntax: .*(indented|\])/ }],
    },
    {
      kind: 'duplicate keys',
      lines: [
        'timezone: Europe/Paris',
        'timezone: UTC',
        'exports:',
        '  - id: a',
        '    views:',
        '      - { workbook: W, view: V }',
        '    destination: { type: local, dir: ./out }',
        '    destination: { type: local, dir: ./out2 }',
      ],
      expected: [
        { line: 2, message: /YAML syntax: Map keys must be unique/ },
        { line: 8, message: /YAML syntax: Map keys must be unique/ },
      ],
    },
    {
      kind: 'a tab used for indentation',
      lines: ['timezone: Europe/Paris', 'exports:', '\t- id: a'],
      expected: [{ line: 3, message: /YAML syntax: Tabs are not allowed/ }],
    },
  ])('YAML syntax error ($kind): exit 2, the error located by line', async ({ kind, lines, expected }, { expect }) => {
    const file = await configFile(`syntax-${kind.replaceAll(' ', '-')}.yaml`, lines);
    const r = await runCli(['validate', '--config', file], { env: cleanEnv() });
    expect(r.code, r.stderr).toBe(2);
    const problems = problemLines(r);
    expect(problems, r.stderr).toHaveLength(expected.length);
    for (const [i, want] of expected.entries()) {
      const got = /^(.+?):(\d+) (\S+): (.+)$/.exec(problems[i] ?? '');
      expect(got, `"${problems[i] ?? ''}" is not "file:line path: message"`).not.toBeNull();
      expect(got?.[1]).toBe(file);
      expect(Number(got?.[2])).toBe(want.line);
      expect(got?.[4]).toMatch(want.message);
    }
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('schema problems of every kind in one file: all listed at once, each with its line and path', async ({
    expect,
  }) => {
    const file = await configFile('schema.yaml', [
      /*  1 */ 'timezone: Europe/Pariss',
      /*  2 */ 'stateDir: ./state',
      /*  3 */ 'colour: blue',
      /*  4 */ 'tableau:',
      /*  5 */ '  serverUrl: https://tableau.example.com',
      /*  6 */ '  site: sales',
      /*  7 */ `  auth: { type: pat, tokenNameEnv: TABLEAU_PAT_NAME, tokenSecretEnv: "${SENTINEL_SECRET}" }`,
      /*  8 */ '  maxConcurrentExports: many',
      /*  9 */ 'exports:',
      /* 10 */ '  - id: nightly',
      /* 11 */ '    schedule: "0 25 * * *"',
      /* 12 */ '    timezone: Mars/Olympus',
      /* 13 */ '    views:',
      /* 14 */ '      - { workbook: Sales Pipeline, view: Opportunities }',
      /* 15 */ '      - { workbook: Sales Pipeline, view: Opportunities }',
      /* 16 */ '    destination: { type: local, dir: ./out, skipUnchanged: "yes" }',
      /* 17 */ '  - id: nightly',
      /* 18 */ '    views:',
      /* 19 */ '      - { workbook: Sales Pipeline, view: Opportunities, filtres: { Region: EMEA } }',
      /* 20 */ '    destination: { type: local, dir: ./out }',
    ]);
    const r = await runCli(['validate', '--config', file], { env: cleanEnv() });
    expect(r.code, r.stderr).toBe(2);
    const problems = problemLines(r);
    const parsed = problems.map((l) => parseProblem(file, l));
    expect(
      parsed.every((p) => p !== undefined),
      `every line is "file:line path: message":\n${problems.join('\n')}`,
    ).toBe(true);
    const expected: { line: number; path: string; message: RegExp }[] = [
      { line: 1, path: 'timezone', message: /not an IANA time zone/ },
      { line: 3, path: 'colour', message: /unknown key "colour"/ },
      { line: 7, path: 'tableau.auth.tokenSecretEnv', message: /NAME of an environment variable/ },
      { line: 8, path: 'tableau.maxConcurrentExports', message: /expected number/ },
      { line: 11, path: 'exports[0].schedule', message: /cron/ },
      { line: 12, path: 'exports[0].timezone', message: /not an IANA time zone/ },
      // Two views land on the same sheet name and two exports share an id, although both exports have other errors.
      { line: 15, path: 'exports[0].views[1]', message: /sheet name "Opportunities" is already used/ },
      { line: 16, path: 'exports[0].destination.skipUnchanged', message: /expected boolean/ },
      { line: 17, path: 'exports[1].id', message: /duplicate export id "nightly"/ },
      { line: 19, path: 'exports[1].views[0].filtres', message: /unknown key "filtres"/ },
    ];
    for (const want of expected) {
      const hit = parsed.find(
        (p) => p !== undefined && p.line === want.line && p.path.startsWith(want.path) && want.message.test(p.message),
      );
      expect(
        hit,
        `missing "${file}:${want.line} ${want.path}: ${String(want.message)}" in:\n${problems.join('\n')}`,
      ).toBeDefined();
    }
    expect(problems).toHaveLength(expected.length);
    // The value put where a variable NAME belongs is a secret: never echoed.
    expect(r.stderr + r.stdout).not.toContain(SENTINEL_SECRET);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('one mistake of each kind: all listed in one run, each saying what to write instead', async ({ expect }) => {
    const file = await configFile('one-of-each.yaml', [
      /*  1 */ 'timezon: Europe/Paris',
      /*  2 */ 'tableau:',
      /*  3 */ '  site: sales',
      /*  4 */ '  auth: { type: pat, tokenNameEnv: FAULTS_TEST_PAT_NAME, tokenSecretEnv: FAULTS_TEST_PAT_SECRET }',
      /*  5 */ 'exports:',
      /*  6 */ '  - id: nightly',
      /*  7 */ '    shedule: "0 6 * * 1-5"',
      /*  8 */ '    timezone: Europe/Pariss',
      /*  9 */ '    views:',
      /* 10 */ '      - { workbook: Sales Pipeline, view: Opportunities }',
      /* 11 */ '    metrics: { from: Oportunities }',
      /* 12 */ '  - id: weekly',
      /* 13 */ '    schedule: "0 25 * * *"',
      /* 14 */ '    views:',
      /* 15 */ '      - { workbook: Sales Pipeline, view: Opportunities }',
      /* 16 */ '    destination: { type: ftp, dir: ./out }',
      /* 17 */ '  - id: weekly',
      /* 18 */ '    views:',
      /* 19 */ '      - { workbook: Sales Pipeline, view: Opportunities }',
      /* 20 */ '    destination: { type: local, dir: ./out }',
    ]);
    const r = await runCli(['validate', '--config', file], { env: cleanEnv() });
    expect(r.code, r.stderr).toBe(2);
    const problems = problemLines(r);
    const parsed = problems.map((l) => parseProblem(file, l));
    expect(
      parsed.every((p) => p !== undefined),
      problems.join('\n'),
    ).toBe(true);
    const expected: { line: number; path: string; message: RegExp }[] = [
      { line: 1, path: 'timezon', message: /^unknown key "timezon"; did you mean "timezone"\?$/ },
      {
        line: 2,
        path: 'tableau.serverUrl',
        message: /^missing required key "serverUrl" \(.*\); for example: serverUrl: https:\/\/tableau\.example\.com$/,
      },
      {
        line: 6,
        path: 'exports[0].destination',
        message:
          /^missing required key "destination" \(.*\); for example: destination: \{ type: local, dir: \.\/out \}/,
      },
      { line: 7, path: 'exports[0].shedule', message: /^unknown key "shedule"; did you mean "schedule"\?$/ },
      {
        line: 8,
        path: 'exports[0].timezone',
        message: /^"Europe\/Pariss" is not an IANA time zone; did you mean "Europe\/Paris"\?$/,
      },
      {
        line: 11,
        path: 'exports[0].metrics.from',
        message:
          /^"Oportunities" is not a sheet of this export; did you mean "Opportunities"\? sheets: "Opportunities"$/,
      },
      { line: 13, path: 'exports[1].schedule', message: /cron/ },
      {
        line: 16,
        path: 'exports[1].destination.type',
        message: /^"ftp" is not one of 'local' \| 'onedrive'; e\.g\. type: local$/,
      },
      { line: 17, path: 'exports[2].id', message: /duplicate export id "weekly"/ },
    ];
    for (const want of expected) {
      const hit = parsed.find(
        (p) => p !== undefined && p.line === want.line && p.path === want.path && want.message.test(p.message),
      );
      expect(
        hit,
        `missing "${file}:${want.line} ${want.path}: ${String(want.message)}" in:\n${problems.join('\n')}`,
      ).toBeDefined();
    }
    expect(problems, problems.join('\n')).toHaveLength(expected.length);
    // No raw zod text is left.
    expect(r.stderr).not.toMatch(/Invalid input|received undefined|Invalid discriminator/);
  });

  it('cross-field rules and missing environment variables (validate): all listed with lines', async ({ expect }) => {
    const file = await configFile('rules-env.yaml', [
      /*  1 */ 'timezone: Europe/Paris',
      /*  2 */ 'tableau:',
      /*  3 */ '  serverUrl: https://tableau.example.com',
      /*  4 */ '  site: sales',
      /*  5 */ '  auth: { type: pat, tokenNameEnv: FAULTS_TEST_PAT_NAME, tokenSecretEnv: FAULTS_TEST_PAT_SECRET }',
      /*  6 */ 'exports:',
      /*  7 */ '  - id: a',
      /*  8 */ '    views:',
      /*  9 */ '      - { workbook: Sales Pipeline, view: Opportunities }',
      /* 10 */ '      - { workbook: Sales Pipeline, view: Rep Performance, sheet: opportunities }',
      /* 11 */ '    destination: { type: local, dir: ./out }',
      /* 12 */ '    notify: { webhookUrlEnv: FAULTS_TEST_WEBHOOK }',
      /* 13 */ '  - id: a',
      /* 14 */ '    views:',
      /* 15 */ '      - { workbook: Sales Pipeline, view: Opportunities }',
      /* 16 */ '    destination: { type: local, dir: ./out }',
    ]);
    const r = await runCli(['validate', '--config', file], { env: cleanEnv() });
    expect(r.code, r.stderr).toBe(2);
    const problems = problemLines(r);
    const parsed = problems.map((l) => parseProblem(file, l));
    expect(
      parsed.every((p) => p !== undefined),
      problems.join('\n'),
    ).toBe(true);
    const expected: { line: number; path: string; message: RegExp }[] = [
      { line: 5, path: 'tableau.auth.tokenNameEnv', message: /environment variable FAULTS_TEST_PAT_NAME is not set/ },
      {
        line: 5,
        path: 'tableau.auth.tokenSecretEnv',
        message: /environment variable FAULTS_TEST_PAT_SECRET is not set/,
      },
      {
        line: 10,
        path: 'exports[0].views[1].sheet',
        message: /sheet name "opportunities" is already used by views\[0\]/,
      },
      {
        line: 12,
        path: 'exports[0].notify.webhookUrlEnv',
        message: /environment variable FAULTS_TEST_WEBHOOK is not set/,
      },
      { line: 13, path: 'exports[1].id', message: /duplicate export id "a"/ },
    ];
    for (const want of expected) {
      const hit = parsed.find(
        (p) => p !== undefined && p.line === want.line && p.path === want.path && want.message.test(p.message),
      );
      expect(
        hit,
        `missing "${file}:${want.line} ${want.path}: ${String(want.message)}" in:\n${problems.join('\n')}`,
      ).toBeDefined();
    }
    expect(problems).toHaveLength(expected.length);
  });

  it('run with a bad config: exit 2 and the same list, before anything runs; a missing file: exit 2 naming the fix', async ({
    expect,
  }) => {
    const file = await configFile('run-bad.yaml', [
      'timezone: Europe/Paris',
      'exports:',
      '  - id: a',
      '    schedule: "every morning"',
      '    views:',
      '      - { file: ./data.csv }',
      '    destination: { type: local, dir: ./out, fileName: report.csv }',
    ]);
    const [bad, missing] = await Promise.all([
      runCli(['run', 'a', '--config', file], { env: cleanEnv() }),
      runCli(['run', 'a', '--config', join(dir, 'does-not-exist.yaml')], { env: cleanEnv() }),
    ]);
    expect(bad.code, bad.stderr).toBe(2);
    const problems = problemLines(bad).map((l) => parseProblem(file, l));
    expect(problems, bad.stderr).toEqual([
      { line: 4, path: 'exports[0].schedule', message: expect.stringMatching(/every morning.*5 fields|cron/) },
      { line: 7, path: 'exports[0].destination.fileName', message: expect.stringMatching(/\.xlsx/) },
    ]);
    expect(bad.stdout).toBe('');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /does-not-exist\.yaml.*file not found; pass --config FILE or set TABLEAU_EXPORT_CONFIG/,
    );
  });
});

// Not concurrent: each test starts two CLI processes already, and the block above runs its own at once.
describe('config inputs that must not hurt the process', () => {
  it('a config file over the size cap: validate and run exit 2 naming the file, its size and the cap', async ({
    expect,
  }) => {
    const file = join(dir, 'huge.yaml');
    await writeFile(file, `exports: []\n# ${'x'.repeat(1024 * 1024)}\n`);
    const [validate, run] = await Promise.all([
      runCli(['validate', '--config', file], { env: cleanEnv() }),
      runCli(['run', '--all', '--config', file], { env: cleanEnv() }),
    ]);
    for (const r of [validate, run]) {
      expect(r.code, r.stderr).toBe(2);
      expect(problemLines(r)).toEqual([
        `${file} (root): file is 1,048,591 bytes, over the 1,048,576-byte limit for a config file; check it is the right file, or raise the limit with TABLEAU_EXPORT_CONFIG_MAX_BYTES`,
      ]);
    }
  });

  it('a YAML alias bomb: exit 2 with a config error, not a crash', async ({ expect }) => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].entries()) {
      const prev = String.fromCharCode('a'.charCodeAt(0) + i);
      levels.push(`${name}: &${name} [${Array.from({ length: 9 }, () => `*${prev}`).join(',')}]`);
    }
    const file = await configFile('bomb.yaml', [...levels, 'exports: [*i]']);
    const started = Date.now();
    const r = await runCli(['validate', '--config', file], { env: cleanEnv() });
    expect(r.code, r.stderr).toBe(2);
    expect(problemLines(r)).toEqual([
      `${file} (root): YAML aliases expand to too many nodes (over 1000, as in an "alias bomb"); write the values out or use fewer aliases`,
    ]);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('a NUL in a local fileName: validate and run both refuse it up front, on its line', async ({ expect }) => {
    const file = await configFile('nul-name.yaml', [
      'timezone: Europe/Paris',
      'exports:',
      '  - id: a',
      '    views: [{ file: ./data.csv }]',
      '    destination: { type: local, dir: ./out, fileName: "Pipe\\0line.xlsx" }',
    ]);
    const [validate, run] = await Promise.all([
      runCli(['validate', '--config', file], { env: cleanEnv() }),
      runCli(['run', 'a', '--config', file], { env: cleanEnv() }),
    ]);
    for (const r of [validate, run]) {
      expect(r.code, r.stderr).toBe(2);
      expect(problemLines(r)).toEqual([
        `${file}:5 exports[0].destination.fileName: "Pipe\\u0000line.xlsx" contains control characters; must be a plain file name ending with .xlsx (put folders in "dir")`,
      ]);
    }
  });

  it('run a b: an export that cannot start is a failed report of its own, and b still runs', async ({ expect }) => {
    const sub = await mkdtemp(join(dir, 'run-a-b-'));
    await writeFile(join(sub, 'data.csv'), 'Region,Amount\nEMEA,10\nNA,20\n');
    const file = join(sub, 'exports.yaml');
    await writeFile(
      file,
      [
        'timezone: Europe/Paris',
        'stateDir: ./state',
        'tableau:',
        '  serverUrl: https://tableau.example.com',
        '  site: sales',
        '  auth: { type: pat, tokenNameEnv: FAULTS_TEST_PAT_NAME, tokenSecretEnv: FAULTS_TEST_PAT_SECRET }',
        'exports:',
        '  - id: a',
        '    views: [{ workbook: Sales Pipeline, view: Opportunities }]',
        '    destination: { type: local, dir: ./out }',
        '  - id: b',
        '    views: [{ file: ./data.csv, sheet: Data }]',
        '    destination: { type: local, dir: ./out }',
        '',
      ].join('\n'),
    );
    const [json, text] = await Promise.all([
      runCli(['run', 'a', 'b', '--json', '--config', file], { env: cleanEnv() }),
      runCli(['run', 'a', 'b', '--dry-run', '--config', file], { env: cleanEnv() }),
    ]);
    expect(json.code, json.stderr).toBe(2);
    const reports = json.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            exportId: string;
            status: string;
            rows: number;
            error?: { code: string; message: string };
          },
      );
    expect(reports.map((r) => [r.exportId, r.status, r.error?.code])).toEqual([
      ['a', 'failed', 'CONFIG_INVALID'],
      ['b', 'succeeded', undefined],
    ]);
    expect(reports[0]?.error?.message).toMatch(/FAULTS_TEST_PAT_NAME/);
    expect(reports[1]?.rows).toBe(2);
    expect(json.stderr).toMatch(/^config error/m);
    // Without --json: the error, b's own report and the summary table with both.
    expect(text.code, text.stderr).toBe(2);
    expect(text.stderr).toMatch(/FAULTS_TEST_PAT_NAME/);
    expect(text.stdout).toMatch(/✓ b: succeeded/);
    expect(text.stdout).toMatch(/^a\s+failed\s+0\s+0\s+/m);
    expect(text.stdout).toMatch(/^b\s+succeeded\s+2\s+/m);
  });
});
