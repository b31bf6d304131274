/**
 * Versions of a local file for update mode. A local file has no eTag, so its version is a fingerprint: size,
 * modification time (nanoseconds) and SHA-256 of the content. Size and mtime make a change cheap to see; the hash
 * catches a save that kept both (a coarse-mtime filesystem, a tool that restores mtimes).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { DestinationError } from '../../shared/errors.js';
import { makePrivate } from '../../shared/private-files.js';
import { fileTooLargeError } from '../update-mode-errors.js';

const PREFIX = 'local-v1';

/** `local-v1:<size>:<mtimeNs>:<sha256 hex>`. */
function formatFingerprint(size: bigint | number, mtimeNs: bigint, sha256: string): string {
  return `${PREFIX}:${size}:${mtimeNs}:${sha256}`;
}

async function sha256Of(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash, signal === undefined ? {} : { signal });
  return hash.digest('hex');
}

/** The file's size and mtime, or undefined when nothing is there. @throws for a folder or an unreadable path. */
async function statFile(path: string): Promise<{ size: bigint; mtimeNs: bigint } | undefined> {
  let info;
  try {
    info = await stat(path, { bigint: true });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw error;
  }
  if (!info.isFile()) {
    throw new DestinationError('DESTINATION_WRITE_FAILED', `'${path}' is not a file`, {
      hint: 'a folder or special file has the workbook name; rename or remove it',
    });
  }
  return { size: info.size, mtimeNs: info.mtimeNs };
}

/**
 * True when the file at `path` still has the fingerprint `version`; false when it changed or is gone. Size and mtime
 * are compared first, so a changed file is told without reading it.
 */
export async function hasFingerprint(path: string, version: string): Promise<boolean> {
  const info = await statFile(path);
  if (info === undefined || !version.startsWith(`${PREFIX}:${info.size}:${info.mtimeNs}:`)) return false;
  return formatFingerprint(info.size, info.mtimeNs, await sha256Of(path)) === version;
}

/**
 * Copies the file at `source` to `dest` and returns its size and fingerprint, or undefined when there is no file.
 * The mtime is read before the copy and the hash from the copy: if the file changes meanwhile, the fingerprint
 * matches neither the old nor the new file, so the later conditional write refuses and the run reads again.
 * @throws DestinationError `DESTINATION_TOO_LARGE` (nothing copied) when the file is over `maxBytes`.
 */
export async function copyWithFingerprint(
  source: string,
  dest: string,
  maxBytes: number,
  signal: AbortSignal,
): Promise<{ bytes: number; version: string } | undefined> {
  const before = await statFile(source);
  if (before === undefined) return undefined;
  if (before.size > BigInt(maxBytes)) throw fileTooLargeError(source, Number(before.size), maxBytes);
  try {
    // copyFile goes kernel to kernel where it can: the workbook never sits in this process's memory.
    await copyFile(source, dest);
    // copyFile gives the copy the source's rights (the team's 0644 or 0640); the copy is pipeline data.
    await makePrivate(dest);
    const { size } = await stat(dest);
    if (size > maxBytes) throw fileTooLargeError(source, size, maxBytes, { whileDownloading: true });
    return { bytes: size, version: formatFingerprint(size, before.mtimeNs, await sha256Of(dest, signal)) };
  } catch (error) {
    await rm(dest, { force: true });
    if ((error as { code?: unknown }).code === 'ENOENT' && (await statFile(source)) === undefined) return undefined;
    throw error;
  }
}
