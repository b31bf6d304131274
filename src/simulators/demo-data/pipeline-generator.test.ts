import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCsvTable } from '../../sources/csv/read-csv.js';
import {
  PIPELINE_HEADER,
  PIPELINE_STAGES,
  generatePipeline,
  generatePipelineRows,
  renderCsvLine,
  toTableauCsv,
  writeTableauCsvFile,
} from './pipeline-generator.js';

const asOf = new Date(Date.UTC(2026, 10, 27));
const asOfDay = Date.UTC(2026, 10, 27);
const data = generatePipeline({ seed: 7, count: 5_000, asOf });
const col = (name: string): number => PIPELINE_HEADER.indexOf(name);

function parseUsDate(text: string): number {
  const [m, d, y] = text.split('/').map(Number);
  return Date.UTC(y ?? NaN, (m ?? NaN) - 1, d ?? NaN);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipeline-gen-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('generatePipeline', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    expect(generatePipeline({ seed: 7, count: 200, asOf })).toEqual(generatePipeline({ seed: 7, count: 200, asOf }));
    expect(generatePipeline({ seed: 8, count: 200, asOf }).rows).not.toEqual(
      generatePipeline({ seed: 7, count: 200, asOf }).rows,
    );
  });

  it('yields the same rows from the streaming generator', () => {
    expect([...generatePipelineRows({ seed: 7, count: 5_000, asOf })]).toEqual(data.rows);
  });

  it('has the contract header and row shape', () => {
    expect(data.header).toEqual([...PIPELINE_HEADER]);
    expect(data.rows).toHaveLength(5_000);
    for (const row of data.rows) expect(row).toHaveLength(PIPELINE_HEADER.length);
    expect(data.rows[0]?.[0]).toBe('OPP-000001');
    expect(data.rows[122]?.[0]).toBe('OPP-000123');
  });

  it('covers every stage with a realistic mix', () => {
    const counts = new Map<string, number>();
    for (const row of data.rows) counts.set(row[col('Stage')] ?? '', (counts.get(row[col('Stage')] ?? '') ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([...PIPELINE_STAGES].sort());
    for (const stage of PIPELINE_STAGES) expect(counts.get(stage)).toBeGreaterThan(100);
    const won = counts.get('Closed Won') ?? 0;
    const lost = counts.get('Closed Lost') ?? 0;
    const winRate = won / (won + lost);
    expect(winRate).toBeGreaterThan(0.3);
    expect(winRate).toBeLessThan(0.55);
    expect(counts.get('Lead Generation')).toBeGreaterThan(counts.get('Proposal') ?? 0);
  });

  it('uses 12 owners in 4 regions, 5 products, both types and several lead sources', () => {
    const distinct = (name: string): Set<string> => new Set(data.rows.map((row) => row[col(name)] ?? ''));
    expect(distinct('Owner').size).toBe(12);
    expect([...distinct('Region')].sort()).toEqual(['APAC', 'EMEA', 'LATAM', 'NA']);
    expect(distinct('Product').size).toBe(5);
    expect([...distinct('Type')].sort()).toEqual(['Existing Customer', 'New Business']);
    expect(distinct('Lead Source').size).toBeGreaterThanOrEqual(5);
    const accounts = distinct('Account');
    for (const tricky of ['Société Générale', 'Smith, Jones & Co', 'The "Best" Widgets'])
      expect(accounts).toContain(tricky);
  });

  it('renders values in Tableau display format, consistent with the stage', () => {
    const probability: Record<string, string> = {
      'Lead Generation': '10%',
      Qualification: '20%',
      Contact: '40%',
      Proposal: '60%',
      Closing: '80%',
      'Closed Won': '100%',
      'Closed Lost': '0%',
    };
    let blanks = 0;
    let stale = 0;
    let openAfterAsOf = 0;
    for (const row of data.rows) {
      const stage = row[col('Stage')] ?? '';
      expect(row[col('Amount')]).toMatch(/^\$\d{1,3}(,\d{3})*$/);
      expect(row[col('Probability')]).toBe(probability[stage]);
      for (const name of ['Created Date', 'Close Date']) expect(row[col(name)]).toMatch(/^\d{1,2}\/\d{1,2}\/\d{4}$/);
      const created = parseUsDate(row[col('Created Date')] ?? '');
      const close = parseUsDate(row[col('Close Date')] ?? '');
      const closed = stage === 'Closed Won' || stage === 'Closed Lost';
      expect(created).toBeLessThanOrEqual(asOfDay);
      expect(asOfDay - created).toBeLessThanOrEqual(540 * 86_400_000);
      expect(close).toBeGreaterThan(created);
      if (closed) expect(close).toBeLessThanOrEqual(asOfDay);
      else if (close > asOfDay) openAfterAsOf += 1;
      expect(row[col('Is Won')]).toBe(stage === 'Closed Won' ? 'True' : 'False');
      expect(row[col('Is Closed')]).toBe(closed ? 'True' : 'False');
      const entered = row[col('Stage Entered Date')] ?? '';
      if (entered === '') {
        blanks += 1;
        continue;
      }
      const enteredDay = parseUsDate(entered);
      expect(enteredDay).toBeGreaterThanOrEqual(created);
      expect(enteredDay).toBeLessThanOrEqual(asOfDay);
      if (!closed && asOfDay - enteredDay > 90 * 86_400_000) stale += 1;
    }
    expect(blanks).toBeGreaterThan(0);
    expect(stale).toBeGreaterThan(20);
    expect(openAfterAsOf).toBeGreaterThan(500);
  });
});

describe('renderCsvLine / toTableauCsv', () => {
  it.each([
    [['a', 'b'], 'a,b'],
    [['$45,047', '14.4%'], '"$45,047",14.4%'],
    [['The "Best" Widgets'], '"The ""Best"" Widgets"'],
    [['two\r\nlines', ''], '"two\r\nlines",'],
    [['Société Générale'], 'Société Générale'],
  ])('renders %j as %j', (fields, line) => {
    expect(renderCsvLine(fields)).toBe(line);
  });

  it('writes CRLF after every line, no BOM', () => {
    expect(toTableauCsv(['A', 'B'], [['1', 'x,y']])).toBe('A,B\r\n1,"x,y"\r\n');
  });
});

describe('writeTableauCsvFile', () => {
  it('streams a file that reads back identically through read-csv (quoting round-trips)', async () => {
    const path = join(dir, 'pipeline.csv');
    await writeTableauCsvFile(path, PIPELINE_HEADER, generatePipelineRows({ seed: 7, count: 5_000, asOf }));
    const bytes = await readFile(path);
    expect(bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
    expect(bytes.toString('utf8')).toBe(toTableauCsv(PIPELINE_HEADER, data.rows));

    const table = await openCsvTable(path, { provenance: {}, removeOnDispose: true });
    expect(table.header).toEqual([...PIPELINE_HEADER]);
    const rows: (readonly string[])[] = [];
    for await (const row of table.rows()) rows.push(row);
    expect(rows).toEqual(data.rows);
    await table.dispose();
  });
});
