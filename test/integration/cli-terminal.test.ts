/**
 * The CLI as a person at a terminal sees it (a real pseudo-terminal, through `script`): a failed run says its error
 * once, on a line of its own (never glued onto the progress line, never repeated by a log line), followed by what
 * teammates still have; `run --failed` runs again exactly the exports whose last run failed.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from './helpers/cli.js';

let dir: string;
let config: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tee-cli-tty-'));
  await copyFile(new URL('../fixtures/csv/populate_csv.csv', import.meta.url), join(dir, 'by-region.csv'));
  config = join(dir, 'exports.yaml');
  await writeFile(
    config,
    [
      'timezone: Europe/Paris',
      'stateDir: ./state',
      'exports:',
      '  - id: regions',
      '    timezone: America/New_York',
      '    views:',
      '      - { file: by-region.csv, sheet: By Region }',
      '    destination: { type: local, dir: ./out }',
      '  - id: steady',
      '    views:',
      '      - { file: by-region.csv, sheet: By Region }',
      '    destination: { type: local, dir: ./out, fileName: steady.xlsx }',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI in a pseudo-terminal; returns what the terminal showed (escape sequences and all). */
function runInTerminal(args: readonly string[]): Promise<{ code: number | null; screen: string }> {
  const quote = (a: string): string => `'${a.replaceAll("'", "'\\''")}'`;
  const command = [process.execPath, '--import', 'tsx', `${REPO_ROOT}src/cli/main.ts`, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', COLUMNS: '120', TERM: 'xterm' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    child.stderr.on('data', (d: Buffer) => (screen += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen }));
  });
}

/** The lines as they end up on screen: a `\r` + erase-line rewrites the line, so only what follows it stays. */
function visibleLines(screen: string): string[] {
  return screen
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => {
      const ESC = String.fromCharCode(27);
      const parts = line.split(`\r${ESC}[2K`).flatMap((p) => p.split('\r'));
      return (parts.at(-1) ?? '').replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '');
    })
    .filter((l) => l.trim() !== '');
}

describe('tableau-export run on a terminal', () => {
  it('prints a failed run once, on its own line, and says what teammates still have', async () => {
    const ok = await runInTerminal(['run', 'regions', '--config', config]);
    expect(ok.code, ok.screen).toBe(0);
    expect(visibleLines(ok.screen).some((l) => /^✓ regions: succeeded in/.test(l))).toBe(true);

    await rm(join(dir, 'by-region.csv'));
    const failed = await runInTerminal(['run', 'regions', '--config', config]);
    expect(failed.code, failed.screen).toBe(1);
    const lines = visibleLines(failed.screen);
    const mentions = lines.filter((l) => l.includes('by-region.csv'));
    expect(mentions, failed.screen).toHaveLength(1);
    expect(mentions[0]).toMatch(/^✗ regions: failed after \d+\.\ds \[[A-Z_]+\] .*by-region\.csv/);
    const next = lines[lines.indexOf(mentions[0] ?? '') + 1];
    expect(next).toMatch(
      /^ {4}teammates still have the workbook of \w{3}, \d{1,2} \w{3} \d{4}, \d\d:\d\d E[SD]T \(\d[\d,]* rows\): .*regions\.xlsx$/,
    );
  }, 60_000);

  it('run --failed runs again the exports whose last run failed, and nothing once they all succeeded', async () => {
    await copyFile(new URL('../fixtures/csv/populate_csv.csv', import.meta.url), join(dir, 'by-region.csv'));
    const ok = await runCli(['run', 'steady', '--config', config]);
    expect(ok.code, ok.stderr).toBe(0);
    const again = await runCli(['run', '--failed', '--config', config, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const reports = again.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { exportId: string; status: string });
    // `regions` failed last (previous test), `steady` succeeded: only `regions` runs.
    expect(reports.map((r) => [r.exportId, r.status])).toEqual([['regions', 'succeeded']]);
    const none = await runCli(['run', '--failed', '--config', config]);
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/no export has a failed last run; nothing to run/);
    const both = await runCli(['run', 'regions', '--failed', '--config', config]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/give export ids, --all or --failed: one of them/);
  }, 60_000);
});
