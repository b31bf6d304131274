import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AbortedError, DestinationError } from '../../shared/errors.js';
import { createSilentLogger } from '../../shared/logger.js';
import type { DeliveryContext, FinishedFile } from '../../contracts/ports.js';
import { createLocalDestination } from './local-destination.js';

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
