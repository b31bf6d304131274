import { createHash } from 'node:crypto';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as csvParseSync } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError } from '../../shared/errors.js';
import type { RawTable } from '../../contracts/ports.js';
import { openCsvTable } from './read-csv.js';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/csv/', import.meta.url));
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'read-csv-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(table: RawTable): Promise<(readonly string[])[]> {
  const rows: (readonly string[])[] = [];
  for await (const row of table.rows()) rows.push(row);
  return rows;
}

let fileCounter = 0;
async function csvFile(content: string | Buffer): Promise<string> {
  fileCounter += 1;
  const path = join(dir, `f${fileCounter}.csv`);
  await writeFile(path, content);
  return path;
}

async function errorOf(promise: Promise<unknown>): Promise<SourceError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SourceError) return err;
    throw err;
  }
  throw new Error('expected a SourceError');
}

describe('openCsvTable', () => {
  it('reads a BOM, CRLF, quoted commas, doubled quotes, newlines in quotes and UTF-8', async () => {
    const table = await openCsvTable(join(fixtures, 'bom-crlf-quoted.csv'), {
      provenance: { source: 'test' },
      removeOnDispose: false,
    });
    expect(table.header).toEqual(['Name', 'Amount', 'Note']);
    expect(await readAll(table)).toEqual([
      ['Smith, Jones & Co', '$45,047', 'He said "hi"'],
      ['Société Générale', '$711.83', 'line one\r\nline two'],
      ['東京', '($1,234)', ''],
    ]);
    expect(table.provenance).toEqual({ source: 'test' });
  });

  it.each([
    ['LF', 'a,b\n1,2\n3,4\n'],
    ['CRLF without a final newline', 'a,b\r\n1,2\r\n3,4'],
    ['a trailing blank line', 'a,b\r\n1,2\r\n3,4\r\n\r\n'],
  ])('reads %s', async (_name, content) => {
    const table = await openCsvTable(await csvFile(content), { provenance: {}, removeOnDispose: false });
    expect(table.header).toEqual(['a', 'b']);
    expect(await readAll(table)).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
  });

  it('decodes UTF-8 even for multi-byte characters split across read chunks', async () => {
    const name = 'é東'.repeat(200_000);
    const table = await openCsvTable(await csvFile(`x\r\n${name}\r\n`), { provenance: {}, removeOnDispose: false });
    expect(await readAll(table)).toEqual([[name]]);
  });

  it('re-reads from the start on every rows() call, and an early break releases the file', async () => {
    const table = await openCsvTable(await csvFile('a\r\n1\r\n2\r\n3\r\n'), { provenance: {}, removeOnDispose: false });
    for await (const row of table.rows()) {
      expect(row).toEqual(['1']);
      break;
    }
    expect(await readAll(table)).toEqual([['1'], ['2'], ['3']]);
    expect(await readAll(table)).toEqual([['1'], ['2'], ['3']]);
  });

  it("digests the file's bytes during the first complete pass, not before and not from a pass broken off", async () => {
    // Many read chunks (256 KiB each), a header and a BOM: the digest covers every byte of the file.
    const content = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(`id,note\r\n${Array.from({ length: 40_000 }, (_, i) => `${i},"note ${i}, é"`).join('\r\n')}\r\n`),
    ]);
    const table = await openCsvTable(await csvFile(content), { provenance: {}, removeOnDispose: false });
    expect(table.contentDigest?.()).toBeUndefined();
    for await (const row of table.rows()) {
      expect(row[0]).toBe('0');
      break;
    }
    expect(table.contentDigest?.()).toBeUndefined();
    expect(await readAll(table)).toHaveLength(40_000);
    const expected = createHash('sha256').update(content).digest('hex');
    expect(table.contentDigest?.()).toBe(expected);
    await readAll(table);
    expect(table.contentDigest?.()).toBe(expected);
  });

  it('reports bytes from the option or the file size, and passes warnings through', async () => {
    const path = await csvFile('a\r\n1\r\n');
    expect((await openCsvTable(path, { provenance: {}, removeOnDispose: false })).bytes).toBe(6);
    const table = await openCsvTable(path, { provenance: {}, removeOnDispose: false, bytes: 99, warnings: ['w'] });
    expect(table.bytes).toBe(99);
    expect(table.warnings).toEqual(['w']);
  });

  it('a header-only file is a table with no rows', async () => {
    const table = await openCsvTable(await csvFile('a,b\r\n'), { provenance: {}, removeOnDispose: false });
    expect(table.header).toEqual(['a', 'b']);
    expect(await readAll(table)).toEqual([]);
  });

  it('dispose removes the file only when asked, and is idempotent', async () => {
    const kept = await csvFile('a\r\n1\r\n');
    await (await openCsvTable(kept, { provenance: {}, removeOnDispose: false })).dispose();
    await expect(access(kept)).resolves.toBeUndefined();

    const spooled = await csvFile('a\r\n1\r\n');
    const table = await openCsvTable(spooled, { provenance: {}, removeOnDispose: true });
    await table.dispose();
    await table.dispose();
    await expect(access(spooled)).rejects.toThrow();
  });

  it.each([
    ['an empty file', ''],
    ['a BOM only', '\ufeff'],
    ['blank lines only', '\r\n\r\n'],
  ])('rejects %s with CSV_EMPTY', async (_name, content) => {
    const err = await errorOf(
      openCsvTable(await csvFile(content), { provenance: {}, removeOnDispose: false, label: 'data/opps.csv' }),
    );
    expect(err.code).toBe('CSV_EMPTY');
    expect(err.message).toContain('"data/opps.csv" is empty');
  });

  it('rejects a missing file with CSV_NOT_FOUND', async () => {
    const err = await errorOf(openCsvTable(join(dir, 'nope.csv'), { provenance: {}, removeOnDispose: false }));
    expect(err.code).toBe('CSV_NOT_FOUND');
    expect(err.message).toContain('nope.csv');
  });

  it.each([
    [
      'a ragged row after a multi-line field',
      'ragged.csv',
      '"data/ragged.csv" line 6: row has 2 fields, the header has 3',
    ],
    [
      'text after a closing quote',
      'bad-quote.csv',
      '"data/ragged.csv" line 3: unexpected character after a closing double quote',
    ],
  ])('rejects %s with CSV_MALFORMED naming the line', async (_name, file, message) => {
    const table = await openCsvTable(join(fixtures, file), {
      provenance: {},
      removeOnDispose: false,
      label: 'data/ragged.csv',
    });
    const err = await errorOf(readAll(table));
    expect(err.code).toBe('CSV_MALFORMED');
    expect(err.message).toBe(message);
    expect(err.hint).toContain('double quotes');
  });

  it.each([
    ['a row with too many fields', 'a,b\r\n1,2\r\n1,2,3\r\n', 'line 3: row has 3 fields, the header has 2'],
    ['a quote inside an unquoted field', 'a,b\r\n1,x"y"\r\n', 'line 2: a double quote inside an unquoted field'],
    ['an unclosed quote', 'a,b\r\n1,"open\r\n2,3\r\n', 'a quoted field is never closed'],
  ])('rejects %s', async (_name, content, message) => {
    const path = await csvFile(content);
    const table = await openCsvTable(path, { provenance: {}, removeOnDispose: false });
    const err = await errorOf(readAll(table));
    expect(err.code).toBe('CSV_MALFORMED');
    expect(err.message).toContain(`"${path}"`);
    expect(err.message).toContain(message);
  });

  it('names the line where a never-closed quoted field opens', async () => {
    const table = await openCsvTable(await csvFile('a,b\r\n1,2\r\n3,"open\r\n4,5\r\n'), {
      provenance: {},
      removeOnDispose: false,
      label: 'x.csv',
    });
    const err = await errorOf(readAll(table));
    expect(err.message).toBe(
      '"x.csv" line 3: a quoted field is never closed (it opens on this line and the file ends inside the double quotes)',
    );
    expect(err.details).toMatchObject({ line: 3 });
  });

  it('reads a file of many read chunks exactly as csv-parse does (fields straddling every kind of boundary)', async () => {
    const pieces = ['plain', 'Société', '東京', '😀', 'a, b', 'say "hi"', 'l1\r\nl2', '$1,234', ''];
    const lines = ['id,text,more'];
    for (let i = 0; i < 40_000; i += 1) {
      const text = `${pieces[i % pieces.length] ?? ''}${'x'.repeat(i % 37)}${pieces[(i * 7) % pieces.length] ?? ''}`;
      lines.push(`${i},"${text.replaceAll('"', '""')}",${i % 5 === 0 ? '' : 'é'.repeat(i % 11)}`);
    }
    const content = `\ufeff${lines.join('\r\n')}\r\n`;
    expect(Buffer.byteLength(content)).toBeGreaterThan(1024 * 1024);
    const path = await csvFile(content);
    const expected = csvParseSync(Buffer.from(content), { bom: true, skip_empty_lines: true }) as string[][];
    const table = await openCsvTable(path, { provenance: {}, removeOnDispose: false });
    expect(table.header).toEqual(expected[0]);
    expect(await readAll(table)).toEqual(expected.slice(1));
  });

  it('rejects a malformed header when opening', async () => {
    const err = await errorOf(openCsvTable(await csvFile('a,"b\r\n'), { provenance: {}, removeOnDispose: false }));
    expect(err.code).toBe('CSV_MALFORMED');
  });

  it('reads the recorded Tableau CSV (UTF-8, no BOM, CRLF, quoted display numbers)', async () => {
    const table = await openCsvTable(join(fixtures, 'populate_csv.csv'), { provenance: {}, removeOnDispose: false });
    expect(table.header).toEqual([
      'Measure Names',
      'Region',
      'Profit Ratio',
      'Sales per Customer',
      'Distinct count of Customer Name',
      'Measure Values',
      'Profit',
      'Quantity',
      'Sales',
    ]);
    const rows = await readAll(table);
    expect(rows).toHaveLength(24);
    expect(rows[1]).toEqual([
      'Sales',
      'South',
      '14.4%',
      '$711.83',
      '438',
      '311,783.644',
      '$45,047',
      '5,004',
      '$311,784',
    ]);
  });
});

describe('openCsvTable: encodings', () => {
  it("reads Tableau's UTF-16LE tab-separated crosstab into its columns", async () => {
    const text = 'Region\tSales, Total\r\nEMEA\t"1,234"\r\nAPAC\t東京\r\n';
    const path = await csvFile(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const table = await openCsvTable(path, { provenance: {}, removeOnDispose: false });
    expect(table.header).toEqual(['Region', 'Sales, Total']);
    expect(await readAll(table)).toEqual([
      ['EMEA', '1,234'],
      ['APAC', '東京'],
    ]);
    expect(table.warnings).toEqual([]);
  });

  it('warns once, after the first full pass, where the bytes that are not UTF-8 are', async () => {
    const path = await csvFile(
      Buffer.concat([Buffer.from('name,city\nA,Paris\nB,'), Buffer.from([0xe9]), Buffer.from('vry\nC,Lyon\n')]),
    );
    const table = await openCsvTable(path, {
      provenance: {},
      removeOnDispose: false,
      label: 'data/opps.csv',
      warnings: ['w'],
    });
    expect(table.warnings).toEqual(['w']);
    expect((await readAll(table))[1]).toEqual(['B', '\uFFFDvry']);
    const warning =
      '"data/opps.csv" has 1 invalid UTF-8 byte sequence (the first on line 3, at byte 20), written as "\uFFFD"; ' +
      "save the file as UTF-8, or as UTF-16 with its byte-order mark (Tableau's crosstab export)";
    expect(table.warnings).toEqual(['w', warning]);
    await readAll(table);
    expect(table.warnings).toEqual(['w', warning]);
  });

  it('says nothing about a valid file that holds U+FFFD itself', async () => {
    const table = await openCsvTable(await csvFile('a\n\uFFFD\n'), { provenance: {}, removeOnDispose: false });
    expect(await readAll(table)).toEqual([['\uFFFD']]);
    expect(table.warnings).toEqual([]);
  });
});
