import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildMetricSheets, computePipelineMetrics, deriveDealHistory, metricsConfigSchema, type Deal } from '../transforms/metrics/index.js';
import { createSnapshotStore, type SnapshotDealInput } from './snapshots.js';

const D = (iso: string): Date => new Date(`${iso}T00:00:00Z`);

let dir: string;
let db: Database.Database;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'snapshots-'));
  db = new Database(join(dir, 'state.db'));
  // As the state database is opened in production.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const snap = (id: string, stage: string, amount: number | null = 100, closeDate: Date | null = D('2026-07-31')): SnapshotDealInput => ({ id, stage, amount, closeDate });

describe('createSnapshotStore', () => {
  it('saves and loads rows ordered by deal, then date, from a given date on', () => {
    const store = createSnapshotStore(db);
    store.saveSnapshot('exp', '2026-06-01', [snap('B', 'Contact'), snap('A', 'Lead Generation', null, null)]);
    store.saveSnapshot('exp', '2026-06-10', [snap('A', 'Qualification', 1_200)]);
    store.saveSnapshot('other', '2026-06-10', [snap('Z', 'Contact')]);
    expect(store.loadSnapshots('exp', '2026-01-01')).toEqual([
      { runDate: '2026-06-01', dealId: 'A', stage: 'Lead Generation', amount: null, closeDate: null },
      { runDate: '2026-06-10', dealId: 'A', stage: 'Qualification', amount: 1_200, closeDate: '2026-07-31' },
      { runDate: '2026-06-01', dealId: 'B', stage: 'Contact', amount: 100, closeDate: '2026-07-31' },
    ]);
    expect(store.loadSnapshots('exp', '2026-06-02').map((r) => r.dealId)).toEqual(['A']);
  });

  it('replaces the snapshot when the same day runs again', () => {
    const store = createSnapshotStore(db);
    store.saveSnapshot('exp', '2026-06-10', [snap('A', 'Contact'), snap('B', 'Contact')]);
    store.saveSnapshot('exp', '2026-06-10', [snap('A', 'Proposal')]);
    expect(store.loadSnapshots('exp', '2026-06-10')).toEqual([{ runDate: '2026-06-10', dealId: 'A', stage: 'Proposal', amount: 100, closeDate: '2026-07-31' }]);
  });

  it('keeps the first row of a repeated deal id and stores non-finite amounts as blank', () => {
    const store = createSnapshotStore(db);
    store.saveSnapshot('exp', '2026-06-10', [snap('A', 'Contact', Number.NaN), snap('A', 'Proposal')]);
    expect(store.loadSnapshots('exp', '2026-06-10')).toEqual([{ runDate: '2026-06-10', dealId: 'A', stage: 'Contact', amount: null, closeDate: '2026-07-31' }]);
  });

  it('prunes one export\'s snapshots older than a date and says how many rows went', () => {
    const store = createSnapshotStore(db);
    store.saveSnapshot('exp', '2025-01-01', [snap('A', 'Contact'), snap('B', 'Contact')]);
    store.saveSnapshot('exp', '2026-06-01', [snap('A', 'Contact')]);
    store.saveSnapshot('other', '2025-01-01', [snap('A', 'Contact')]);
    expect(store.prune('exp', '2026-06-01')).toBe(2);
    expect(store.loadSnapshots('exp', '2000-01-01').map((r) => r.runDate)).toEqual(['2026-06-01']);
    expect(store.loadSnapshots('other', '2000-01-01')).toHaveLength(1);
  });

  it('rolls a failed save back whole', () => {
    const store = createSnapshotStore(db);
    store.saveSnapshot('exp', '2026-06-10', [snap('A', 'Contact')]);
    const bad = { id: 'B', stage: null, amount: 1, closeDate: null } as unknown as SnapshotDealInput;
    expect(() => store.saveSnapshot('exp', '2026-06-10', [snap('C', 'Proposal'), bad])).toThrow();
    expect(store.loadSnapshots('exp', '2026-06-10').map((r) => r.dealId)).toEqual(['A']);
  });

  it.each([['June 10'], ['2026-6-1'], ['']])('rejects the run date %j', (runDate) => {
    const store = createSnapshotStore(db);
    expect(() => store.saveSnapshot('exp', runDate, [])).toThrow(RangeError);
  });

  it('can be created again on the same database (CREATE TABLE IF NOT EXISTS)', () => {
    createSnapshotStore(db).saveSnapshot('exp', '2026-06-10', [snap('A', 'Contact')]);
    expect(createSnapshotStore(db).loadSnapshots('exp', '2026-06-10')).toHaveLength(1);
  });

  it('saves 100k deals well under a second or two, and replaces them as fast', () => {
    const store = createSnapshotStore(db);
    const deals = Array.from({ length: 100_000 }, (_, i) => snap(`OPP-${String(i).padStart(6, '0')}`, i % 2 === 0 ? 'Contact' : 'Proposal', i * 10));
    store.saveSnapshot('exp', '2026-06-09', deals);
    let t0 = performance.now();
    store.saveSnapshot('exp', '2026-06-10', deals);
    const first = performance.now() - t0;
    t0 = performance.now();
    store.saveSnapshot('exp', '2026-06-10', deals);
    const again = performance.now() - t0;
    t0 = performance.now();
    const loaded = store.loadSnapshots('exp', '2026-06-01');
    const load = performance.now() - t0;
    expect(loaded).toHaveLength(200_000);
    // Generous bounds: the test machine is shared; typical figures are a few hundred milliseconds.
    expect(first).toBeLessThan(2_000);
    expect(again).toBeLessThan(2_000);
    expect(load).toBeLessThan(2_000);
  });
});

describe('loadHistory', () => {
  /** mulberry32, so a failing case can be replayed. */
  function random(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
  }
  const STAGES = ['Lead Generation', 'Qualification', 'Contact', 'Proposal', 'Closing', 'Closed Won', 'Closed Lost'];

  it.each([1, 2, 3, 4, 5])('gives the same derived history as every row (seed %i), from fewer rows', (seed) => {
    const r = random(seed);
    const store = createSnapshotStore(db);
    const stageOf = new Map<string, string>();
    let day = Date.UTC(2026, 2, 2);
    let lastDeals: SnapshotDealInput[] = [];
    for (let run = 0; run < 60; run += 1) {
      day += (1 + Math.floor(r() * 3)) * 86_400_000;
      const runDate = new Date(day).toISOString().slice(0, 10);
      lastDeals = [];
      for (let i = 0; i < 40; i += 1) {
        const id = `D${i}`;
        if (r() < 0.1) continue; // filtered out of the view this run
        if (!stageOf.has(id) || r() < 0.08) stageOf.set(id, STAGES[Math.floor(r() * STAGES.length)] ?? 'Contact');
        lastDeals.push(snap(id, stageOf.get(id) ?? 'Contact', Math.floor(r() * 1_000)));
      }
      store.saveSnapshot('exp', runDate, lastDeals);
      if (r() < 0.1) store.saveSnapshot('exp', runDate, lastDeals.slice(1)); // a same-day re-run
    }
    const asOf = new Date(day);
    const all = store.loadSnapshots('exp', '2026-01-01');
    const compact = store.loadHistory('exp', '2026-01-01');
    expect(compact.length).toBeLessThan(all.length);
    const full = deriveDealHistory(all, lastDeals, asOf);
    const fromCompact = deriveDealHistory(compact, lastDeals, asOf);
    expect([...fromCompact.deals.entries()]).toEqual([...full.deals.entries()]);
    expect(fromCompact.transitions).toEqual(full.transitions);
    expect(fromCompact.trend).toEqual(full.trend);
  });
});

describe('three runs on changing data, through the store', () => {
  const config = metricsConfigSchema.parse({ from: 'Opportunities', staleAfterDays: 10 });

  function deal(id: string, stage: string, amount: number, created = '2026-05-01'): Deal {
    return {
      id,
      stage,
      stageKnown: true,
      outcome: stage === 'Closed Won' ? 'won' : stage === 'Closed Lost' ? 'lost' : 'open',
      amount,
      probability: null,
      createdDate: D(created),
      closeDate: D('2026-07-31'),
      stageEnteredDate: null,
      account: null,
      owner: null,
      region: null,
      product: null,
      leadSource: null,
      customerType: null,
      customerTypeLabel: null,
      problems: [],
    };
  }

  /** One run as the pipeline does it: save today's snapshot, read the history back, compute. */
  function run(store: ReturnType<typeof createSnapshotStore>, asOf: string, deals: Deal[]) {
    store.saveSnapshot('exp', asOf, deals);
    const history = deriveDealHistory(store.loadSnapshots('exp', '2026-01-01'), deals, D(asOf));
    return { history, metrics: computePipelineMetrics(deals, config, D(asOf), history) };
  }

  it('derives stage entry dates, transitions and the trend', () => {
    const store = createSnapshotStore(db);
    run(store, '2026-06-01', [deal('A', 'Lead Generation', 1_000), deal('B', 'Contact', 2_000), deal('C', 'Proposal', 3_000)]);
    run(store, '2026-06-10', [deal('A', 'Qualification', 1_000), deal('B', 'Contact', 2_000), deal('C', 'Proposal', 3_000), deal('D', 'Lead Generation', 4_000, '2026-06-09')]);
    // A mistaken run on 06-22, then the real one the same day: the second replaces the first.
    run(store, '2026-06-22', [deal('A', 'Closed Lost', 1_000)]);
    const { history, metrics } = run(store, '2026-06-22', [deal('A', 'Qualification', 1_200), deal('B', 'Proposal', 2_000), deal('C', 'Proposal', 3_000), deal('D', 'Lead Generation', 4_000, '2026-06-09')]);

    expect(history.snapshotDates).toEqual(['2026-06-01', '2026-06-10', '2026-06-22']);
    expect(history.deals.get('A')?.stageEntry).toEqual({ kind: 'observed', date: '2026-06-10', previousStage: 'Lead Generation', previousSnapshotDate: '2026-06-01' });
    expect(history.deals.get('B')?.stageEntry).toEqual({ kind: 'observed', date: '2026-06-22', previousStage: 'Contact', previousSnapshotDate: '2026-06-10' });
    expect(history.deals.get('C')?.stageEntry).toEqual({ kind: 'unchangedSince', date: '2026-06-01' });
    expect(history.transitions.map((t) => `${t.dealId}: ${t.from} → ${t.to} (${t.date})`)).toEqual([
      'A: Lead Generation → Qualification (2026-06-10)',
      'B: Contact → Proposal (2026-06-22)',
    ]);

    // Days in stage (threshold 10): C since created, 52 (same stage in every snapshot); D since created, 13; A 12
    // (moved on 06-10); B 0 (moved today). Worst first = most days over the threshold.
    expect(metrics.staleDeals.map((s) => [s.id, s.daysInStage])).toEqual([
      ['C', 52],
      ['D', 13],
      ['A', 12],
    ]);

    const trend = buildMetricSheets(metrics, config).find((s) => s.name === 'Trend');
    const header = trend?.columns.map((c) => c.header) ?? [];
    const at = (row: number, column: string) => trend?.rows.at(row)?.[header.indexOf(column)];
    expect(trend?.rows.slice(-4).map((r) => r[1])).toEqual(['2026-06-01', '2026-06-10', 'n/a (no run that week)', '2026-06-22']);
    expect([at(-4, 'Lead Generation deals'), at(-4, 'Contact deals'), at(-4, 'Proposal value'), at(-4, 'Open value')]).toEqual([1, 1, 3_000, 6_000]);
    expect([at(-1, 'Qualification value'), at(-1, 'Proposal deals'), at(-1, 'Proposal value'), at(-1, 'Open deals'), at(-1, 'Open value')]).toEqual([1_200, 2, 5_000, 4, 10_200]);
  });
});
