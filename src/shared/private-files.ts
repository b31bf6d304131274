/**
 * Everything the tool keeps under `stateDir` (run history, per-deal snapshots, spooled Tableau data, workbooks
 * before delivery) is pipeline data: readable by this user only. Folders are created 0700 and files 0600,
 * whatever the process umask.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `path` (and missing parents) readable by this user only, and tightens it when it already exists with
 * looser rights (a folder of an earlier version of the tool). A folder owned by another user is left as it is.
 */
export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(path, PRIVATE_DIR_MODE).catch(() => undefined);
}

/** {@link ensurePrivateDir}, for the few callers that cannot wait (opening the state database). */
export function ensurePrivateDirSync(path: string): void {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
  try {
    chmodSync(path, PRIVATE_DIR_MODE);
  } catch {
    // Not ours to change (owned by another user, read-only mount): the folder's owner decides.
  }
}

/** Makes an existing file readable by this user only (best effort, as {@link ensurePrivateDir}). */
export async function makePrivate(path: string): Promise<void> {
  await chmod(path, PRIVATE_FILE_MODE).catch(() => undefined);
}
