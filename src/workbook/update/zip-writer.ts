/**
 * Writes a ZIP archive entry by entry, each with its sizes and CRC-32 known before its local header is written:
 * copied entries keep their compressed bytes as stored; new ones are deflated from memory or were deflated to a
 * temp file while they were produced (see {@link createDeflatedSpool}). ZIP64 records are written when an entry, an
 * offset or the entry count needs them.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { crc32, deflateRawSync, createDeflateRaw } from 'node:zlib';
import { PRIVATE_FILE_MODE } from '../../shared/private-files.js';
import type { ZipEntry, ZipReader } from './zip-reader.js';
import { createUtf8Batch } from '../utf8-batch.js';

const UINT32_MAX = 0xffffffff;
const SPOOL_BATCH_BYTES = 128 * 1024;
/** Uncompressed bytes allowed to wait for deflate before the rows stop (a batch alone is above zlib's 16 KiB mark). */
const SPOOL_MAX_BUFFERED_BYTES = 1024 * 1024;
const UINT16_MAX = 0xffff;

interface CentralRecord {
  readonly name: Buffer;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly dosTime: number;
  readonly dosDate: number;
  readonly offset: number;
}

export interface ZipWriter {
  /** Copies `entry` of `from` as its stored bytes (no inflate, no deflate). */
  copyEntry(from: ZipReader, entry: ZipEntry, name?: string): Promise<void>;
  /** Adds a part from memory, deflated at `level`. */
  addBuffer(name: string, data: Buffer | string): Promise<void>;
  /** Adds a part deflated earlier by a {@link DeflatedSpool}. */
  addSpool(name: string, spool: FinishedSpool): Promise<void>;
  /** Writes the central directory and closes the file; resolves with the archive size in bytes. */
  finish(): Promise<number>;
  /** Closes the file without finishing it (the caller removes it). */
  destroy(): void;
}

/** A part deflated to a temp file, with what its local header needs. */
export interface FinishedSpool {
  readonly path: string;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
}

/** A writable sink for one part: text goes in, deflated bytes go to a temp file, CRC and sizes are counted. */
export interface DeflatedSpool {
  /** Writes text; resolves once the deflater can take more (backpressure). */
  write(text: string): Promise<void>;
  finish(): Promise<FinishedSpool>;
  destroy(): void;
}

/** Starts deflating a part into `path` at `level` (0-9). */
export function createDeflatedSpool(path: string, level: number): DeflatedSpool {
  const file = createWriteStream(path, { mode: PRIVATE_FILE_MODE });
  // Output room for a whole batch, so one deflate job (one turn of the event loop) takes it.
  const deflate = createDeflateRaw({ level, chunkSize: SPOOL_BATCH_BYTES + 16 * 1024 });
  deflate.pipe(file);
  let crc = 0;
  let uncompressed = 0;
  let failure: Error | undefined;
  const fail = (err: Error): void => {
    failure ??= err;
  };
  // A function, so TypeScript does not narrow `failure` across the awaits after which it may be set.
  const check = (): void => {
    if (failure !== undefined) throw failure;
  };
  deflate.on('error', fail);
  file.on('error', fail);
  // Rows arrive a few hundred bytes at a time; zlib costs a thread-pool round trip per write, so text is batched,
  // encoded piece by piece into one Buffer (see utf8-batch.ts).
  const batch = createUtf8Batch(SPOOL_BATCH_BYTES);
  const send = async (bytes: Buffer): Promise<void> => {
    crc = crc32(bytes, crc);
    uncompressed += bytes.length;
    deflate.write(bytes);
    // Waiting for 'drain' after every batch made rendering and deflate take turns; instead the rows go on while
    // deflate works on the thread pool, with one turn of the event loop per batch so its callback can hand zlib the
    // next one (as in row-sink.ts), and stop only past SPOOL_MAX_BUFFERED_BYTES.
    if (deflate.writableLength > SPOOL_MAX_BUFFERED_BYTES) await once(deflate, 'drain');
    else await nextTurn();
  };
  const flush = async (): Promise<void> => {
    const bytes = batch.take();
    if (bytes !== undefined) await send(bytes);
  };
  return {
    async write(text) {
      check();
      const ready = batch.add(text);
      if (ready !== undefined) for (const bytes of ready) await send(bytes);
    },
    async finish() {
      check();
      await flush();
      deflate.end();
      await once(file, 'close');
      check();
      const { size } = await stat(path);
      return { path, crc32: crc, compressedSize: size, uncompressedSize: uncompressed };
    },
    destroy() {
      deflate.destroy();
      file.destroy();
    },
  };
}

/** Opens `path` for a new archive; parts are deflated at `level`. */
export function createZipWriter(path: string, level: number): ZipWriter {
  const out: WriteStream = createWriteStream(path, { mode: PRIVATE_FILE_MODE });
  let failure: Error | undefined;
  out.on('error', (err) => {
    failure ??= err;
  });
  let offset = 0;
  const records: CentralRecord[] = [];
  const now = dosDateTime(new Date());

  const check = (): void => {
    if (failure !== undefined) throw failure;
  };
  const write = async (chunk: Buffer): Promise<void> => {
    check();
    offset += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  };
  const pipeIn = async (source: Readable): Promise<void> => {
    for await (const chunk of source) await write(chunk as Buffer);
  };
  const header = async (record: Omit<CentralRecord, 'offset' | 'name'> & { name: string }): Promise<void> => {
    const name = Buffer.from(record.name, 'utf8');
    records.push({ ...record, name, offset });
    await write(localHeader({ ...record, name, offset }));
  };

  return {
    async copyEntry(from, entry, name = entry.name) {
      await header({ ...entry, name, crc32: entry.crc32 });
      await pipeIn(await from.openRawStream(entry));
    },
    async addBuffer(name, data) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      const compressed = deflateRawSync(bytes, { level });
      await header({
        name,
        method: 8,
        crc32: crc32(bytes),
        compressedSize: compressed.length,
        uncompressedSize: bytes.length,
        dosTime: now.time,
        dosDate: now.date,
      });
      await write(compressed);
    },
    async addSpool(name, spool) {
      await header({
        name,
        method: 8,
        crc32: spool.crc32,
        compressedSize: spool.compressedSize,
        uncompressedSize: spool.uncompressedSize,
        dosTime: now.time,
        dosDate: now.date,
      });
      await pipeIn(createReadStream(spool.path, { highWaterMark: 256 * 1024 }));
    },
    async finish() {
      const cdStart = offset;
      for (const r of records) await write(centralHeader(r));
      const cdSize = offset - cdStart;
      const zip64 = records.length >= UINT16_MAX || cdStart >= UINT32_MAX || cdSize >= UINT32_MAX;
      if (zip64) await write(zip64End(records.length, cdSize, cdStart, offset));
      await write(endOfCentralDirectory(records.length, cdSize, cdStart, zip64));
      out.end();
      await once(out, 'close');
      check();
      return offset;
    },
    destroy() {
      out.destroy();
    },
  };
}

function needsZip64(r: Pick<CentralRecord, 'compressedSize' | 'uncompressedSize'>): boolean {
  return r.compressedSize >= UINT32_MAX || r.uncompressedSize >= UINT32_MAX;
}

/** Local file header; ZIP64 sizes go into extra field 0x0001 with both sizes. */
function localHeader(r: CentralRecord): Buffer {
  const zip64 = needsZip64(r);
  const extra = zip64 ? zip64Extra([r.uncompressedSize, r.compressedSize]) : Buffer.alloc(0);
  const b = Buffer.alloc(30);
  b.writeUInt32LE(0x04034b50, 0);
  b.writeUInt16LE(zip64 ? 45 : 20, 4);
  b.writeUInt16LE(0x0800, 6); // UTF-8 names, no data descriptor
  b.writeUInt16LE(r.method, 8);
  b.writeUInt16LE(r.dosTime, 10);
  b.writeUInt16LE(r.dosDate, 12);
  b.writeUInt32LE(r.crc32 >>> 0, 14);
  b.writeUInt32LE(zip64 ? UINT32_MAX : r.compressedSize, 18);
  b.writeUInt32LE(zip64 ? UINT32_MAX : r.uncompressedSize, 22);
  b.writeUInt16LE(r.name.length, 26);
  b.writeUInt16LE(extra.length, 28);
  return Buffer.concat([b, r.name, extra]);
}

function centralHeader(r: CentralRecord): Buffer {
  const bigSizes = needsZip64(r);
  const bigOffset = r.offset >= UINT32_MAX;
  const values = [...(bigSizes ? [r.uncompressedSize, r.compressedSize] : []), ...(bigOffset ? [r.offset] : [])];
  const extra = values.length > 0 ? zip64Extra(values) : Buffer.alloc(0);
  const b = Buffer.alloc(46);
  b.writeUInt32LE(0x02014b50, 0);
  b.writeUInt16LE(values.length > 0 ? 45 : 20, 4);
  b.writeUInt16LE(values.length > 0 ? 45 : 20, 6);
  b.writeUInt16LE(0x0800, 8);
  b.writeUInt16LE(r.method, 10);
  b.writeUInt16LE(r.dosTime, 12);
  b.writeUInt16LE(r.dosDate, 14);
  b.writeUInt32LE(r.crc32 >>> 0, 16);
  b.writeUInt32LE(bigSizes ? UINT32_MAX : r.compressedSize, 20);
  b.writeUInt32LE(bigSizes ? UINT32_MAX : r.uncompressedSize, 24);
  b.writeUInt16LE(r.name.length, 28);
  b.writeUInt16LE(extra.length, 30);
  b.writeUInt32LE(bigOffset ? UINT32_MAX : r.offset, 42);
  return Buffer.concat([b, r.name, extra]);
}

function zip64Extra(values: readonly number[]): Buffer {
  const b = Buffer.alloc(4 + values.length * 8);
  b.writeUInt16LE(0x0001, 0);
  b.writeUInt16LE(values.length * 8, 2);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), 4 + i * 8));
  return b;
}

function zip64End(count: number, cdSize: number, cdStart: number, recordOffset: number): Buffer {
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeUInt16LE(45, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(BigInt(count), 24);
  record.writeBigUInt64LE(BigInt(count), 32);
  record.writeBigUInt64LE(BigInt(cdSize), 40);
  record.writeBigUInt64LE(BigInt(cdStart), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(recordOffset), 8);
  locator.writeUInt32LE(1, 16);
  return Buffer.concat([record, locator]);
}

function endOfCentralDirectory(count: number, cdSize: number, cdStart: number, zip64: boolean): Buffer {
  const b = Buffer.alloc(22);
  b.writeUInt32LE(0x06054b50, 0);
  b.writeUInt16LE(zip64 ? UINT16_MAX : count, 8);
  b.writeUInt16LE(zip64 ? UINT16_MAX : count, 10);
  b.writeUInt32LE(zip64 ? UINT32_MAX : cdSize, 12);
  b.writeUInt32LE(zip64 ? UINT32_MAX : cdStart, 16);
  return b;
}

/** MS-DOS date and time fields (local time, 2-second resolution) of `at`. */
function dosDateTime(at: Date): { time: number; date: number } {
  const year = Math.max(1980, at.getFullYear());
  return {
    time: (at.getHours() << 11) | (at.getMinutes() << 5) | Math.floor(at.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((at.getMonth() + 1) << 5) | at.getDate(),
  };
}
