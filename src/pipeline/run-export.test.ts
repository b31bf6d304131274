/**
 * runExport against in-memory fakes of its ports (Source, Destination, RunStore): the orchestration alone, without
 * Tableau, Graph or SQLite. The workbook it delivers is read back with exceljs.
 */
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryContext, Destination, FinishedFile, RawTable, Source, ViewRequest } from '../contracts/ports.js';
import type { RunReport } from '../contracts/run-report.js';
import type { RunQuery, RunStore } from '../contracts/run-store.js';
import { exportSchema, type ExportConfig } from '../config/schema.js';
import { DestinationError } from '../shared/errors.js';
import { createLogger, createSilentLogger } from '../shared/logger.js';
import { createRedactor } from '../shared/redact.js';
import { skipWhenUnchanged } from '../destinations/skip-unchanged.js';
import { openCsvTable } from '../sources/csv/read-csv.js';
import { generatePipeline } from '../simulators/demo-data/pipeline-generator.js';
import { runExport, type PipelineDeps } from './run-export.js';

const HEADER = ['Opportunity ID', 'Stage', 'Amount', 'Created Date'];
const ROWS = [
  ['OPP-1', 'Proposal', '$1,200', '11/02/2026'],
  ['OPP-2', 'Closed Won', '$3,400', '10/15/2026'],
  ['OPP-3', 'Qualification', '$560', '11/20/2026'],
];

interface FakeSource extends Source {
  readonly requests: ViewRequest[];
  closed: number;
}

function fakeSource(tables: Record<string, { header: string[]; rows: string[][] }>, fail?: string): FakeSource {
  const source: FakeSource = {
    requests: [],
    closed: 0,
    async open() {
      return {
        async fetchView(view): Promise<RawTable> {
          source.requests.push(view);
          const name = view.view ?? '';
          if (name === fail) throw new Error(`view ${name} exploded`);
          const table = tables[name];
          if (table === undefined) throw new Error(`no view ${name}`);
          return {
            header: table.header,
            rows: async function* () {
              yield* table.rows;
            },
            provenance: { source: 'fake' },
            warnings: [],
            bytes: 0,
            dispose: async () => undefined,
          };
        },
        async close() {
          source.closed += 1;
        },
      };
    },
  };
  return source;
}

interface FakeDestination extends Destination {
  readonly delivered: { file: FinishedFile; copy: string; ctx: DeliveryContext }[];
}

function fakeDestination(dir: string): FakeDestination {
  const delivered: FakeDestination['delivered'] = [];
  return {
    delivered,
    describe: () => 'fake destination',
    async deliver(file, ctx) {
      const copy = join(dir, `delivered-${delivered.length + 1}.xlsx`);
      await copyFile(file.path, copy);
      delivered.push({ file, copy, ctx });
      return { location: copy, itemId: `item-${delivered.length}`, warnings: [] };
    },
  };
}

function memoryStore(): RunStore & { events: string[] } {
  const runs = new Map<string, RunReport>();
  const events: string[] = [];
  return {
    events,
    async insertRun(run) {
      events.push(`insert ${run.runId} ${run.status ?? 'running'}`);
      runs.set(run.runId, {
        runId: run.runId,
        exportId: run.exportId,
        trigger: run.trigger,
        status: run.status ?? 'running',
        startedAt: run.startedAt,
        finishedAt: undefined,
        durationMs: undefined,
        sheets: [],
        rows: 0,
        bytes: 0,
        destination: undefined,
        warnings: [],
        error: undefined,
        timings: {},
        dataHash: undefined,
      });
    },
    async finishRun(report) {
      events.push(`finish ${report.runId} ${report.status}`);
      runs.set(report.runId, report);
    },
    async getRun(runId) {
      return runs.get(runId);
    },
    async listRuns(query: RunQuery) {
      return [...runs.values()].filter((r) => query.exportId === undefined || r.exportId === query.exportId).reverse();
    },
    async lastSuccess(exportId) {
      return [...runs.values()]
        .reverse()
        .find((r) => r.exportId === exportId && (r.status === 'succeeded' || r.status === 'unchanged'));
    },
    async markInterrupted() {
      return 0;
    },
    async close() {},
  };
}

function exportConfig(extra: Record<string, unknown> = {}): ExportConfig {
  return exportSchema.parse({
    id: 'pipeline',
    views: [
      { workbook: 'Sales', view: 'Opportunities' },
      { workbook: 'Sales', view: 'By Stage', sheet: 'Stages' },
    ],
    destination: { type: 'local', dir: '/unused' },
    ...extra,
  });
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-export-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function deps(
  source: Source,
  destination: Destination,
  store: RunStore | undefined,
  extra: Partial<PipelineDeps> = {},
) {
  const base: PipelineDeps = {
    sourceFor: () => source,
    destination,
    logger: createSilentLogger(),
    clock: { now: () => new Date('2026-12-01T06:00:00Z') },
    redactor: createRedactor(),
    tempDir: join(dir, 'tmp'),
    store,
    toolVersion: '9.9.9',
  };
  return { ...base, ...extra };
}

const tables = {
  Opportunities: { header: HEADER, rows: ROWS },
  'By Stage': {
    header: ['Stage', 'Deals'],
    rows: [
      ['Proposal', '1'],
      ['Closed Won', '1'],
    ],
  },
};

describe('runExport', () => {
  it('fetches every view into its sheet, delivers one workbook, records the run and signs out', async () => {
    const source = fakeSource(tables);
    const destination = fakeDestination(dir);
    const store = memoryStore();
    const started: string[] = [];
    const report = await runExport(
      { exportConfig: exportConfig(), timezone: 'Europe/Paris', runId: 'run-1', trigger: { kind: 'cli' } },
      deps(source, destination, store, { onStart: (id) => started.push(`${id} after ${store.events.join(',')}`) }),
    );

    expect(report.status).toBe('succeeded');
    expect(report.error).toBeUndefined();
    expect(report.sheets.map((s) => [s.sheet, s.rows])).toEqual([
      ['Opportunities', 3],
      ['Stages', 2],
    ]);
    expect(report.rows).toBe(5);
    expect(report.startedAt).toBe('2026-12-01T07:00:00.000+01:00');
    expect(report.destination?.location).toBe(destination.delivered[0]?.copy);
    expect(report.destination?.deliveredAt).toBe('2026-12-01T07:00:00.000+01:00');
    expect(report.dataHash).toMatch(/^[0-9a-f]{64}$/);
    expect(destination.delivered).toHaveLength(1);
    expect(destination.delivered[0]?.file.dataHash).toBe(report.dataHash);
    expect(store.events).toEqual(['insert run-1 running', 'finish run-1 succeeded']);
    expect(started).toEqual(['run-1 after insert run-1 running']);
    expect(source.requests.map((r) => r.view)).toEqual(['Opportunities', 'By Stage']);
    expect(source.closed).toBe(1);
    // The temp folder of the run is gone.
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);

    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(destination.delivered[0]?.copy ?? '');
    expect(book.worksheets.map((w) => w.name)).toEqual(['Opportunities', 'Stages', 'About']);
    const sheet = book.getWorksheet('Opportunities');
    expect(sheet?.getRow(1).values).toEqual([undefined, ...HEADER]);
    expect(sheet?.getCell('C3').value).toBe(3400);
    expect(sheet?.getCell('D2').value).toEqual(new Date(Date.UTC(2026, 10, 2)));
  });

  it('says why there are no metric sheets when metrics.from names none of the sheets (as a dashboard can)', async () => {
    const destination = fakeDestination(dir);
    const report = await runExport(
      {
        exportConfig: exportConfig({ metrics: { from: 'Pipeline Overview' } }),
        timezone: 'UTC',
        runId: 'run-from',
        trigger: { kind: 'cli' },
      },
      deps(fakeSource(tables), destination, memoryStore()),
    );
    expect(report.status).toBe('succeeded');
    expect(report.warnings).toContain(
      'metrics.from "Pipeline Overview" is none of this run\'s sheets ("Opportunities", "Stages"); no metric sheets were written: set metrics.from to one of them',
    );
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(destination.delivered[0]?.copy ?? '');
    expect(book.worksheets.map((w) => w.name)).toEqual(['Opportunities', 'Stages', 'About']);
  });

  it('says unchanged, with since when, when the destination still holds the same data', async () => {
    const store = memoryStore();
    const inner = fakeDestination(dir);
    const destination = skipWhenUnchanged(
      inner,
      async (previous) => previous.location === inner.delivered[0]?.copy,
      true,
    );
    const job = (runId: string) => ({
      exportConfig: exportConfig(),
      timezone: 'Europe/Paris',
      runId,
      trigger: { kind: 'cli' } as const,
    });
    const first = await runExport(job('run-1'), deps(fakeSource(tables), destination, store));
    const second = await runExport(
      job('run-2'),
      deps(fakeSource(tables), destination, store, { clock: { now: () => new Date('2026-12-02T06:00:00Z') } }),
    );

    expect(first.status).toBe('succeeded');
    expect(second.status).toBe('unchanged');
    expect(inner.delivered).toHaveLength(1);
    expect(second.bytes).toBe(first.bytes);
    expect(second.destination?.location).toBe(first.destination?.location);
    expect(second.destination?.deliveredAt).toBe(first.destination?.deliveredAt);
    expect(second.note).toBe(
      'data unchanged since Tue, 1 Dec 2026, 07:00 CET; the file was not re-uploaded (teammates still have the version of Tue, 1 Dec 2026, 07:00 CET)',
    );

    // Other data: delivered again.
    const changed = { ...tables, Opportunities: { header: HEADER, rows: ROWS.slice(1) } };
    const third = await runExport(job('run-3'), deps(fakeSource(changed), destination, store));
    expect(third.status).toBe('succeeded');
    expect(inner.delivered).toHaveLength(2);
    expect(third.dataHash).not.toBe(first.dataHash);
  });

  it('with views read from files, the data hash follows their bytes: same files unchanged, one cell changed delivered', async () => {
    const files: Record<string, string> = {};
    const writeView = async (name: string, header: string[], rows: string[][]): Promise<void> => {
      files[name] = join(dir, `${name}.csv`);
      await writeFile(files[name], [header, ...rows].map((r) => r.map((f) => `"${f}"`).join(',')).join('\r\n'));
    };
    const fileSource: Source = {
      async open() {
        return {
          fetchView: (view) =>
            openCsvTable(files[view.view ?? ''] ?? '', { provenance: { source: 'file' }, removeOnDispose: false }),
          async close() {},
        };
      },
    };
    await writeView('Opportunities', HEADER, ROWS);
    await writeView('By Stage', ['Stage', 'Deals'], [['Proposal', '1']]);
    const store = memoryStore();
    const inner = fakeDestination(dir);
    const destination = skipWhenUnchanged(inner, async () => true, true);
    const job = (runId: string) => ({
      exportConfig: exportConfig(),
      timezone: 'UTC',
      runId,
      trigger: { kind: 'cli' } as const,
    });
    const first = await runExport(job('run-1'), deps(fileSource, destination, store));
    const second = await runExport(job('run-2'), deps(fileSource, destination, store));
    await writeView('Opportunities', HEADER, [...ROWS.slice(0, 2), ['OPP-3', 'Qualification', '$561', '11/20/2026']]);
    const third = await runExport(job('run-3'), deps(fileSource, destination, store));

    expect([first.status, second.status, third.status]).toEqual(['succeeded', 'unchanged', 'succeeded']);
    expect(second.dataHash).toBe(first.dataHash);
    expect(third.dataHash).not.toBe(first.dataHash);
    expect(inner.delivered).toHaveLength(2);
  });

  it('reports a column gone since the last success as a warning and an alert', async () => {
    const store = memoryStore();
    const destination = fakeDestination(dir);
    await runExport(
      { exportConfig: exportConfig(), timezone: 'UTC', runId: 'run-1', trigger: { kind: 'cli' } },
      deps(fakeSource(tables), destination, store),
    );
    const narrower = {
      ...tables,
      Opportunities: { header: HEADER.slice(0, 3), rows: ROWS.map((r) => r.slice(0, 3)) },
    };
    const report = await runExport(
      { exportConfig: exportConfig(), timezone: 'UTC', runId: 'run-2', trigger: { kind: 'cli' } },
      deps(fakeSource(narrower), destination, store),
    );
    expect(report.status).toBe('succeeded');
    const message =
      'Opportunities: schema change — column "Created Date" no longer in the view since the last successful run';
    expect(report.alerts).toEqual([message]);
    expect(report.warnings).toContain(message);
  });

  it('fails cleanly when a view fails: nothing delivered, the run recorded as failed, signed out, temp removed', async () => {
    const source = fakeSource(tables, 'By Stage');
    const destination = fakeDestination(dir);
    const store = memoryStore();
    const report = await runExport(
      { exportConfig: exportConfig(), timezone: 'UTC', runId: 'run-1', trigger: { kind: 'cli' } },
      deps(source, destination, store),
    );
    expect(report.status).toBe('failed');
    expect(report.error).toEqual({ code: 'INTERNAL', message: 'view By Stage exploded' });
    expect(report.bytes).toBe(0);
    expect(report.destination).toBeUndefined();
    // Every view is fetched before any is written: nothing was written.
    expect(report.sheets).toEqual([]);
    expect(destination.delivered).toEqual([]);
    expect(store.events).toEqual(['insert run-1 running', 'finish run-1 failed']);
    expect(source.closed).toBe(1);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('fails an empty view under onEmpty: fail, and only warns by default', async () => {
    const empty = { ...tables, 'By Stage': { header: ['Stage', 'Deals'], rows: [] } };
    const strict = exportConfig({
      views: [
        { workbook: 'Sales', view: 'Opportunities' },
        { workbook: 'Sales', view: 'By Stage', onEmpty: 'fail' },
      ],
    });
    const failed = await runExport(
      { exportConfig: strict, timezone: 'UTC', runId: 'run-1', trigger: { kind: 'cli' } },
      deps(fakeSource(empty), fakeDestination(dir), undefined),
    );
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('VIEW_EMPTY');

    const warned = await runExport(
      { exportConfig: exportConfig(), timezone: 'UTC', runId: 'run-2', trigger: { kind: 'cli' } },
      deps(fakeSource(empty), fakeDestination(dir), undefined),
    );
    expect(warned.status).toBe('succeeded');
    expect(warned.warnings).toContain('Stages: view "Stages" returned no rows');
  });

  it('records an aborted run as INTERRUPTED and delivers nothing', async () => {
    const controller = new AbortController();
    controller.abort(new Error('shutdown'));
    const destination = fakeDestination(dir);
    const report = await runExport(
      { exportConfig: exportConfig(), timezone: 'UTC', runId: 'run-1', trigger: { kind: 'cli' } },
      deps(fakeSource(tables), destination, memoryStore(), { signal: controller.signal }),
    );
    expect(report.status).toBe('failed');
    expect(report.error?.code).toBe('INTERRUPTED');
    expect(destination.delivered).toEqual([]);
  });

  it('returns a failed report without running when the run history cannot record it', async () => {
    const store = memoryStore();
    const broken: RunStore = {
      ...store,
      insertRun: async () => {
        throw new Error('database is locked');
      },
    };
    const source = fakeSource(tables);
    const report = await runExport(
      { exportConfig: exportConfig(), timezone: 'UTC', runId: 'run-1', trigger: { kind: 'cli' } },
      deps(source, fakeDestination(dir), broken),
    );
    expect(report.status).toBe('failed');
    expect(report.error).toEqual({
      code: 'RUN_STORE_UNAVAILABLE',
      message: 'the run history is unavailable: database is locked',
    });
    expect(source.requests).toEqual([]);
  });

  it('builds the workbook on a dry run but does not deliver it', async () => {
    const destination = fakeDestination(dir);
    const report = await runExport(
      { exportConfig: exportConfig(), timezone: 'UTC', runId: 'run-1', trigger: { kind: 'cli' }, dryRun: true },
      deps(fakeSource(tables), destination, undefined),
    );
    expect(report.status).toBe('succeeded');
    expect(report.bytes).toBeGreaterThan(0);
    expect(report.destination?.location).toBe('(dry run) fake destination');
    expect(destination.delivered).toEqual([]);
  });
});

describe('runExport: one read per view', () => {
  // A view longer than the rows its typing is guessed from, whose "Discount" column is blank until row 12,001: the
  // first rows type it as text, the whole column as percent.
  const LONG = 12_500;
  const forecastRows = (discountFrom: number): string[][] =>
    Array.from({ length: LONG }, (_, i) => [`F-${i + 1}`, String(1000 + i), i + 1 >= discountFrom ? '5%' : '']);
  const generated = generatePipeline({ seed: 5, count: LONG, asOf: new Date(Date.UTC(2026, 10, 27)) });
  const twoViews = (discountFrom: number, opportunities: { header: string[]; rows: string[][] }) => ({
    Opportunities: opportunities,
    Forecast: { header: ['Forecast ID', 'Units', 'Discount'], rows: forecastRows(discountFrom) },
  });
  let runs = 0;
  const config = exportConfig({
    views: [
      { workbook: 'Sales', view: 'Opportunities' },
      { workbook: 'Sales', view: 'Forecast' },
    ],
    metrics: { from: 'Opportunities', asOf: '2026-11-27' },
  });

  async function run(discountFrom: number, store: RunStore, logger = createSilentLogger(), opportunities = generated) {
    const destination = fakeDestination(dir);
    const report = await runExport(
      { exportConfig: config, timezone: 'UTC', runId: `run-${runs++}`, trigger: { kind: 'cli' } },
      deps(fakeSource(twoViews(discountFrom, opportunities)), destination, store, { logger }),
    );
    return { report, file: destination.delivered[0]?.copy ?? '' };
  }

  /** The XML of every sheet of a delivered workbook, by sheet name. */
  async function sheetXml(file: string): Promise<Map<string, string>> {
    const zip = await JSZip.loadAsync(await readFile(file));
    const workbook = (await zip.file('xl/workbook.xml')?.async('string')) ?? '';
    const rels = (await zip.file('xl/_rels/workbook.xml.rels')?.async('string')) ?? '';
    const out = new Map<string, string>();
    for (const [tag] of workbook.matchAll(/<sheet [^>]*>/g)) {
      const name = /name="([^"]+)"/.exec(tag)?.[1] ?? '';
      const rid = /r:id="([^"]+)"/.exec(tag)?.[1] ?? '';
      const target = new RegExp(`<Relationship [^>]*Id="${rid}"[^>]*>`).exec(rels)?.[0] ?? '';
      const path = /Target="([^"]+)"/.exec(target)?.[1] ?? '';
      out.set(name, (await zip.file(`xl/${path.replace(/^\/?xl\//, '')}`)?.async('string')) ?? '');
    }
    return out;
  }

  it('writes the export again in two passes when a later row changes a typing: cells from the whole column, metrics and alerts once', async () => {
    const store = memoryStore();
    // A previous success whose Opportunities had one more column: this run has a schema-change alert to say once.
    const wider = {
      header: [...generated.header, 'Legacy Score'],
      rows: generated.rows.slice(0, 3).map((r) => [...r, '1']),
    };
    expect((await run(1, store, createSilentLogger(), wider)).report.status).toBe('succeeded');
    const logged: string[] = [];
    const logger = createLogger({
      redactor: createRedactor(),
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          logged.push(String((JSON.parse(chunk.toString()) as { msg?: unknown }).msg));
          done();
        },
      }),
    });
    const late = await run(12_001, store, logger);
    expect(late.report.status, JSON.stringify(late.report.error)).toBe('succeeded');
    expect(logged.join('\n')).toContain(
      'the typing of the first 10,000 rows of "Forecast" did not hold (column "Discount" changed by row 12,288); typing every view before writing',
    );
    expect((late.report.alerts ?? []).filter((a) => a.includes('schema change'))).toHaveLength(1);
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(late.file);
    const forecast = book.getWorksheet('Forecast');
    expect(forecast?.getCell('C2').value).toBeNull();
    expect(forecast?.getCell(`C${12_001 + 1}`).value).toBe(0.05);
    expect(forecast?.getCell(`C${LONG + 1}`).value).toBe(0.05);
    expect(forecast?.getCell(`C${LONG + 1}`).numFmt).toBe('0%');
    expect(forecast?.rowCount).toBe(LONG + 1);

    // The same Opportunities with a Forecast typed right from its first row: one read per view, and the same
    // Opportunities and metric sheets, so the deals were counted once in the two-pass write.
    const early = await run(1, memoryStore());
    // The deals went into the metrics once (read twice, they would repeat their ids: a warning).
    expect(late.report.warnings.filter((w) => !w.includes('schema change'))).toEqual(early.report.warnings);
    expect(early.report.status).toBe('succeeded');
    const lateSheets = await sheetXml(late.file);
    const earlySheets = await sheetXml(early.file);
    const compared = [...earlySheets.keys()].filter((n) => n !== 'Forecast' && n !== 'About');
    expect(compared).toEqual(expect.arrayContaining(['Opportunities', 'Summary', 'Funnel', 'By owner']));
    for (const name of compared) {
      expect(earlySheets.get(name)?.length, name).toBeGreaterThan(500);
      expect(lateSheets.get(name), name).toBe(earlySheets.get(name));
    }
    expect(late.report.dataHash).not.toBe(early.report.dataHash);
  });
});

describe('runExport in update mode', () => {
  /** A destination holding one file with a version, like OneDrive's eTag: writes only If-Match. */
  function versionedDestination(initial: string | undefined, beforeWrite?: (file: { path: string }) => Promise<void>) {
    let stored = initial;
    let version = 1;
    let saves = 0;
    const destination: Destination & { current(): string | undefined; saves(): number } = {
      describe: () => 'team file',
      current: () => stored,
      saves: () => saves,
      async fetchCurrent(ctx) {
        if (stored === undefined) return undefined;
        const copy = join(ctx.tempDir, `download-${version}.xlsx`);
        await copyFile(stored, copy);
        return { path: copy, bytes: 1, version: `v${version}`, location: 'Team.xlsx' };
      },
      async deliver(file, ctx) {
        if (beforeWrite !== undefined) {
          const hook = beforeWrite;
          beforeWrite = undefined;
          await hook({ path: stored ?? '' });
          version += 1;
        }
        if (ctx.ifMatch !== undefined && ctx.ifMatch !== `v${version}`) {
          throw new DestinationError('DESTINATION_CHANGED', 'a teammate saved Team.xlsx');
        }
        const target = join(dir, `team-v${version + 1}.xlsx`);
        await copyFile(file.path, target);
        stored = target;
        version += 1;
        saves += 1;
        return { location: 'Team.xlsx', warnings: [] };
      },
    };
    return destination;
  }

  const updateConfig = (): ExportConfig =>
    exportConfig({
      views: [{ workbook: 'Sales', view: 'Opportunities', key: 'Opportunity ID' }],
      destination: { type: 'local', dir: '/unused', mode: 'update' },
    });

  it('creates the workbook when there is none, then refreshes it keeping a teammate note by its key', async () => {
    const destination = versionedDestination(undefined);
    const job = (runId: string) => ({
      exportConfig: updateConfig(),
      timezone: 'UTC',
      runId,
      trigger: { kind: 'cli' } as const,
    });
    const first = await runExport(job('run-1'), deps(fakeSource(tables), destination, memoryStore()));
    expect(first.status, first.error?.message).toBe('succeeded');
    expect(first.update).toEqual({ created: true, conflicts: 0, tables: [] });

    // A teammate adds a "Next step" column to the table, with a note on OPP-2 (edited at the XML level, as a
    // spreadsheet program would save it: the header cell, the note, the table's ref and columns).
    const zip = await JSZip.loadAsync(await readFile(destination.current() ?? ''));
    let sheetPart = '';
    let sheetXml = '';
    for (const name of Object.keys(zip.files).filter((n) => n.startsWith('xl/worksheets/sheet'))) {
      const xml = (await zip.file(name)?.async('string')) ?? '';
      if (xml.includes('OPP-2')) [sheetPart, sheetXml] = [name, xml];
    }
    const withNote = sheetXml
      .replace(/(<row r="1"[^>]*>.*?)(<\/row>)/, '$1<c r="E1" t="inlineStr"><is><t>Next step</t></is></c>$2')
      .replace(/(<row r="3"[^>]*>.*?)(<\/row>)/, '$1<c r="E3" t="inlineStr"><is><t>send contract</t></is></c>$2');
    zip.file(sheetPart, withNote);
    const tablePart = Object.keys(zip.files).find((n) => /^xl\/tables\/table\d+\.xml$/.test(n)) ?? '';
    const tableXml = (await zip.file(tablePart)?.async('string')) ?? '';
    zip.file(
      tablePart,
      tableXml
        .replace(/ref="A1:D4"/g, 'ref="A1:E4"')
        .replace(
          /<tableColumns count="4">(.*)<\/tableColumns>/,
          '<tableColumns count="5">$1<tableColumn id="5" name="Next step"/></tableColumns>',
        ),
    );
    const edited = join(dir, 'edited.xlsx');
    await writeFile(edited, await zip.generateAsync({ type: 'nodebuffer' }));
    const teamDestination = versionedDestination(edited);

    const reordered = { ...tables, Opportunities: { header: HEADER, rows: [ROWS[2]!, ROWS[1]!, ROWS[0]!] } };
    const second = await runExport(job('run-2'), deps(fakeSource(reordered), teamDestination, memoryStore()));
    expect(second.status, second.error?.message).toBe('succeeded');
    expect(second.update?.tables[0]?.teammateColumns).toEqual(['Next step']);
    const after = new ExcelJS.Workbook();
    await after.xlsx.readFile(teamDestination.current() ?? '');
    const rows = after.getWorksheet('Opportunities');
    expect([2, 3, 4].map((r) => [rows?.getCell(r, 1).value, rows?.getCell(r, 5).value ?? null])).toEqual([
      ['OPP-3', null],
      ['OPP-2', 'send contract'],
      ['OPP-1', null],
    ]);
  });

  it('patches again when a teammate saved between the download and the upload, keeping their save', async () => {
    const start = versionedDestination(undefined);
    await runExport(
      { exportConfig: updateConfig(), timezone: 'UTC', runId: 'run-0', trigger: { kind: 'cli' } },
      deps(fakeSource(tables), start, memoryStore()),
    );
    const base = start.current() ?? '';
    // The teammate's save: a sheet of their own, written while our upload was on its way.
    const destination = versionedDestination(base, async ({ path }) => {
      const book = new ExcelJS.Workbook();
      await book.xlsx.readFile(path);
      book.addWorksheet('Teammate').getCell('A1').value = 'saved meanwhile';
      await book.xlsx.writeFile(path);
    });
    const report = await runExport(
      { exportConfig: updateConfig(), timezone: 'UTC', runId: 'run-1', trigger: { kind: 'cli' } },
      deps(fakeSource(tables), destination, memoryStore()),
    );
    expect(report.status, report.error?.message).toBe('succeeded');
    expect(report.update?.conflicts).toBe(1);
    expect(destination.saves()).toBe(1);
    const after = new ExcelJS.Workbook();
    await after.xlsx.readFile(destination.current() ?? '');
    expect(after.getWorksheet('Teammate')?.getCell('A1').value).toBe('saved meanwhile');
    expect(after.getWorksheet('Opportunities')?.getCell('A2').value).toBe('OPP-1');
  });

  it('refuses an unknown key column before touching the file', async () => {
    const destination = versionedDestination(undefined);
    const config = exportConfig({
      views: [{ workbook: 'Sales', view: 'Opportunities', key: 'Deal Number' }],
      destination: { type: 'local', dir: '/unused', mode: 'update' },
    });
    const report = await runExport(
      { exportConfig: config, timezone: 'UTC', runId: 'run-1', trigger: { kind: 'cli' } },
      deps(fakeSource(tables), destination, memoryStore()),
    );
    expect(report.status).toBe('failed');
    expect(report.error?.code).toBe('WORKBOOK_UPDATE_KEY_MISSING');
    expect(report.error?.message).toMatch(/"Deal Number".*views\[0\]\.key/);
    expect(destination.saves()).toBe(0);
  });
});
