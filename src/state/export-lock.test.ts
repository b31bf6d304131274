import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireExportLock, ExportAlreadyRunningError, exportLockFile } from './export-lock.js';

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'tee-export-lock-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

/** The pid of a process that existed and has exited (so no process of this host has it, for a while). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  const pid = child.pid;
  await new Promise((resolve) => child.on('exit', resolve));
  if (pid === undefined) throw new Error('no pid');
  return pid;
}

const refusal = async (p: Promise<unknown>): Promise<ExportAlreadyRunningError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ExportAlreadyRunningError);
  return err as ExportAlreadyRunningError;
};

describe('acquireExportLock', () => {
  it('writes its owner into a private lock file, refuses a second holder naming the first, and releases', async () => {
    const now = () => new Date('2026-12-01T06:00:00.000Z');
    const lock = await acquireExportLock(stateDir, 'nightly', { now });
    const file = exportLockFile(stateDir, 'nightly');
    expect(lock.file).toBe(file);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      exportId: 'nightly',
      pid: process.pid,
      hostname: hostname(),
      startedAt: '2026-12-01T06:00:00.000Z',
      token: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(stateDir, 'locks'))).mode & 0o777).toBe(0o700);

    // Another process of this host (alive): refused.
    const err = await refusal(acquireExportLock(stateDir, 'nightly', { pid: process.pid + 1, isAlive: () => true }));
    expect(err.code).toBe('EXPORT_ALREADY_RUNNING');
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(
      `export 'nightly' is already running (pid ${process.pid}, since 2026-12-01T06:00:00.000Z)`,
    );
    expect(err.hint).toBe(`wait for that run to end; if no such process runs, delete ${file}`);

    // Other exports are not concerned.
    const other = await acquireExportLock(stateDir, 'weekly');
    await other.release();

    await lock.release();
    await lock.release(); // idempotent
    expect(await readdir(join(stateDir, 'locks'))).toEqual([]);
    const again = await acquireExportLock(stateDir, 'nightly');
    await again.release();
  });

  it('takes over the lock of a process of this host that no longer exists', async () => {
    const file = exportLockFile(stateDir, 'nightly');
    const gone = await deadPid();
    const first = await acquireExportLock(stateDir, 'nightly', { pid: gone });
    // The dead process never released it.
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: gone });
    const taken = await acquireExportLock(stateDir, 'nightly');
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: process.pid, token: taken.owner.token });
    // The dead owner's release must not remove its successor's lock.
    await first.release();
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ token: taken.owner.token });
    await taken.release();
    expect(await readdir(join(stateDir, 'locks'))).toEqual([]);
  });

  it('never judges a lock of another host stale, whatever its pid', async () => {
    const held = await acquireExportLock(stateDir, 'nightly', { hostname: 'worker-7', pid: await deadPid() });
    const err = await refusal(acquireExportLock(stateDir, 'nightly'));
    expect(err.message).toMatch(/^export 'nightly' is already running \(pid \d+ on worker-7, since /);
    await held.release();
  });

  it('a lock of its own pid from before the process started is an earlier process (pid reuse); a newer one is held', async () => {
    const old = await acquireExportLock(stateDir, 'nightly', { now: () => new Date('2026-01-01T00:00:00Z') });
    const taken = await acquireExportLock(stateDir, 'nightly', { processStartedAt: new Date('2026-06-01T00:00:00Z') });
    expect(taken.owner.token).not.toBe(old.owner.token);
    await refusal(acquireExportLock(stateDir, 'nightly', { processStartedAt: new Date('2026-06-01T00:00:00Z') }));
    await taken.release();
  });

  it('an unreadable lock file is being written (refused) until it is old, then stale (taken over)', async () => {
    const file = exportLockFile(stateDir, 'nightly');
    const lock = await acquireExportLock(stateDir, 'nightly');
    await lock.release();
    await writeFile(file, '');
    const err = await refusal(acquireExportLock(stateDir, 'nightly'));
    expect(err.message).toBe(`export 'nightly' is already running (lock ${file} is being taken by another process)`);
    const past = new Date(Date.now() - 60_000);
    await utimes(file, past, past);
    const taken = await acquireExportLock(stateDir, 'nightly');
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ token: taken.owner.token });
    await taken.release();
  });

  it('of many concurrent takers of one stale lock, exactly one wins', async () => {
    await acquireExportLock(stateDir, 'nightly', { pid: await deadPid() });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        acquireExportLock(stateDir, 'nightly', { pid: 100_000 + i, isAlive: (p) => p >= 100_000 }),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ExportAlreadyRunningError);
    expect((await readdir(join(stateDir, 'locks'))).sort()).toEqual(['nightly.lock']);
  });

  it('is released when the process exits without releasing it', async () => {
    const script = [
      `import { acquireExportLock } from ${JSON.stringify(new URL('./export-lock.ts', import.meta.url).pathname)};`,
      `await acquireExportLock(${JSON.stringify(stateDir)}, 'nightly');`,
      `process.exit(3);`,
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: 'ignore',
    });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(3);
    expect(await readdir(join(stateDir, 'locks'))).toEqual([]);
  });
});
