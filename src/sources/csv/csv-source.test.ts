import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SourceError } from '../../shared/errors.js';
import { createSilentLogger } from '../../shared/logger.js';
import type { FetchContext, ViewRequest } from '../../contracts/ports.js';
import { createCsvSource } from './csv-source.js';

const fixturesDir = fileURLToPath(new URL('../../../test/fixtures', import.meta.url));
const logger = createSilentLogger();
const ctx: FetchContext = { logger, signal: new AbortController().signal, tempDir: fixturesDir };

function view(file: string | undefined): ViewRequest {
  return { file, filters: {}, parameters: {}, maxAgeMinutes: 1 };
}

describe('createCsvSource', () => {
  it('reads view.file relative to baseDir and records provenance', async () => {
    const session = await createCsvSource({ baseDir: fixturesDir }).open({ logger, signal: ctx.signal });
    const table = await session.fetchView(view('csv/populate_csv.csv'), ctx);
    expect(table.header[0]).toBe('Measure Names');
    expect(table.provenance).toEqual({ source: 'csv file', file: `${fixturesDir}/csv/populate_csv.csv` });
    expect(table.bytes).toBeGreaterThan(0);
    let rows = 0;
    for await (const _row of table.rows()) rows += 1;
    expect(rows).toBe(24);
    await table.dispose();
    await session.close();
    // A user's own file is never removed by dispose().
    expect((await session.fetchView(view('csv/populate_csv.csv'), ctx)).header).toHaveLength(9);
  });

  it.each([
    ['a missing file', 'csv/missing.csv', 'CSV file "csv/missing.csv" not found'],
    ['a view without a file', undefined, 'has no file'],
  ])('rejects %s with CSV_NOT_FOUND', async (_name, file, message) => {
    const session = await createCsvSource({ baseDir: fixturesDir }).open({ logger, signal: ctx.signal });
    const err = await session.fetchView(view(file), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).code).toBe('CSV_NOT_FOUND');
    expect((err as SourceError).message).toContain(message);
    expect((err as SourceError).hint).toBeDefined();
  });
});
