/**
 * Two real `run` processes of one export on one state folder: the second is refused while the first holds the
 * export's lock, and a lock left by a killed process is taken over. The first process is paused (SIGSTOP) while it
 * holds the lock, so the test does not depend on how fast either process is. It is paused at a moment it holds no
 * lock of the state database (see pauseHolder), since a process frozen in the middle of an SQLite commit blocks
 * every other process's writes to that database, whatever the export lock says.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePipeline, writeTableauCsvFile } from '../../src/simulators/demo-data/pipeline-generator.js';
import { REPO_ROOT, runCli, type CliResult } from './helpers/cli.js';
import { createApiClient, createServiceGroup } from './helpers/service-process.js';
import { startRun, waitRunEnd } from './helpers/service-runs.js';

const TOKEN = 'export-lock-admin-token-5f0c2e9a71d4b836';
const services = createServiceGroup({ ADMIN_TOKEN: TOKEN });

let dir: string;
let cfg: string;
const lockFile = (): string => join(dir, 'state', 'locks', 'pipeline.lock');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tee-export-lock-'));
  const generated = generatePipeline({ seed: 7, count: 20_000, asOf: new Date(Date.UTC(2026, 10, 27)) });
  await writeTableauCsvFile(join(dir, 'opportunities.csv'), generated.header, generated.rows);
  cfg = join(dir, 'exports.yaml');
  await writeFile(
    cfg,
    [
      'timezone: Europe/Paris',
      'stateDir: ./state',
      'exports:',
      '  - id: pipeline',
      '    views: [{ file: opportunities.csv, sheet: Opportunities }]',
      '    destination: { type: local, dir: ./out, fileName: Pipeline.xlsx }',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await services.killAll();
  await rm(dir, { recursive: true, force: true });
});

/** Starts `run pipeline --json` and resolves with the child once the lock file names it. */
async function startHolder(): Promise<{ child: ChildProcess; done: Promise<CliResult> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', `${REPO_ROOT}src/cli/main.ts`, 'run', 'pipeline', '--json', '--config', cfg],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  const deadline = Date.now() + 60_000;
  for (;;) {
    // The lock is created, then written: read between the two, it is empty (not yet held, as the product reads it).
    const owner = await readFile(lockFile(), 'utf8').then(
      (t) => (t.trim() === '' ? undefined : (JSON.parse(t) as { pid: number })),
      () => undefined,
    );
    if (owner?.pid === child.pid) return { child, done };
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the first run never held the lock (exit ${String(child.exitCode)}): ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves once every thread of `child` is stopped (kill(2) returns before a running process has stopped). */
async function stopped(child: ChildProcess): Promise<void> {
  const tasks = `/proc/${String(child.pid)}/task`;
  for (;;) {
    const states = await Promise.all(
      (await readdir(tasks)).map(
        async (t) =>
          // A thread that ended meanwhile is no longer running.
          (await readFile(`${tasks}/${t}/stat`, 'utf8').catch(() => 'gone) T')).replace(/^.*\) /s, '')[0],
      ),
    );
    if (states.every((s) => s === 'T' || s === 't')) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * Pauses the holder (SIGSTOP) at a moment it holds no lock of the state database: paused, then probed from here with
 * a write transaction that does not wait; while the probe fails (the holder was frozen inside a commit, or while it
 * was turning a new database to WAL), it is resumed for a moment and paused again.
 */
async function pauseHolder(child: ChildProcess): Promise<void> {
  const dbFile = join(dir, 'state', 'state.db');
  for (let attempt = 1; ; attempt++) {
    child.kill('SIGSTOP');
    await stopped(child);
    // Not created yet: the holder is frozen before it opened the database, so it holds no lock of it.
    if (!existsSync(dbFile)) return;
    let db: Database.Database | undefined;
    try {
      db = new Database(dbFile, { fileMustExist: true, timeout: 0 });
      db.exec('BEGIN IMMEDIATE');
      db.exec('ROLLBACK');
      return;
    } catch (err) {
      if (attempt === 200) throw new Error(`the holder never paused outside a state database commit: ${String(err)}`);
    } finally {
      db?.close();
    }
    child.kill('SIGCONT');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('one run of an export at a time across processes', () => {
  it('refuses a second run while the first holds the lock, naming its pid and start; then the lock is free', async () => {
    const first = await startHolder();
    await pauseHolder(first.child);
    let second: CliResult;
    try {
      const owner = JSON.parse(await readFile(lockFile(), 'utf8')) as { startedAt: string; hostname: string };
      expect(owner.hostname).toBe(hostname());
      second = await runCli(['run', 'pipeline', '--config', cfg]);
      expect(second.code, second.stderr).toBe(1);
      expect(second.stderr).toContain(
        `export 'pipeline' is already running (pid ${String(first.child.pid)}, since ${owner.startedAt})`,
      );
      expect(second.stderr).toContain(`delete ${lockFile()}`);
      // --json: the refusal is a failed report on stdout.
      const json = await runCli(['run', 'pipeline', '--json', '--config', cfg]);
      expect(json.code).toBe(1);
      const report = JSON.parse(json.stdout.trim()) as { status: string; error: { code: string } };
      expect(report).toMatchObject({ status: 'failed', error: { code: 'EXPORT_ALREADY_RUNNING' } });
    } finally {
      first.child.kill('SIGCONT');
    }
    const firstResult = await first.done;
    expect(firstResult.code, firstResult.stderr).toBe(0);
    expect((JSON.parse(firstResult.stdout.trim()) as { status: string }).status).toBe('succeeded');
    expect(await readdir(join(dir, 'state', 'locks'))).toEqual([]);
    // The refused runs left no history: only the first run is recorded.
    const history = await runCli(['history', 'pipeline', '--config', cfg]);
    expect(history.stdout.match(/succeeded/g)).toHaveLength(1);
    expect(history.stdout).not.toMatch(/failed/);
  });

  it('takes over the lock of a run killed with SIGKILL', async () => {
    const first = await startHolder();
    first.child.kill('SIGKILL');
    expect((await first.done).code).toBeNull();
    expect(await readdir(join(dir, 'state', 'locks'))).toEqual(['pipeline.lock']);
    const next = await runCli(['run', 'pipeline', '--json', '--config', cfg]);
    expect(next.code, next.stderr).toBe(0);
    expect(await readdir(join(dir, 'state', 'locks'))).toEqual([]);
  });

  it('a dry run neither waits for nor takes the lock', async () => {
    const first = await startHolder();
    await pauseHolder(first.child);
    try {
      const dry = await runCli(['run', 'pipeline', '--dry-run', '--json', '--config', cfg]);
      expect(dry.code, dry.stderr).toBe(0);
      expect(JSON.parse(await readFile(lockFile(), 'utf8'))).toMatchObject({ pid: first.child.pid });
    } finally {
      first.child.kill('SIGCONT');
    }
    expect((await first.done).code).toBe(0);
  });

  it("serve records a Sync now as skipped while a CLI run holds the export's lock", async () => {
    const serve = await services.serve(cfg);
    const api = createApiClient(() => serve.baseUrl, TOKEN);
    const first = await startHolder();
    await pauseHolder(first.child);
    try {
      const run = await waitRunEnd(api, await startRun(api, 'pipeline'));
      expect(run.status).toBe('skipped');
      const detail = (await api.get(`/api/runs/${run.runId}`)).body as { warnings?: string[] };
      expect(JSON.stringify(detail)).toContain(`export 'pipeline' is already running (pid ${String(first.child.pid)}`);
    } finally {
      first.child.kill('SIGCONT');
    }
    expect((await first.done).code).toBe(0);
    // Free again: the service runs it.
    const next = await waitRunEnd(api, await startRun(api, 'pipeline'), 60_000);
    expect(next.status).toBe('succeeded');
    expect((await serve.stop()).code).toBe(0);
  });
});
