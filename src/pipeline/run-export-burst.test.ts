/**
 * runExport of a burst against in-memory fakes: a filtering source (as Tableau applies vf_ filters), one destination
 * per part, and a run store; the orchestration alone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Destination, RawTable, Source, ViewRequest } from '../contracts/ports.js';
import type { RunReport } from '../contracts/run-report.js';
import type { RunStore } from '../contracts/run-store.js';
import { exportSchema, type ExportConfig } from '../config/schema.js';
import { createSilentLogger } from '../shared/logger.js';
import { createRedactor } from '../shared/redact.js';
import { runExport, type PipelineDeps } from './run-export.js';

const HEADER = ['Opportunity ID', 'Region', 'Amount'];
const ROWS = [
  ['OPP-1', 'EMEA', '$1,200'],
  ['OPP-2', 'A/B', '$3,400'],
  ['OPP-3', 'a_b', '$560'],
  ['OPP-4', 'EMEA', '$10'],
];

/** A source that applies filters as Tableau does (exact match, OR over the values), counting its sessions. */
function filteringSource(
  options: { staleFor?: string } = {},
): Source & { requests: ViewRequest[]; opened: number; closed: number } {
  const source = {
    requests: [] as ViewRequest[],
    opened: 0,
    closed: 0,
    async open() {
      source.opened += 1;
      return {
        async fetchView(view: ViewRequest): Promise<RawTable> {
          source.requests.push(view);
          const rows = ROWS.filter((r) =>
            Object.entries(view.filters).every(([f, values]) => values.includes(r[HEADER.indexOf(f)] ?? '')),
          );
          return {
            header: HEADER,
            rows: async function* () {
              yield* rows;
            },
            provenance: {},
            warnings: [],
            bytes: 0,
            dispose: async () => undefined,
          };
        },
        // The extract behind the part filtered to `staleFor` was last refreshed three days ago; the rest is fresh.
        async readFreshness(view: ViewRequest) {
          const stale = options.staleFor !== undefined && view.filters['Region']?.includes(options.staleFor) === true;
          return {
            kind: 'extract' as const,
            refreshedAt: stale ? '2026-11-28T06:00:00.000Z' : '2026-12-01T05:00:00.000Z',
            datasource: 'Sales',
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

function partDestinations(): { delivered: string[]; of: (e: ExportConfig) => Destination } {
  const delivered: string[] = [];
  return {
    delivered,
    of: (e) => {
      const name = e.destination.type === 'local' ? (e.destination.fileName ?? '') : e.destination.path;
      return {
        describe: () => name,
        async deliver() {
          delivered.push(name);
          return { location: name, warnings: [] };
        },
      };
    },
  };
}

function memoryStore(): RunStore & { writes: RunReport[] } {
  const runs = new Map<string, RunReport>();
  const writes: RunReport[] = [];
  return {
    writes,
    async insertRun() {},
    async finishRun(report) {
      writes.push(report);
      runs.set(report.runId, report);
    },
    async getRun(id) {
      return runs.get(id);
    },
    async listRuns() {
      return [...runs.values()].reverse();
    },
    async lastSuccess() {
      return undefined;
    },
    async markInterrupted() {
      return 0;
    },
    async close() {},
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-burst-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function job(burst: Record<string, unknown>, runId = 'run-1', extra: Record<string, unknown> = {}) {
  const exportConfig = exportSchema.parse({
    id: 'regions',
    views: [{ workbook: 'Sales', view: 'Opportunities' }],
    burst,
    ...extra,
    destination: { type: 'local', dir: '/unused', fileName: '{Region}.xlsx' },
  });
  return { exportConfig, timezone: 'UTC', runId, trigger: { kind: 'cli' as const } };
}

function deps(source: Source, parts: ReturnType<typeof partDestinations>, store: RunStore): PipelineDeps {
  return {
    sourceFor: () => source,
    destination: parts.of({ destination: { type: 'local', fileName: '{Region}.xlsx' } } as ExportConfig),
    partDestination: parts.of,
    logger: createSilentLogger(),
    clock: { now: () => new Date('2026-12-01T06:00:00Z') },
    redactor: createRedactor(),
    tempDir: join(dir, 'tmp'),
    store,
    toolVersion: '9.9.9',
  };
}

describe('runExport with a burst into files', () => {
  it('reads the values from the data, fails only the part whose file clashes, and records parts as they end', async () => {
    const source = filteringSource();
    const parts = partDestinations();
    const store = memoryStore();
    const report = await runExport(job({ by: 'Region', values: 'all', into: 'files' }), deps(source, parts, store));

    expect(report.burst).toEqual({ by: 'Region', into: 'files', values: ['A/B', 'EMEA', 'a_b'], discovered: true });
    expect(report.parts?.map((p) => [p.value, p.status, p.rows, p.error?.code])).toEqual([
      ['A/B', 'succeeded', 1, undefined],
      ['EMEA', 'succeeded', 2, undefined],
      ['a_b', 'failed', 0, 'BURST_NAME_INVALID'],
    ]);
    expect(report.parts?.[2]?.error?.message).toMatch(/also the file of value "A\/B"/);
    expect(report.status).toBe('failed');
    expect(report.error?.code).toBe('BURST_PARTS_FAILED');
    expect(parts.delivered).toEqual(['A_B.xlsx', 'EMEA.xlsx']);
    // The discovery read the view unfiltered; each part added its own filter.
    expect(source.requests.map((r) => r.filters)).toEqual([{}, { Region: ['A/B'] }, { Region: ['EMEA'] }]);
    expect(source.closed).toBe(source.opened);
    // Recorded as running after each part, so a retried attempt finds the parts done.
    expect(store.writes.filter((w) => w.status === 'running').map((w) => w.parts?.length)).toEqual([1, 2, 3]);
  });

  it('skips the part whose data is stale under freshness.then: skip, delivers the others, and does not fail', async () => {
    const source = filteringSource({ staleFor: 'EMEA' });
    const parts = partDestinations();
    const report = await runExport(
      job({ by: 'Region', values: ['A/B', 'EMEA'], into: 'files' }, 'run-stale', {
        freshness: { maxAge: '26h', then: 'skip' },
      }),
      deps(source, parts, memoryStore()),
    );
    expect(report.parts?.map((p) => [p.value, p.status])).toEqual([
      ['A/B', 'succeeded'],
      ['EMEA', 'skipped'],
    ]);
    expect(report.parts?.[1]?.note).toMatch(/^skipped \(stale data\): .*its file was left as it was/);
    expect(report.status).toBe('succeeded');
    expect(report.alerts?.some((a) => a.startsWith('EMEA: skipped (stale data)'))).toBe(true);
    expect(parts.delivered).toEqual(['A_B.xlsx']);

    // Every part stale: the run is skipped, nothing delivered.
    const all = partDestinations();
    const skipped = await runExport(
      job({ by: 'Region', values: ['EMEA'], into: 'files' }, 'run-stale-2', {
        freshness: { maxAge: '26h', then: 'skip' },
      }),
      deps(filteringSource({ staleFor: 'EMEA' }), all, memoryStore()),
    );
    expect(skipped.status).toBe('skipped');
    expect(all.delivered).toEqual([]);
  });

  it('keeps the delivered parts of the run it retries and runs only the others', async () => {
    const source = filteringSource();
    const parts = partDestinations();
    const store = memoryStore();
    const burst = { by: 'Region', values: ['EMEA', 'A/B'], into: 'files' };
    const kept = {
      value: 'EMEA',
      status: 'succeeded' as const,
      sheets: [],
      rows: 2,
      bytes: 10,
      warnings: [],
      destination: { location: 'EMEA.xlsx' },
    };
    const failed = { value: 'A/B', status: 'failed' as const, sheets: [], rows: 0, bytes: 0, warnings: [] };
    const report = await runExport(
      { ...job(burst, 'run-2'), retryOf: { runId: 'run-1', parts: [kept, failed] } },
      deps(source, parts, store),
    );
    expect(report.status).toBe('succeeded');
    expect(report.parts?.map((p) => [p.value, p.status, p.keptFrom])).toEqual([
      ['EMEA', 'succeeded', 'run-1'],
      ['A/B', 'succeeded', undefined],
    ]);
    expect(parts.delivered).toEqual(['A_B.xlsx']);
    expect(source.requests.map((r) => r.filters)).toEqual([{ Region: ['A/B'] }]);
  });

  it('attempt 2 of a run (its worker died) keeps the parts attempt 1 recorded, and runs the rest', async () => {
    const source = filteringSource();
    const parts = partDestinations();
    const store = memoryStore();
    const burst = { by: 'Region', values: ['EMEA', 'A/B'], into: 'files' };
    const first = await runExport(job(burst, 'run-9'), deps(source, parts, store));
    expect(first.status).toBe('succeeded');
    // Attempt 1 died after its first part: the record holds what it wrote after that part.
    const afterFirstPart = store.writes.find((w) => w.status === 'running' && w.parts?.length === 1);
    expect(afterFirstPart?.parts?.[0]?.value).toBe('EMEA');
    await store.finishRun(afterFirstPart!);
    parts.delivered.length = 0;
    source.requests.length = 0;

    const second = await runExport({ ...job(burst, 'run-9'), attempt: 2 }, deps(source, parts, store));
    expect(second.parts?.map((p) => [p.value, p.status, p.keptFrom])).toEqual([
      ['EMEA', 'succeeded', 'run-9'],
      ['A/B', 'succeeded', undefined],
    ]);
    expect(parts.delivered).toEqual(['A_B.xlsx']);
  });
});
