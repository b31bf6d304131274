/**
 * One read per view (writeViewOnce) against the two passes it replaces (prepareView, then writePreparedView): when
 * the typing of the first rows holds, both write the same workbook, entry by entry; when a later row changes it,
 * the one-pass write says which column and where, and writes nothing it would pass off as the view.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSZip from 'jszip';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RawTable } from '../contracts/ports.js';
import { viewSchema } from '../config/schema.js';
import { SourceError } from '../shared/errors.js';
import { generatePipeline } from '../simulators/demo-data/pipeline-generator.js';
import { openCsvTable } from '../sources/csv/read-csv.js';
import { createWorkbookWriter } from '../workbook/workbook-writer.js';
import { createStageTimer } from './stage-timer.js';
import {
  GUESS_ROWS,
  prepareView,
  writePreparedView,
  writeViewOnce,
  type ViewSheetInput,
  type WriteViewOptions,
} from './view-sheet.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'view-sheet-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const NOW = new Date('2026-12-01T06:00:00Z');

/** A table in memory, counting the rows read from it. */
function table(header: string[], rows: string[][]): RawTable & { rowsRead: number } {
  const raw = {
    rowsRead: 0,
    header,
    rows: async function* () {
      for (const row of rows) {
        raw.rowsRead += 1;
        yield row;
      }
    },
    provenance: { source: 'memory' },
    warnings: [],
    bytes: 0,
    dispose: async () => undefined,
  };
  return raw;
}

function input(raw: RawTable, view: Record<string, unknown> = {}): ViewSheetInput {
  return {
    view: viewSchema.parse({ file: 'data.csv', sheet: 'Data', ...view }),
    sheetName: 'Data',
    raw,
    metrics: undefined,
    previousColumns: undefined,
    signal: new AbortController().signal,
    timer: createStageTimer(),
  };
}

function options(writer: WriteViewOptions['writer']): WriteViewOptions {
  return { writer, collectDeals: true, update: false };
}

/** Every entry of an .xlsx, as bytes by name. */
async function entries(path: string): Promise<Map<string, Buffer>> {
  const zip = await JSZip.loadAsync(await readFile(path));
  const out = new Map<string, Buffer>();
  for (const [name, entry] of Object.entries(zip.files)) {
    if (!entry.dir) out.set(name, await entry.async('nodebuffer'));
  }
  return out;
}

/** The view written in one read and in two passes, each into its own workbook. */
async function writeBothWays(header: string[], rows: string[][]) {
  const once = createWorkbookWriter({ filePath: join(dir, 'once.xlsx'), now: NOW });
  const raw = table(header, rows);
  const result = await writeViewOnce(input(raw), options(once));
  const rowsRead = raw.rowsRead;
  if (result.written) await once.commit();
  else await once.abort();
  const twice = createWorkbookWriter({ filePath: join(dir, 'twice.xlsx'), now: NOW });
  const prepared = await prepareView(input(table(header, rows)));
  const outcome = await writePreparedView(prepared, options(twice));
  await twice.commit();
  return { result, rowsRead, prepared, outcome };
}

async function expectSameWorkbooks(): Promise<void> {
  const once = await entries(join(dir, 'once.xlsx'));
  const twice = await entries(join(dir, 'twice.xlsx'));
  expect([...once.keys()]).toEqual([...twice.keys()]);
  for (const [name, bytes] of twice) expect(once.get(name)?.equals(bytes), name).toBe(true);
}

/** `count` rows of an id and one column given by `value(i)` (0-based row index). */
function oneColumn(count: number, value: (i: number) => string): string[][] {
  return Array.from({ length: count }, (_, i) => [`ID-${i + 1}`, value(i)]);
}

describe('writeViewOnce', () => {
  it('reads a long view once (its first rows twice) and writes what two passes write, when its first rows type it right', async () => {
    const { header, rows } = generatePipeline({ seed: 11, count: 25_000, asOf: new Date(Date.UTC(2026, 10, 27)) });
    const { result, rowsRead, prepared, outcome } = await writeBothWays(header, rows);
    expect(result.written).toBe(true);
    expect(rowsRead).toBe(25_000 + GUESS_ROWS);
    if (!result.written) return;
    // Typed, counted and hashed as pass 1 does, over every row.
    expect(result.prepared.columns).toEqual(prepared.columns);
    expect(result.prepared.columns.map((c) => c.type)).toContain('currency');
    expect(result.prepared.columns.map((c) => c.type)).toContain('date');
    expect(result.prepared.rowCount).toBe(25_000);
    expect(result.prepared.hashPart).toBe(prepared.hashPart);
    expect(result.outcome.sheet).toEqual(outcome.sheet);
    expect(result.outcome.warnings).toEqual(outcome.warnings);
    await expectSameWorkbooks();
  });

  it('types a view no longer than the first rows exactly, as two passes do', async () => {
    const rows = oneColumn(300, (i) => (i === 299 ? 'n/a' : String(i)));
    const { result, rowsRead } = await writeBothWays(['ID', 'Score'], rows);
    expect(result.written).toBe(true);
    expect(rowsRead).toBe(600);
    if (result.written) expect(result.prepared.columns[1]?.type).toBe('text');
    await expectSameWorkbooks();
  });

  it('holds when later values change the column state but not its type or format (cents, then more decimals)', async () => {
    const rows = oneColumn(GUESS_ROWS + 9_000, (i) => (i < GUESS_ROWS + 5_000 ? `$${i}.50` : `$${i}.125`));
    const { result } = await writeBothWays(['ID', 'Price'], rows);
    expect(result.written).toBe(true);
    await expectSameWorkbooks();
  });

  it('holds when a format is first seen deep inside the first rows (typed again only by row 6,001)', async () => {
    const rows = oneColumn(GUESS_ROWS + 9_000, (i) => (i === 6_000 ? '1.5' : String(i)));
    const { result } = await writeBothWays(['ID', 'Value'], rows);
    expect(result.written).toBe(true);
    if (result.written) expect(result.prepared.columns[1]).toMatchObject({ type: 'number', numFmt: '#,##0.0' });
    await expectSameWorkbooks();
  });

  it.each([
    ['a column blank in the first rows, numbers later', (i: number) => (i < GUESS_ROWS + 2_000 ? '' : String(i))],
    ['numbers, then a text', (i: number) => (i === GUESS_ROWS + 2_000 ? 'unknown' : String(i))],
    ['one decimal, then two (another format)', (i: number) => (i < GUESS_ROWS + 2_000 ? `${i}.5` : `${i}.25`)],
    ['dates, then a date with a time', (i: number) => (i < GUESS_ROWS + 2_000 ? '11/27/2026' : '11/27/2026 9:30 AM')],
  ])('stops at the next check when a later row changes the typing: %s', async (_, value) => {
    const rows = oneColumn(GUESS_ROWS + 20_000, value);
    const { result } = await writeBothWays(['ID', 'Value'], rows);
    // Row 12,001 changes it; the checks come every 4,096 rows.
    expect(result).toEqual({ written: false, column: 'Value', row: 12_288 });
  });

  it('sees a change in the last rows, after the last check, once the rows end', async () => {
    const rows = oneColumn(GUESS_ROWS + 100, (i) => (i === GUESS_ROWS + 99 ? 'unknown' : String(i)));
    const { result } = await writeBothWays(['ID', 'Value'], rows);
    expect(result).toEqual({ written: false, column: 'Value', row: GUESS_ROWS + 100 });
  });

  it('finds an unfiltered view after writing it, under onEmpty: fail', async () => {
    const rows = Array.from({ length: GUESS_ROWS + 10 }, (_, i) => [`ID-${i}`, i % 2 === 0 ? 'EMEA' : 'NA']);
    const writer = createWorkbookWriter({ filePath: join(dir, 'once.xlsx'), now: NOW });
    const view = input(table(['ID', 'Region'], rows), { filters: { Region: 'EMEA' }, onEmpty: 'fail' });
    const failure = await writeViewOnce(view, options(writer)).catch((err: unknown) => err);
    await writer.abort();
    expect(failure).toBeInstanceOf(SourceError);
    expect((failure as SourceError).code).toBe('VIEW_UNFILTERED');
  });

  it('from a CSV file: hashes its bytes and reports its invalid UTF-8 as pass 1 does, once the read ended', async () => {
    const path = join(dir, 'late-latin1.csv');
    const lines = ['ID,Owner,Amount', ...Array.from({ length: GUESS_ROWS + 3_000 }, (_, i) => `ID-${i},Ana,${i}`)];
    // A Latin-1 "é" (0xE9) on line 12,001: invalid UTF-8, past the first rows.
    const bytes = Buffer.concat([
      Buffer.from(lines.slice(0, 12_000).join('\n') + '\nID-x,Ren', 'utf8'),
      Buffer.from([0xe9]),
      Buffer.from(',1\n' + lines.slice(12_000).join('\n') + '\n', 'utf8'),
    ]);
    await writeFile(path, bytes);
    const open = () => openCsvTable(path, { provenance: {}, removeOnDispose: false, label: 'late-latin1.csv' });
    const writer = createWorkbookWriter({ filePath: join(dir, 'once.xlsx'), now: NOW });
    const result = await writeViewOnce(input(await open()), options(writer));
    await writer.commit();
    const prepared = await prepareView(input(await open()));
    expect(result.written).toBe(true);
    if (!result.written) return;
    expect(result.prepared.hashPart).toBe(prepared.hashPart);
    expect(result.prepared.rowCount).toBe(GUESS_ROWS + 3_001);
    const invalid = prepared.warnings.find((w) => w.includes('invalid UTF-8'));
    expect(invalid).toContain('the first on line 12001');
    expect(result.outcome.warnings).toContain(invalid);
  });
});
