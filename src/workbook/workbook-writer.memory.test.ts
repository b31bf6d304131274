import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ColumnSpec, TypedRow } from '../shared/table.js';
import { createWorkbookWriter } from './workbook-writer.js';

// Pins the backpressure that exceljs 4.4.0 lacks (see exceljs-internals.ts): without it the uncompressed sheet XML
// of these 300k rows (≈ 170 MiB) piles up in archiver's PassThrough. With it, RSS stays flat. Its own file, so
// its process holds nothing else.

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'workbook-memory-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const columns: ColumnSpec[] = Array.from({ length: 15 }, (_, i) => ({
  name: `Column ${i + 1}`,
  type: i % 3 === 0 ? 'text' : 'number',
  numFmt: i % 3 === 0 ? undefined : '#,##0.00',
}));

async function* rows(count: number): AsyncIterable<TypedRow> {
  for (let i = 0; i < count; i += 1) {
    yield columns.map((c, j) => (c.type === 'text' ? `row ${i} text value ${j} with some length` : i * 1.25 + j));
  }
}

const MiB = 2 ** 20;

it('keeps memory flat while streaming 300k rows', async () => {
  // Warm up: load modules and let the first allocations settle before the baseline.
  const warm = createWorkbookWriter({ filePath: join(dir, 'warm.xlsx') });
  await warm.addDataSheet({ name: 'Warm', columns, rows: rows(5_000) });
  await warm.commit();
  const baseline = process.memoryUsage().rss;

  let peak = baseline;
  const writer = createWorkbookWriter({ filePath: join(dir, 'big.xlsx') });
  const result = await writer.addDataSheet({
    name: 'Big',
    columns,
    rows: rows(300_000),
    onProgress: () => {
      peak = Math.max(peak, process.memoryUsage().rss);
    },
  });
  await writer.commit();
  expect(result.rows).toBe(300_000);
  expect((peak - baseline) / MiB).toBeLessThan(100);
}, 180_000);
