/**
 * Benchmark worker `floor`: what no writer can beat — csv-parse of the CSV with no output, then deflate (level 6)
 * of the sheet XML `ours` produced. Their sum is the floor's wall time. Afterwards (not part of the floor, nor of
 * its peak RSS), for comparison: the project's own CSV parser over the same file, and deflate at the zip level
 * `ours` was configured with.
 *
 * `bench-floor --csv FILE --sheet-xml FILE --zip-level N` prints one JSON line (see WorkerResult).
 */
import { createReadStream } from 'node:fs';
import { createDeflateRaw } from 'node:zlib';
import { parse } from 'csv-parse';
import { openCsvTable } from '../src/sources/csv/read-csv.js';
import {
  cpuSecondsSince,
  maxRssMiB,
  requiredArg,
  runWorkerMain,
  secondsSince,
  type WorkerResult,
} from './bench-types.js';

const USAGE = 'bench-floor --csv FILE --sheet-xml FILE --zip-level N';
const FLOOR_ZIP_LEVEL = 6;

async function measureFloor(): Promise<WorkerResult> {
  const csv = requiredArg('csv', USAGE);
  const sheetXml = requiredArg('sheet-xml', USAGE);
  const oursZipLevel = Number(requiredArg('zip-level', USAGE));
  const start = performance.now();
  // The reader's former csv-parse options.
  for await (const _record of createReadStream(csv, { highWaterMark: 256 * 1024 }).pipe(
    parse({ bom: true, skip_empty_lines: true }),
  )) {
    // parse only
  }
  const csvParseSeconds = secondsSince(start);
  const deflateStart = performance.now();
  const deflated = await deflateFile(sheetXml, FLOOR_ZIP_LEVEL);
  const deflateSeconds = secondsSince(deflateStart);
  const wallSeconds = secondsSince(start);
  const rss = maxRssMiB();

  const strictCpu = process.cpuUsage();
  const oursStart = performance.now();
  const table = await openCsvTable(csv, { provenance: {}, removeOnDispose: false });
  for await (const _row of table.rows()) {
    // parse only
  }
  const ourParseSeconds = secondsSince(oursStart);
  const oursLevelStart = performance.now();
  await deflateFile(sheetXml, oursZipLevel);
  const deflateAtOursLevelSeconds = secondsSince(oursLevelStart);
  const strictFloorCpuSeconds = cpuSecondsSince(strictCpu);
  return {
    writer: 'floor',
    wallSeconds,
    maxRssMiB: rss,
    fileBytes: deflated,
    components: {
      csvParseSeconds,
      deflateSeconds,
      ourParseSeconds,
      deflateAtOursLevelSeconds,
      strictFloorCpuSeconds,
      oursZipLevel,
    },
  };
}

/** Deflates a file with no output; returns the compressed size. */
async function deflateFile(path: string, level: number): Promise<number> {
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }).pipe(createDeflateRaw({ level }))) {
    bytes += (chunk as Buffer).length;
  }
  return bytes;
}

runWorkerMain(measureFloor);
