/**
 * archiver checksums our zip entries with Node's native CRC-32 (see `exceljs-internals.ts`): the checksums must be
 * the ones zip readers expect. Checked against a table-driven CRC-32 written here from the definition (polynomial
 * 0xEDB88320, reflected, initial and final XOR 0xFFFFFFFF) and against Python's zipfile, which verifies every
 * entry's CRC when it reads it.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ColumnSpec, TypedRow } from '../shared/table.js';
import { archiverCrc32 } from './exceljs-internals.js';
import { createWorkbookWriter } from './workbook-writer.js';

const TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function referenceCrc32(data: Uint8Array, previous = 0): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (const byte of data) c = (TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zip-checksums-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("archiver's CRC-32", () => {
  it('gives the reference checksum, chunk by chunk, from the seeds crc32-stream passes', () => {
    const chunks = [randomBytes(0), randomBytes(1), randomBytes(65_536), randomBytes(131_071)];
    // crc32-stream's first seed is a 4-byte zero Buffer, then the previous checksum as an unsigned number.
    let ours: number = archiverCrc32.buf(chunks[0] as Buffer, Buffer.alloc(4)) >>> 0;
    let reference = referenceCrc32(chunks[0] as Buffer);
    for (const chunk of chunks.slice(1)) {
      ours = archiverCrc32.buf(chunk, ours) >>> 0;
      reference = referenceCrc32(chunk, reference);
      expect(ours).toBe(reference);
    }
    // crc-32's contract: a signed 32-bit result.
    expect(archiverCrc32.buf(Buffer.from('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339 | 0);
  });

  it('writes a workbook whose every entry passes a CRC-checking zip reader', async () => {
    const filePath = join(dir, 'checked.xlsx');
    const columns: ColumnSpec[] = [
      { name: 'ID', type: 'text', numFmt: undefined },
      { name: 'Amount', type: 'number', numFmt: '#,##0.00' },
      { name: 'Note', type: 'text', numFmt: undefined },
    ];
    async function* rows(): AsyncIterable<TypedRow> {
      // About 3 MiB of sheet XML: many chunks through the checksum.
      for (let i = 0; i < 30_000; i += 1) yield [`ID-${i}`, i * 1.5, `note ${i} é ✓ ${'x'.repeat(i % 40)}`];
    }
    const writer = createWorkbookWriter({ filePath });
    await writer.addDataSheet({ name: 'Data', columns, rows: rows() });
    await writer.commit();
    const checked = execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(len(z.namelist()), z.testzip(), len(z.read("xl/worksheets/sheet1.xml")) > 3000000)',
        filePath,
      ],
      { encoding: 'utf8' },
    );
    expect(checked.trim()).toMatch(/^\d+ None True$/);
  });
});
