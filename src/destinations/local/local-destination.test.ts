import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AbortedError, DestinationError } from '../../shared/errors.js';
import { createSilentLogger } from '../../shared/logger.js';
import type { DeliveryContext, FetchCurrentContext, FinishedFile } from '../../contracts/ports.js';
import { createLocalDestination } from './local-destination.js';
import type { CurrentFile, UnchangedFile } from '../../contracts/ports.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'local-destination-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function context(signal = new AbortController().signal): DeliveryContext {
  return {
    logger: createSilentLogger(),
    signal,
    runStartedAt: new Date(Date.UTC(2026, 10, 27, 6)),
    timezone: 'Europe/Paris',
  };
}

async function finished(content: string): Promise<FinishedFile> {
  const path = join(root, `source-${Math.random().toString(16).slice(2)}.xlsx`);
  await writeFile(path, content);
  return { path, bytes: Buffer.byteLength(content), suggestedName: 'Sales Pipeline.xlsx' };
}

const NAME = 'Sales Pipeline.xlsx';

describe('createLocalDestination', () => {
  it('creates the folder and delivers the file whole, leaving no temp file', async () => {
    const dir = join(root, 'out', 'nested');
    const destination = createLocalDestination({ dir, fileName: NAME });
    const file = await finished('new workbook bytes');
    const result = await destination.deliver(file, context());
    expect(result).toEqual({ location: join(dir, NAME), warnings: [] });
    expect(await readFile(join(dir, NAME), 'utf8')).toBe('new workbook bytes');
    expect(await readdir(dir)).toEqual([NAME]);
    expect(destination.describe()).toContain(join(dir, NAME));
  });

  it('returns an absolute location for a relative folder', async () => {
    const destination = createLocalDestination({ dir: 'relative-out-dir-for-test', fileName: NAME });
    expect(destination.describe()).toContain(join(process.cwd(), 'relative-out-dir-for-test', NAME));
  });

  it('replaces an existing file', async () => {
    const dir = join(root, 'out');
    await mkdir(dir);
    await writeFile(join(dir, NAME), 'old');
    const destination = createLocalDestination({ dir, fileName: NAME });
    await destination.deliver(await finished('new'), context());
    expect(await readFile(join(dir, NAME), 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual([NAME]);
  });

  it('leaves the old file byte-identical and no temp file when the source cannot be read', async () => {
    const dir = join(root, 'out');
    await mkdir(dir);
    await writeFile(join(dir, NAME), 'old workbook');
    const destination = createLocalDestination({ dir, fileName: NAME });
    const missing: FinishedFile = { path: join(root, 'gone.xlsx'), bytes: 10, suggestedName: NAME };
    await expect(destination.deliver(missing, context())).rejects.toMatchObject({
      code: 'DESTINATION_WRITE_FAILED',
      message: expect.stringContaining(join(dir, NAME)) as unknown,
    });
    expect(await readFile(join(dir, NAME), 'utf8')).toBe('old workbook');
    expect(await readdir(dir)).toEqual([NAME]);
  });

  it('removes the temp copy when the copy is incomplete, before touching the target', async () => {
    const dir = join(root, 'out');
    await mkdir(dir);
    await writeFile(join(dir, NAME), 'old workbook');
    const destination = createLocalDestination({ dir, fileName: NAME });
    const file = await finished('short');
    await expect(destination.deliver({ ...file, bytes: 999 }, context())).rejects.toThrow(/has 5 bytes, expected 999/);
    expect(await readFile(join(dir, NAME), 'utf8')).toBe('old workbook');
    expect(await readdir(dir)).toEqual([NAME]);
  });

  it('removes the temp copy when the rename fails (a folder has the target name)', async () => {
    const dir = join(root, 'out');
    await mkdir(join(dir, NAME), { recursive: true });
    await writeFile(join(dir, NAME, 'keep.txt'), 'inside');
    const destination = createLocalDestination({ dir, fileName: NAME });
    const error = await destination.deliver(await finished('new'), context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationError);
    expect(error).toMatchObject({ code: 'DESTINATION_WRITE_FAILED' });
    expect((await stat(join(dir, NAME))).isDirectory()).toBe(true);
    expect(await readFile(join(dir, NAME, 'keep.txt'), 'utf8')).toBe('inside');
    expect(await readdir(dir)).toEqual([NAME]);
  });

  it('holds a previous delivery while the file at the target has its size', async () => {
    const dir = join(root, 'out');
    const destination = createLocalDestination({ dir, fileName: NAME });
    const signal = new AbortController().signal;
    const { location } = await destination.deliver(await finished('12345'), context());
    expect(await destination.holds?.({ location, bytes: 5 }, { signal })).toBe(true);
    expect(await destination.holds?.({ location, bytes: 6 }, { signal })).toBe(false);
    expect(await destination.holds?.({ location: join(root, 'elsewhere.xlsx'), bytes: 5 }, { signal })).toBe(false);
    await rm(location);
    expect(await destination.holds?.({ location, bytes: 5 }, { signal })).toBe(false);
  });

  it('does nothing when the run is already aborted', async () => {
    const dir = join(root, 'out');
    const controller = new AbortController();
    controller.abort();
    const destination = createLocalDestination({ dir, fileName: NAME });
    await expect(destination.deliver(await finished('x'), context(controller.signal))).rejects.toBeInstanceOf(
      AbortedError,
    );
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.each(['', 'sub/Sales.xlsx', 'sub\\Sales.xlsx', '../Sales.xlsx', 'Sales.csv', '.xlsx', 'Sales\u0000.xlsx'])(
    'rejects the file name %j with a DestinationError',
    (fileName) => {
      expect(() => createLocalDestination({ dir: root, fileName })).toThrow(DestinationError);
      expect(() => createLocalDestination({ dir: root, fileName })).toThrow(/file name/);
    },
  );

  it('accepts names with spaces and upper-case extension', () => {
    expect(() => createLocalDestination({ dir: root, fileName: 'Q4 Pipeline (EMEA).XLSX' })).not.toThrow();
  });
});

describe('createLocalDestination in update mode', () => {
  const fetchContext = async (maxBytes = 1_000_000): Promise<FetchCurrentContext> => ({
    logger: createSilentLogger(),
    signal: new AbortController().signal,
    tempDir: await mkdtemp(join(root, 'run-')),
    maxBytes,
  });
  // Whole seconds: utimes can restore exactly this mtime, so a test can change only the content.
  const FIXED_MTIME = new Date('2026-11-27T06:00:00Z');

  async function teamWorkbook(content: string): Promise<{ dir: string; target: string }> {
    const dir = join(root, 'team');
    await mkdir(dir, { recursive: true });
    const target = join(dir, NAME);
    await writeFile(target, content);
    await utimes(target, FIXED_MTIME, FIXED_MTIME);
    return { dir, target };
  }

  it('answers undefined when there is no workbook yet', async () => {
    const destination = createLocalDestination({ dir: join(root, 'empty'), fileName: NAME, mode: 'update' });
    const ctx = await fetchContext();
    expect(await destination.fetchCurrent(ctx)).toBeUndefined();
    expect(await readdir(ctx.tempDir)).toEqual([]);
  });

  it('copies the workbook into tempDir with a fingerprint of size, mtime and SHA-256', async () => {
    const { dir, target } = await teamWorkbook('the team workbook');
    await chmod(target, 0o644);
    const ctx = await fetchContext();
    const current = downloaded(await createLocalDestination({ dir, fileName: NAME, mode: 'update' }).fetchCurrent(ctx));
    expect(current?.location).toBe(target);
    expect(current?.bytes).toBe(17);
    expect(current?.path.startsWith(ctx.tempDir)).toBe(true);
    expect(await readFile(current?.path ?? '', 'utf8')).toBe('the team workbook');
    // The team's file is readable by all; the copy is pipeline data: this user only.
    expect((await stat(current?.path ?? '')).mode & 0o777).toBe(0o600);
    const sha = createHash('sha256').update('the team workbook').digest('hex');
    expect(current?.version).toBe(`local-v1:17:${BigInt(FIXED_MTIME.getTime()) * 1_000_000n}:${sha}`);
  });

  it('refuses a workbook over maxBytes without copying it, naming the setting', async () => {
    const { dir, target } = await teamWorkbook('0123456789');
    const ctx = await fetchContext(9);
    const error = await createLocalDestination({ dir, fileName: NAME, mode: 'update' })
      .fetchCurrent(ctx)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DESTINATION_TOO_LARGE', details: { bytes: 10, maxBytes: 9 } });
    expect((error as Error).message).toContain(`'${target}'`);
    expect((error as DestinationError).hint).toContain('destination.update.maxBytes');
    expect(await readdir(ctx.tempDir)).toEqual([]);
  });

  it('replaces the workbook when it is still the version that was read', async () => {
    const { dir, target } = await teamWorkbook('v1');
    const destination = createLocalDestination({ dir, fileName: NAME, mode: 'update' });
    const current = downloaded(await destination.fetchCurrent(await fetchContext()));
    await destination.deliver(await finished('patched v1'), { ...context(), ifMatch: current?.version });
    expect(await readFile(target, 'utf8')).toBe('patched v1');
    expect(await readdir(dir)).toEqual([NAME]);
  });

  it.each([
    ['a save with new content and mtime', 'v2 by a teammate', undefined],
    // Same size, the mtime put back: only the content hash tells.
    ['a same-size save that kept the mtime', 'V1', FIXED_MTIME],
    ['a save of the same bytes (the mtime moved)', 'v1', new Date('2026-11-27T07:00:00Z')],
  ])('refuses to overwrite %s: DESTINATION_CHANGED, target byte-identical, no temp file', async (_l, theirs, mtime) => {
    const { dir, target } = await teamWorkbook('v1');
    const destination = createLocalDestination({ dir, fileName: NAME, mode: 'update' });
    const current = downloaded(await destination.fetchCurrent(await fetchContext()));
    await writeFile(target, theirs);
    if (mtime !== undefined) await utimes(target, mtime, mtime);
    const before = await readFile(target);
    const error = await destination
      .deliver(await finished('patched v1'), { ...context(), ifMatch: current?.version })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationError);
    expect(error).toMatchObject({ code: 'DESTINATION_CHANGED' });
    expect((error as Error).message).toContain(`'${target}' was saved by a teammate after this run read it`);
    expect((await readFile(target)).equals(before)).toBe(true);
    expect(await readdir(dir)).toEqual([NAME]);
  });

  it('refuses when the workbook was deleted after it was read', async () => {
    const { dir, target } = await teamWorkbook('v1');
    const destination = createLocalDestination({ dir, fileName: NAME, mode: 'update' });
    const current = downloaded(await destination.fetchCurrent(await fetchContext()));
    await rm(target);
    await expect(
      destination.deliver(await finished('patched'), { ...context(), ifMatch: current?.version }),
    ).rejects.toMatchObject({ code: 'DESTINATION_CHANGED' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('creates only if still absent: a file that appeared meanwhile stays, DESTINATION_CHANGED', async () => {
    const dir = join(root, 'fresh');
    const destination = createLocalDestination({ dir, fileName: NAME, mode: 'update' });
    expect(await destination.fetchCurrent(await fetchContext())).toBeUndefined();
    const created = await destination.deliver(await finished('first delivery'), { ...context(), ifAbsent: true });
    expect(await readFile(created.location, 'utf8')).toBe('first delivery');
    expect(await readdir(dir)).toEqual([NAME]);
    const error = await destination
      .deliver(await finished('second'), { ...context(), ifAbsent: true })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DESTINATION_CHANGED', message: expect.stringContaining('a file appeared') });
    expect(await readFile(created.location, 'utf8')).toBe('first delivery');
    expect(await readdir(dir)).toEqual([NAME]);
  });

  it('holds a previous delivery in update mode whatever its size now; replace mode wants the same size', async () => {
    const dir = join(root, 'out');
    const signal = new AbortController().signal;
    const update = createLocalDestination({ dir, fileName: NAME, mode: 'update' });
    const { location } = await update.deliver(await finished('12345'), context());
    await writeFile(location, '12345 and a teammate note');
    expect(await update.holds({ location, bytes: 5 }, { signal })).toBe(true);
    const replace = createLocalDestination({ dir, fileName: NAME });
    expect(await replace.holds({ location, bytes: 5 }, { signal })).toBe(false);
    await rm(location);
    expect(await update.holds({ location, bytes: 5 }, { signal })).toBe(false);
  });

  it('keeps fetchCurrent when skipUnchanged wraps the destination', async () => {
    const { dir } = await teamWorkbook('v1');
    const destination = createLocalDestination({ dir, fileName: NAME, mode: 'update', skipUnchanged: true });
    expect(downloaded(await destination.fetchCurrent(await fetchContext()))?.bytes).toBe(2);
  });
});

/** The downloaded copy: these tests pass no data hash, so the answer is never "unchanged". */
function downloaded(found: CurrentFile | UnchangedFile | undefined): CurrentFile | undefined {
  if (found !== undefined && 'unchanged' in found) throw new Error('fetchCurrent answered unchanged');
  return found;
}
