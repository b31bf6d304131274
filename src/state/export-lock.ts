/**
 * One run of an export at a time on one state folder, across processes: `run` in two terminals, or `run` while
 * `serve` fires the same export. Outside queue mode (the queue has its own distributed lock) a run holds
 * `<stateDir>/locks/<exportId>.lock`, created with O_EXCL and holding its owner (pid, host, start time). A lock
 * whose owner is gone (a process on this host that no longer exists, killed -9 or crashed) is taken over; a lock
 * of another host is never judged stale from here (its pid means nothing on this machine).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { open, readFile, rm, stat, unlink } from 'node:fs/promises';
import { processAlive } from '../shared/process-alive.js';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../shared/private-files.js';

/** Who holds a lock: what the lock file says. */
export interface ExportLockOwner {
  readonly exportId: string;
  readonly pid: number;
  readonly hostname: string;
  /** ISO 8601. */
  readonly startedAt: string;
  /** Random, so a process releases only the lock it took (not a successor's after a takeover). */
  readonly token: string;
}

export interface ExportLock {
  readonly file: string;
  readonly owner: ExportLockOwner;
  /** Removes the lock file if it is still this lock's. Idempotent; never rejects. */
  release(): Promise<void>;
}

export interface ExportLockDeps {
  readonly pid?: number;
  readonly hostname?: string;
  readonly now?: () => Date;
  /** Whether a process of this host exists (default: `process.kill(pid, 0)`). */
  readonly isAlive?: (pid: number) => boolean;
  /** When this process started (a lock of our own pid from before that is a previous process's: pid reuse). */
  readonly processStartedAt?: Date;
  /** A lock file that cannot be read as a lock (its writer died between create and write) is stale after this (ms). */
  readonly unreadableStaleMs?: number;
}

/** The second run of an export: exit 1, "export 'x' is already running (pid N on host, since …)". */
export class ExportAlreadyRunningError extends AppError {
  readonly owner: ExportLockOwner | undefined;
  constructor(exportId: string, file: string, owner: ExportLockOwner | undefined) {
    super(
      'EXPORT_ALREADY_RUNNING',
      owner === undefined
        ? `export '${exportId}' is already running (lock ${file} is being taken by another process)`
        : `export '${exportId}' is already running (pid ${owner.pid}${owner.hostname === osHostname() ? '' : ` on ${owner.hostname}`}, since ${owner.startedAt})`,
      {
        hint: `wait for that run to end; if no such process runs, delete ${file}`,
        details: owner === undefined ? { file } : { file, pid: owner.pid, hostname: owner.hostname },
      },
    );
    this.owner = owner;
  }
}

const ownerSchema = z.object({
  exportId: z.string(),
  pid: z.number().int().positive(),
  hostname: z.string(),
  startedAt: z.string(),
  token: z.string(),
});

/** Path of the lock file of `exportId` (export ids are file-name safe: `[a-z0-9._-]`). */
export function exportLockFile(stateDir: string, exportId: string): string {
  return join(stateDir, 'locks', `${exportId}.lock`);
}

/**
 * Takes the lock of `exportId` under `stateDir`, taking over a stale one. Released by `release()`, and at the
 * latest when the process exits (an exit listener removes it; a SIGKILL leaves it, to be taken over as stale).
 * @throws ExportAlreadyRunningError while another live process holds it.
 */
export async function acquireExportLock(
  stateDir: string,
  exportId: string,
  deps: ExportLockDeps = {},
): Promise<ExportLock> {
  const file = exportLockFile(stateDir, exportId);
  await ensurePrivateDir(join(stateDir, 'locks'));
  const owner: ExportLockOwner = {
    exportId,
    pid: deps.pid ?? process.pid,
    hostname: deps.hostname ?? osHostname(),
    startedAt: (deps.now?.() ?? new Date()).toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  const text = `${JSON.stringify(owner)}\n`;
  // A few rounds: each lost race (another process took over the stale lock first) starts again from the top.
  for (let round = 0; round < 20; round++) {
    if (await createExclusive(file, text)) return heldLock(file, owner, text);
    const current = await readLock(file);
    if (current === 'gone') continue;
    if (!(await isStale(file, current, owner, deps))) {
      throw new ExportAlreadyRunningError(exportId, file, current === 'unreadable' ? undefined : current.owner);
    }
    await takeOver(file, current === 'unreadable' ? undefined : current.text, deps.unreadableStaleMs ?? 10_000);
  }
  throw new ExportAlreadyRunningError(exportId, file, undefined);
}

async function createExclusive(file: string, text: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'wx', PRIVATE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(text);
  } catch (err) {
    // An empty lock would block the export until judged stale: remove it, and say why it could not be taken.
    await handle.close();
    await rm(file, { force: true });
    throw err;
  }
  await handle.close();
  return true;
}

type LockRead = 'gone' | 'unreadable' | { readonly owner: ExportLockOwner; readonly text: string };

async function readLock(file: string): Promise<LockRead> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  const owner = parseOwner(text);
  return owner === undefined ? 'unreadable' : { owner, text };
}

function parseOwner(text: string): ExportLockOwner | undefined {
  try {
    const parsed = ownerSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function isStale(
  file: string,
  current: Exclude<LockRead, 'gone'>,
  me: ExportLockOwner,
  deps: ExportLockDeps,
): Promise<boolean> {
  if (current === 'unreadable') {
    // Empty or half-written: its writer is between create and write (milliseconds), or died there.
    const age = await stat(file).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    return age > (deps.unreadableStaleMs ?? 10_000);
  }
  const { owner } = current;
  if (owner.hostname !== me.hostname) return false;
  if (owner.pid === me.pid) {
    // Our own pid: a lock from before this process started belongs to an earlier process that had the same pid
    // (containers restart as pid 1); a newer one is another run of this very process.
    const startedAt = deps.processStartedAt ?? new Date(Date.now() - process.uptime() * 1000);
    return Date.parse(owner.startedAt) < startedAt.getTime();
  }
  return !(deps.isAlive ?? processAlive)(owner.pid);
}

/**
 * Removes the lock judged stale, under a second O_EXCL file (`.takeover`) so that two processes taking over the same
 * stale lock never remove each other's fresh one: under it, the lock is read again and removed only if it is still
 * the stale one. A process that finds another taking over waits a moment and starts again.
 */
async function takeOver(file: string, staleText: string | undefined, staleMs: number): Promise<void> {
  const guard = `${file}.takeover`;
  if (!(await createExclusive(guard, `${process.pid}\n`))) {
    // A takeover whose process died halfway would block every later one: it is old after `staleMs`.
    const age = await stat(guard).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > staleMs) await unlink(guard).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 25));
    return;
  }
  try {
    const now = await readFile(file, 'utf8').catch(() => undefined);
    const stillStale =
      now !== undefined && (staleText === undefined ? parseOwner(now) === undefined : now === staleText);
    if (stillStale) await unlink(file).catch(() => undefined);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

function heldLock(file: string, owner: ExportLockOwner, text: string): ExportLock {
  let released = false;
  const releaseSync = (): void => {
    if (released) return;
    released = true;
    process.off('exit', releaseSync);
    try {
      if (readFileSync(file, 'utf8') === text) unlinkSync(file);
    } catch {
      // Gone already, or unreadable: nothing of ours to remove.
    }
  };
  // The last resort when the process ends without releasing (process.exit on a second Ctrl-C, an uncaught error).
  process.on('exit', releaseSync);
  return {
    file,
    owner,
    release: () => {
      releaseSync();
      return Promise.resolve();
    },
  };
}
