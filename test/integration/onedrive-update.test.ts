/**
 * Update mode against the Graph simulator: the workbook is downloaded through Graph's 302 (never with the token),
 * written back with If-Match over the version read, and a teammate's save in between is never overwritten.
 *
 * No nock here, unlike the other OneDrive tests: importing it installs @mswjs/interceptors, whose passthrough of a
 * real connection reports a large response that the reader paused (backpressure, as a download to disk does) as
 * `Error: aborted` (mswjs/interceptors#794). Every request of this file goes to the loopback simulator anyway.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import ExcelJS from 'exceljs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FetchCurrentContext, FinishedFile } from '../../src/contracts/ports.js';
import { DestinationError } from '../../src/shared/errors.js';
import { startHarness, type Harness } from './onedrive-harness.js';
import type { CurrentFile, UnchangedFile } from '../../src/contracts/ports.js';

const MiB = 1024 * 1024;

/** A real workbook whose Notes!A1 says `note`; `padCells` cells of random text make it larger (and incompressible). */
async function workbook(note: string, padCells = 0): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Notes');
  ws.getCell('A1').value = note;
  for (let i = 0; i < padCells; i++) ws.getCell(i + 2, 1).value = randomBytes(3_000).toString('base64');
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** Notes!A1 of a workbook read back from its bytes. */
async function noteOf(bytes: Buffer | undefined): Promise<unknown> {
  if (bytes === undefined) return undefined;
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  return wb.getWorksheet('Notes')?.getCell('A1').value;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

describe('OneDrive destination in update mode, against the Graph simulator', () => {
  let h: Harness;
  let fileNo = 0;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterEach(() => h.sim.faults.clear());
  afterAll(async () => {
    await h.close();
  });

  async function finished(bytes: Buffer, dataHash?: string): Promise<FinishedFile> {
    const path = join(h.dir, `wb-${fileNo++}.xlsx`);
    await writeFile(path, bytes);
    return { path, bytes: bytes.length, suggestedName: 'Book.xlsx', ...(dataHash === undefined ? {} : { dataHash }) };
  }

  async function fetchContext(maxBytes = 256 * MiB): Promise<FetchCurrentContext> {
    return {
      logger: h.logger,
      signal: new AbortController().signal,
      tempDir: await mkdtemp(join(h.dir, 'run-')),
      maxBytes,
    };
  }

  /** The team's workbook as it is before the run: delivered once (replace mode). */
  async function seed(path: string, note: string, padCells = 0): Promise<Buffer> {
    const bytes = await workbook(note, padCells);
    await h.destination({ path }).deliver(await finished(bytes), h.context());
    return bytes;
  }

  /** Write requests (PUT content, createUploadSession) to `path` logged since `from`. */
  const writesTo = (path: string, from: number) =>
    h.sim.stats.log
      .slice(from)
      .filter((l) => l.target.includes(encodeURIComponent(path.split('/').pop() ?? '')) && l.method !== 'GET').length;

  it('downloads the workbook through the 302 without sending the token to the download URL, with its eTag', async () => {
    await seed('Update/Fetch.xlsx', 'as the team left it');
    const before = { ...h.sim.stats };
    const ctx = await fetchContext();
    const current = downloaded(await h.destination({ path: 'Update/Fetch.xlsx', mode: 'update' }).fetchCurrent(ctx));
    expect(current?.location).toBe('ops@contoso.com/Update/Fetch.xlsx');
    expect(current?.version).toBe(h.sim.itemInfo('ops@contoso.com/Update/Fetch.xlsx')?.eTag);
    expect(current?.path.startsWith(ctx.tempDir)).toBe(true);
    expect(await noteOf(await readFile(current?.path ?? ''))).toBe('as the team left it');
    expect(h.sim.stats.downloadRedirects - before.downloadRedirects).toBe(1);
    expect(h.sim.stats.downloadsServed - before.downloadsServed).toBe(1);
    expect(h.sim.stats.authorizationOnDownloadUrl).toBe(0);
    // The pre-authenticated URL is a credential: not in any log line.
    expect(h.logs.join('')).not.toMatch(/\/download\/[A-Za-z0-9_-]{8,}/);
  });

  it('answers undefined when no workbook is there yet (not even its folder)', async () => {
    const redirects = h.sim.stats.downloadRedirects;
    const dest = h.destination({ path: 'Nowhere/Yet/Book.xlsx', mode: 'update' });
    expect(await dest.fetchCurrent(await fetchContext())).toBeUndefined();
    expect(h.sim.stats.downloadRedirects).toBe(redirects);
    expect(h.sim.itemInfo('ops@contoso.com/Nowhere')).toBeUndefined();
  });

  it('refuses a workbook over maxBytes before downloading any byte, naming the setting', async () => {
    const bytes = await seed('Update/Big.xlsx', 'big', 20);
    const redirects = h.sim.stats.downloadRedirects;
    const ctx = await fetchContext(bytes.length - 1);
    const error = await h
      .destination({ path: 'Update/Big.xlsx', mode: 'update' })
      .fetchCurrent(ctx)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationError);
    expect(error).toMatchObject({ code: 'DESTINATION_TOO_LARGE' });
    const e = error as DestinationError;
    expect(e.message).toContain("'ops@contoso.com/Update/Big.xlsx'");
    expect(e.message).toContain(`(${bytes.length} bytes)`);
    expect(e.message).toContain(`(${bytes.length - 1} bytes)`);
    expect(e.hint).toContain('destination.update.maxBytes');
    expect(h.sim.stats.downloadRedirects).toBe(redirects);
    expect(await readdir(ctx.tempDir)).toEqual([]);
  });

  it('retries a failed and a cut download, each time with a fresh URL, leaving only the finished copy', async () => {
    await seed('Update/Flaky.xlsx', 'flaky network', 60);
    h.sim.faults.failDownload({ times: 1 });
    h.sim.faults.cutDownload({ times: 1 });
    const redirects = h.sim.stats.downloadRedirects;
    const ctx = await fetchContext();
    const current = downloaded(await h.destination({ path: 'Update/Flaky.xlsx', mode: 'update' }).fetchCurrent(ctx));
    expect(h.sim.stats.downloadRedirects - redirects).toBe(3);
    expect(await noteOf(await readFile(current?.path ?? ''))).toBe('flaky network');
    expect(current?.bytes).toBe(h.sim.itemInfo('ops@contoso.com/Update/Flaky.xlsx')?.size);
    expect(await readdir(ctx.tempDir)).toHaveLength(1);
    expect(h.sim.stats.authorizationOnDownloadUrl).toBe(0);
  });

  // A threshold above the workbook's size sends it in one PUT; a tiny one forces an upload session.
  const paths = [
    ['one PUT', 64 * MiB],
    ['upload session', 1_000],
  ] as const;

  it.each(paths)(
    'writes with If-Match over the version it read (%s): one more version of the same item',
    async (label, threshold) => {
      const path = `Update/Match ${label}.xlsx`;
      const location = `ops@contoso.com/${path}`;
      await seed(path, 'before');
      const dest = h.destination({ path, mode: 'update', uploadSessionThresholdBytes: threshold });
      const current = downloaded(await dest.fetchCurrent(await fetchContext()));
      const itemId = h.sim.itemInfo(location)?.id;
      const sessions = h.sim.stats.uploadSessionsCreated;
      const result = await dest.deliver(await finished(await workbook('patched by the export')), {
        ...h.context(),
        ifMatch: current?.version,
      });
      expect(result.itemId).toBe(itemId);
      expect(result.eTag).not.toBe(current?.version);
      expect(h.sim.itemInfo(location)?.versions).toBe(2);
      expect(await noteOf(await h.sim.readFile(location))).toBe('patched by the export');
      expect(h.sim.stats.uploadSessionsCreated - sessions).toBe(label === 'one PUT' ? 0 : 1);
    },
  );

  it.each(paths)(
    'refuses to overwrite a teammate who saved between download and upload (%s): 412 → DESTINATION_CHANGED',
    async (label, threshold) => {
      const path = `Update/Teammate ${label}.xlsx`;
      const location = `ops@contoso.com/${path}`;
      await seed(path, 'before');
      const dest = h.destination({ path, mode: 'update', uploadSessionThresholdBytes: threshold });
      const current = downloaded(await dest.fetchCurrent(await fetchContext()));
      const theirs = await workbook('the teammate saved this');
      h.sim.faults.teammateSavesBeforeNextUpload(location, theirs);
      const mark = h.sim.stats.log.length;
      const failures = h.sim.stats.preconditionFailures;
      const error = await dest
        .deliver(await finished(await workbook('patched by the export')), { ...h.context(), ifMatch: current?.version })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DestinationError);
      expect(error).toMatchObject({ code: 'DESTINATION_CHANGED', retryable: false });
      const e = error as DestinationError;
      expect(e.message).toContain(`'${location}' was saved by a teammate after this run read it`);
      expect(e.message).toContain('untouched');
      expect(e.cause).toMatchObject({ status: 412 });
      // Their version is the one stored; ours was refused once, not retried by the HTTP layer.
      expect(await noteOf(await h.sim.readFile(location))).toBe('the teammate saved this');
      expect(h.sim.itemInfo(location)?.versions).toBe(2);
      expect(h.sim.stats.preconditionFailures - failures).toBe(1);
      expect(writesTo(path, mark)).toBe(1);
      expect(h.sim.openUploadSessions()).toBe(0);

      // What the pipeline does next: read again (the teammate's version, a new eTag), patch, write: it goes through.
      const again = downloaded(await dest.fetchCurrent(await fetchContext()));
      expect(again?.version).not.toBe(current?.version);
      expect(await noteOf(await readFile(again?.path ?? ''))).toBe('the teammate saved this');
      await dest.deliver(await finished(await workbook('patched over their save')), {
        ...h.context(),
        ifMatch: again?.version,
      });
      expect(await noteOf(await h.sim.readFile(location))).toBe('patched over their save');
      expect(h.sim.itemInfo(location)?.versions).toBe(3);
    },
  );

  it.each(paths)(
    'creates only if still absent (%s): a file that appeared meanwhile → DESTINATION_CHANGED, that file untouched',
    async (label, threshold) => {
      const path = `Update/Created ${label}.xlsx`;
      const location = `ops@contoso.com/${path}`;
      const dest = h.destination({ path, mode: 'update', uploadSessionThresholdBytes: threshold });
      expect(await dest.fetchCurrent(await fetchContext())).toBeUndefined();
      h.sim.faults.teammateSavesBeforeNextUpload(path, await workbook('a teammate created it first'));
      const error = await dest
        .deliver(await finished(await workbook('the export')), { ...h.context(), ifAbsent: true })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'DESTINATION_CHANGED' });
      expect((error as Error).message).toContain('a file appeared there before the write');
      expect(await noteOf(await h.sim.readFile(location))).toBe('a teammate created it first');
      expect(h.sim.itemInfo(location)?.versions).toBe(1);
      expect(h.sim.openUploadSessions()).toBe(0);

      const fresh = `Update/Fresh ${label}.xlsx`;
      const created = await h
        .destination({ path: fresh, mode: 'update', uploadSessionThresholdBytes: threshold })
        .deliver(await finished(await workbook('first delivery')), { ...h.context(), ifAbsent: true });
      expect(created.location).toBe(`ops@contoso.com/${fresh}`);
      expect(await noteOf(await h.sim.readFile(created.location))).toBe('first delivery');
    },
  );

  it('skips an unchanged delivery in update mode although teammates changed the size; replace mode does not', async () => {
    const path = 'Update/Skip.xlsx';
    const ours = await finished(await workbook('the export'), 'hash-1');
    const first = await h.destination({ path }).deliver(ours, h.context());
    // A teammate's save: same item, another size.
    await h.destination({ path }).deliver(await finished(await workbook('the export, with notes', 3)), h.context());
    const previous = {
      location: first.location,
      itemId: first.itemId,
      eTag: first.eTag,
      bytes: ours.bytes,
      dataHash: 'hash-1',
      deliveredAt: undefined,
    };
    const again = await finished(await workbook('the export'), 'hash-1');
    const update = await h
      .destination({ path, mode: 'update', skipUnchanged: true })
      .deliver(again, { ...h.context(), previous });
    expect(update.unchanged).toBe(true);
    expect(h.sim.itemInfo(first.location)?.versions).toBe(2);
    const replace = await h
      .destination({ path, mode: 'replace', skipUnchanged: true })
      .deliver(again, { ...h.context(), previous });
    expect(replace.unchanged).toBeUndefined();
    expect(h.sim.itemInfo(first.location)?.versions).toBe(3);
  });

  it('streams a large workbook to disk: memory does not grow with its size', async () => {
    const size = 160 * MiB;
    const source = join(h.dir, 'large.bin');
    // Written in slices, so building the fixture does not hold 160 MiB either.
    await writeFile(source, Buffer.alloc(0));
    for (let written = 0; written < size; written += 16 * MiB) await appendFile(source, randomBytes(16 * MiB));
    await h
      .destination({ path: 'Update/Large.xlsx', chunkBytes: 32 * 327_680 })
      .deliver({ path: source, bytes: size, suggestedName: 'Large.xlsx' }, h.context());
    const expected = await sha256Of(source);

    const ctx = await fetchContext(512 * MiB);
    const used = (): number => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const baseline = used();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, used())), 2);
    let current;
    try {
      current = downloaded(await h.destination({ path: 'Update/Large.xlsx', mode: 'update' }).fetchCurrent(ctx));
    } finally {
      clearInterval(sampler);
    }
    expect(current?.bytes).toBe(size);
    expect(await sha256Of(current?.path ?? '')).toBe(expected);
    // Buffering the file would add 160 MiB; streaming keeps to socket and file buffers (generous bound).
    expect(peak - baseline).toBeLessThan(48 * MiB);
  }, 180_000);
});

/** The downloaded copy: these tests pass no data hash, so the answer is never "unchanged". */
function downloaded(found: CurrentFile | UnchangedFile | undefined): CurrentFile | undefined {
  if (found !== undefined && 'unchanged' in found) throw new Error('fetchCurrent answered unchanged');
  return found;
}
