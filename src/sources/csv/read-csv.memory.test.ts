import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  generatePipelineRows,
  PIPELINE_HEADER,
  writeTableauCsvFile,
} from '../../simulators/demo-data/pipeline-generator.js';
import { openCsvTable } from './read-csv.js';

// Pins that rows() streams: 300k rows (≈ 48 MB of CSV, ≈ 200 MiB as JS strings and arrays) read twice, as the
// pipeline does, must not hold the rows or the file. Its own file, so its process holds nothing else.

const MiB = 2 ** 20;
const ROWS = 300_000;
let dir: string;
let path: string;
let utf16Path: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'read-csv-memory-'));
  path = join(dir, 'opportunities.csv');
  await writeTableauCsvFile(
    path,
    PIPELINE_HEADER,
    generatePipelineRows({ seed: 7, count: ROWS, asOf: new Date(Date.UTC(2026, 10, 27)) }),
  );
  // The same rows as Tableau's crosstab download: UTF-16LE with a BOM, tab-separated.
  utf16Path = join(dir, 'crosstab.csv');
  const out = createWriteStream(utf16Path);
  out.write(Buffer.from([0xff, 0xfe]));
  for (const row of [
    PIPELINE_HEADER,
    ...generatePipelineRows({ seed: 7, count: ROWS, asOf: new Date(Date.UTC(2026, 10, 27)) }),
  ])
    if (!out.write(Buffer.from(`${row.map(tsvField).join('\t')}\r\n`, 'utf16le'))) await once(out, 'drain');
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
});
/** A field of a tab-separated file, quoted when it holds a quote, a tab or a line break. */
const tsvField = (v: string): string => (/["\t\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it.each([
  ['UTF-8, comma-separated', () => path],
  ["UTF-16LE, tab-separated (Tableau's crosstab)", () => utf16Path],
])('keeps memory flat while reading 300k rows twice: %s', async (_what, file) => {
  const table = await openCsvTable(file(), { provenance: {}, removeOnDispose: false });
  // Warm up: let the parser's code and the first allocations settle before the baseline.
  for await (const _row of table.rows()) break;
  const baseline = process.memoryUsage().rss;

  let peak = baseline;
  let count = 0;
  let lastId = '';
  for (let pass = 0; pass < 2; pass += 1) {
    for await (const row of table.rows()) {
      count += 1;
      lastId = row[0] ?? '';
      if (count % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
  }
  expect(count).toBe(2 * ROWS);
  expect(lastId).toBe(`OPP-${String(ROWS).padStart(6, '0')}`);
  // Measured ≈ 3 MiB. Generous, yet below what holding the rows (≈ 580 MiB) or only the decoded text (≈ 96 MiB)
  // would cost.
  expect((peak - baseline) / MiB).toBeLessThan(48);
});
