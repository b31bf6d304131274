/**
 * The ZIP layer of update mode: entries copied as their stored bytes come out identical, new ones read back, and an
 * archive past the 65,535-entry limit gets ZIP64 records that another program (Python's zipfile) reads.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSZip from 'jszip';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openZip } from './zip-reader.js';
import { createDeflatedSpool, createZipWriter } from './zip-writer.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zip-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('zip reader and writer', () => {
  it('copies entries as stored, adds new ones from memory and from a spool, and another reader agrees', async () => {
    const source = new JSZip();
    source.file('a.xml', '<a>'.repeat(1000), { compression: 'DEFLATE' });
    source.file('stored.bin', Buffer.from([1, 2, 3, 4]), { compression: 'STORE' });
    source.file('empty.txt', '');
    const sourcePath = join(dir, 'source.zip');
    await writeFile(sourcePath, await source.generateAsync({ type: 'nodebuffer' }));

    const reader = await openZip(sourcePath, 'source.zip');
    expect(reader.entries.map((e) => e.name)).toEqual(['a.xml', 'stored.bin', 'empty.txt']);
    expect(await reader.readText(reader.get('a.xml')!)).toBe('<a>'.repeat(1000));

    const spool = createDeflatedSpool(join(dir, 'part.deflate'), 6);
    for (let i = 0; i < 5000; i++) await spool.write(`<row r="${i}"/>`);
    const finished = await spool.finish();
    const outPath = join(dir, 'out.zip');
    const writer = createZipWriter(outPath, 1);
    for (const entry of reader.entries) await writer.copyEntry(reader, entry);
    await writer.addBuffer('new.xml', '<new/>');
    await writer.addSpool('spooled.xml', finished);
    const size = await writer.finish();
    await reader.close();

    const out = await readFile(outPath);
    expect(out.length).toBe(size);
    const back = await JSZip.loadAsync(out, { checkCRC32: true });
    expect(await back.file('a.xml')?.async('string')).toBe('<a>'.repeat(1000));
    expect([...((await back.file('stored.bin')?.async('uint8array')) ?? [])]).toEqual([1, 2, 3, 4]);
    expect(await back.file('empty.txt')?.async('string')).toBe('');
    expect(await back.file('new.xml')?.async('string')).toBe('<new/>');
    const spooled = (await back.file('spooled.xml')?.async('string')) ?? '';
    expect(spooled.startsWith('<row r="0"/>') && spooled.endsWith('<row r="4999"/>')).toBe(true);

    // The copied entry's compressed bytes are the source's, byte for byte.
    const again = await openZip(outPath, 'out.zip');
    const a = await readFile(sourcePath);
    const b = out;
    for (const name of ['a.xml', 'stored.bin']) {
      const before = (await openZip(sourcePath, 's')).get(name)!;
      const after = again.get(name)!;
      expect(after.crc32).toBe(before.crc32);
      expect(after.compressedSize).toBe(before.compressedSize);
      const ra = (await openZip(sourcePath, 's')).dataOffset(before);
      const rb = again.dataOffset(after);
      const sa = await ra;
      const sb = await rb;
      expect(b.subarray(sb, sb + after.compressedSize).equals(a.subarray(sa, sa + before.compressedSize))).toBe(true);
    }
    await again.close();
  });

  it('writes ZIP64 end records past 65,535 entries, which Python reads back', async () => {
    const outPath = join(dir, 'many.zip');
    const writer = createZipWriter(outPath, 1);
    const count = 65_536 + 3;
    for (let i = 0; i < count; i++) await writer.addBuffer(`e/${i}.txt`, i % 1000 === 0 ? `entry ${i}` : '');
    await writer.finish();
    const reader = await openZip(outPath, 'many.zip');
    expect(reader.entries).toHaveLength(count);
    expect(await reader.readText(reader.get('e/65536.txt')!)).toBe('');
    expect(await reader.readText(reader.get('e/65000.txt')!)).toBe('entry 65000');
    await reader.close();
    const python = execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(len(z.namelist()), z.testzip(), z.read("e/65000.txt").decode())',
        outPath,
      ],
      { encoding: 'utf8' },
    );
    expect(python.trim()).toBe(`${count} None entry 65000`);
  });

  it('says what is wrong with a file that is not a ZIP', async () => {
    const path = join(dir, 'not.zip');
    await writeFile(path, 'just text, long enough to look for an end record in it');
    await expect(openZip(path, 'Reports/Team.xlsx')).rejects.toThrow(
      /'Reports\/Team\.xlsx' is not a readable \.xlsx workbook/,
    );
  });
});
