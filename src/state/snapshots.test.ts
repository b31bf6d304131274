import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildMetricSheets,
  computePipelineMetrics,
  deriveDealHistory,
  metricsConfigSchema,
  type Deal,
} from '../transforms/metrics/index.js';
import { createSnapshotStore, type SnapshotDealInput, type SnapshotRow } from './snapshots.js';

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

const snap = (
  id: string,
  stage: string,
  amount: number | null = 100,
  closeDate: Date | null = D('2026-07-31'),
): SnapshotDealInput => ({ id, stage, amount, closeDate });

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
const count = (table: string): number => db.prepare<[], number>(`SELECT COUNT(*) FROM ${table}`).pluck().get() ?? 0;

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
    expect(store.loadSnapshots('exp', '2026-06-10')).toEqual([
      { runDate: '2026-06-10', dealId: 'A', stage: 'Proposal', amount: 100, closeDate: '2026-07-31' },
    ]);
  });

  it('keeps the first row of a repeated deal id and stores non-finite amounts as blank', () => {
    const store = createSnapshotStore(db);
    store.saveSnapshot('exp', '2026-06-10', [snap('A', 'Contact', Number.NaN), snap('A', 'Proposal')]);
    expect(store.loadSnapshots('exp', '2026-06-10')).toEqual([
      { runDate: '2026-06-10', dealId: 'A', stage: 'Contact', amount: null, closeDate: '2026-07-31' },
    ]);
  });

  it("prunes one export's snapshots older than a date and says how many rows went", () => {
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

  it('saves, replaces and loads deals in time linear in their number (no per-deal scan of the table)', () => {
    // Timed against itself in the same process (10k vs 100k deals), not against the wall clock: the machine is shared.
    const measure = (count: number, exportId: string): { save: number; again: number; load: number } => {
      const store = createSnapshotStore(db);
      const deals = Array.from({ length: count }, (_, i) =>
        snap(`OPP-${String(i).padStart(6, '0')}`, i % 2 === 0 ? 'Contact' : 'Proposal', i * 10),
      );
      store.saveSnapshot(exportId, '2026-06-09', deals);
      const time = (work: () => unknown): number => {
        const t0 = performance.now();
        work();
        return performance.now() - t0;
      };
      const save = time(() => store.saveSnapshot(exportId, '2026-06-10', deals));
      const again = time(() => store.saveSnapshot(exportId, '2026-06-10', deals));
      let loaded = 0;
      const load = time(() => (loaded = store.loadSnapshots(exportId, '2026-06-01').length));
      expect(loaded).toBe(2 * count);
      return { save, again, load };
    };
    const small = measure(10_000, 'small');
    const large = measure(100_000, 'large');
    // Linear work is ~10× for 10× the deals; a quadratic path would be ~100×. The bound leaves room for noise.
    expect(large.save / small.save).toBeLessThan(40);
    expect(large.again / small.again).toBeLessThan(40);
    expect(large.load / small.load).toBeLessThan(40);
  });
});

describe('storing changes, not copies', () => {
  const states = () =>
    db
      .prepare<
        [],
        { dealId: string; stage: string; amount: number | null; firstDate: string; lastDate: string | null }
      >(
        'SELECT deal_id AS dealId, stage, amount, first_date AS firstDate, last_date AS lastDate FROM deal_states ORDER BY deal_id, first_date',
      )
      .all();

  it('writes nothing for unchanged deals, a state per change, and ends the states of deals that left', () => {
    const store = createSnapshotStore(db);
    expect(
      store.saveSnapshot('exp', '2026-06-01', [snap('A', 'Contact'), snap('B', 'Contact'), snap('C', 'Proposal')]),
    ).toEqual({ stored: true, deals: 3, newStates: 3 });
    expect(
      store.saveSnapshot('exp', '2026-06-02', [snap('A', 'Contact'), snap('B', 'Contact'), snap('C', 'Proposal')]),
    ).toEqual({ stored: true, deals: 3, newStates: 0 });
    // A moves, B's amount changes, C's close date changes, D is new, nothing leaves.
    store.saveSnapshot('exp', '2026-06-03', [
      snap('A', 'Proposal'),
      snap('B', 'Contact', 150),
      snap('C', 'Proposal', 100, D('2026-08-31')),
      snap('D', 'Contact'),
    ]);
    // B leaves; the others stay as they are.
    store.saveSnapshot('exp', '2026-06-04', [
      snap('A', 'Proposal'),
      snap('C', 'Proposal', 100, D('2026-08-31')),
      snap('D', 'Contact'),
    ]);
    expect(states()).toEqual([
      { dealId: 'A', stage: 'Contact', amount: 100, firstDate: '2026-06-01', lastDate: '2026-06-02' },
      { dealId: 'A', stage: 'Proposal', amount: 100, firstDate: '2026-06-03', lastDate: null },
      { dealId: 'B', stage: 'Contact', amount: 100, firstDate: '2026-06-01', lastDate: '2026-06-02' },
      { dealId: 'B', stage: 'Contact', amount: 150, firstDate: '2026-06-03', lastDate: '2026-06-03' },
      { dealId: 'C', stage: 'Proposal', amount: 100, firstDate: '2026-06-01', lastDate: '2026-06-02' },
      { dealId: 'C', stage: 'Proposal', amount: 100, firstDate: '2026-06-03', lastDate: null },
      { dealId: 'D', stage: 'Contact', amount: 100, firstDate: '2026-06-03', lastDate: null },
    ]);
    expect(store.loadHistory('exp', '2026-06-02')).toEqual({
      runDates: ['2026-06-02', '2026-06-03', '2026-06-04'],
      states: [
        { dealId: 'A', stage: 'Contact', amount: 100, firstDate: '2026-06-02', lastDate: '2026-06-02' },
        { dealId: 'A', stage: 'Proposal', amount: 100, firstDate: '2026-06-03', lastDate: '2026-06-04' },
        { dealId: 'B', stage: 'Contact', amount: 100, firstDate: '2026-06-02', lastDate: '2026-06-02' },
        { dealId: 'B', stage: 'Contact', amount: 150, firstDate: '2026-06-03', lastDate: '2026-06-03' },
        { dealId: 'C', stage: 'Proposal', amount: 100, firstDate: '2026-06-02', lastDate: '2026-06-02' },
        { dealId: 'C', stage: 'Proposal', amount: 100, firstDate: '2026-06-03', lastDate: '2026-06-04' },
        { dealId: 'D', stage: 'Contact', amount: 100, firstDate: '2026-06-03', lastDate: '2026-06-04' },
      ],
    });
  });

  it('a deal that comes back after missing runs starts a new state, so it does not count as present in between', () => {
    const store = createSnapshotStore(db);
    store.saveSnapshot('exp', '2026-06-01', [snap('A', 'Contact'), snap('B', 'Contact')]);
    store.saveSnapshot('exp', '2026-06-08', [snap('B', 'Contact')]);
    store.saveSnapshot('exp', '2026-06-15', [snap('A', 'Contact'), snap('B', 'Contact')]);
    expect(
      states()
        .filter((s) => s.dealId === 'A')
        .map((s) => [s.firstDate, s.lastDate]),
    ).toEqual([
      ['2026-06-01', '2026-06-01'],
      ['2026-06-15', null],
    ]);
    const h = deriveDealHistory(
      store.loadHistory('exp', '2026-01-01'),
      [snap('A', 'Contact'), snap('B', 'Contact')],
      D('2026-06-15'),
    );
    expect(h.trend.slice(-3).map((w) => [w.snapshotDate, w.stages])).toEqual([
      ['2026-06-01', [{ stage: 'Contact', count: 2, value: 200 }]],
      ['2026-06-08', [{ stage: 'Contact', count: 1, value: 100 }]],
      ['2026-06-15', [{ stage: 'Contact', count: 2, value: 200 }]],
    ]);
  });

  it('a same-day re-run undoes the earlier run of that day: states it began go, states it ended reopen', () => {
    const store = createSnapshotStore(db);
    store.saveSnapshot('exp', '2026-06-01', [snap('A', 'Contact'), snap('B', 'Contact')]);
    const before = states();
    // The mistaken run: A moves, B leaves, C appears.
    store.saveSnapshot('exp', '2026-06-02', [snap('A', 'Closed Lost'), snap('C', 'Contact')]);
    store.saveSnapshot('exp', '2026-06-02', [snap('A', 'Contact'), snap('B', 'Contact')]);
    expect(states()).toEqual(before);
    expect(store.loadSnapshots('exp', '2026-01-01').map((r) => `${r.dealId} ${r.runDate} ${r.stage}`)).toEqual([
      'A 2026-06-01 Contact',
      'A 2026-06-02 Contact',
      'B 2026-06-01 Contact',
      'B 2026-06-02 Contact',
    ]);
    // Twice more, identically: nothing accumulates.
    store.saveSnapshot('exp', '2026-06-02', [snap('A', 'Contact'), snap('B', 'Contact')]);
    store.saveSnapshot('exp', '2026-06-02', [snap('A', 'Contact'), snap('B', 'Contact')]);
    expect(states()).toEqual(before);
    expect(count('snapshot_runs')).toBe(2);
  });

  it('does not rewrite the past: a run dated before the latest stored run stores nothing', () => {
    const store = createSnapshotStore(db);
    store.saveSnapshot('exp', '2026-06-01', [snap('A', 'Contact')]);
    store.saveSnapshot('exp', '2026-06-10', [snap('A', 'Proposal')]);
    const before = store.loadSnapshots('exp', '2026-01-01');
    expect(store.saveSnapshot('exp', '2026-06-05', [snap('A', 'Closing')])).toEqual({
      stored: false,
      deals: 0,
      newStates: 0,
    });
    expect(store.loadSnapshots('exp', '2026-01-01')).toEqual(before);
    // That run's own metrics still see its deals as the snapshot of its date, and only the runs before it.
    const h = deriveDealHistory(store.loadHistory('exp', '2026-01-01'), [snap('A', 'Closing')], D('2026-06-05'));
    expect(h.snapshotDates).toEqual(['2026-06-01', '2026-06-05']);
    expect(h.deals.get('A')?.stageEntry).toEqual({
      kind: 'observed',
      date: '2026-06-05',
      previousStage: 'Contact',
      previousSnapshotDate: '2026-06-01',
    });
  });

  it('prunes states last seen before the date, keeps the ones still seen, and clips their start on read', () => {
    const store = createSnapshotStore(db);
    store.saveSnapshot('exp', '2025-01-01', [snap('A', 'Contact'), snap('B', 'Contact')]);
    store.saveSnapshot('exp', '2025-01-02', [snap('A', 'Contact'), snap('B', 'Proposal')]);
    store.saveSnapshot('exp', '2026-06-01', [snap('A', 'Contact'), snap('B', 'Proposal')]);
    expect(store.prune('exp', '2026-01-01')).toBe(4);
    expect(states().map((s) => `${s.dealId} ${s.firstDate}`)).toEqual(['A 2025-01-01', 'B 2025-01-02']);
    expect(count('snapshot_runs')).toBe(1);
    expect(store.loadHistory('exp', '2000-01-01')).toEqual({
      runDates: ['2026-06-01'],
      states: [
        { dealId: 'A', stage: 'Contact', amount: 100, firstDate: '2026-06-01', lastDate: '2026-06-01' },
        { dealId: 'B', stage: 'Proposal', amount: 100, firstDate: '2026-06-01', lastDate: '2026-06-01' },
      ],
    });
  });

  it('converts a table of the first format (one row per deal per run) and drops it', () => {
    db.exec(`
      CREATE TABLE deal_snapshots (export_id TEXT NOT NULL, run_date TEXT NOT NULL, deal_id TEXT NOT NULL, stage TEXT NOT NULL,
        amount REAL, close_date TEXT, PRIMARY KEY (export_id, run_date, deal_id)) WITHOUT ROWID;
    `);
    const old: SnapshotRow[] = [
      { runDate: '2026-06-01', dealId: 'A', stage: 'Contact', amount: 100, closeDate: '2026-07-31' },
      { runDate: '2026-06-02', dealId: 'A', stage: 'Contact', amount: 100, closeDate: '2026-07-31' },
      { runDate: '2026-06-03', dealId: 'A', stage: 'Proposal', amount: 100, closeDate: '2026-07-31' },
      { runDate: '2026-06-01', dealId: 'B', stage: 'Contact', amount: null, closeDate: null },
      { runDate: '2026-06-03', dealId: 'B', stage: 'Contact', amount: null, closeDate: null },
    ];
    const insert = db.prepare('INSERT INTO deal_snapshots VALUES (?, ?, ?, ?, ?, ?)');
    for (const r of old) insert.run('exp', r.runDate, r.dealId, r.stage, r.amount, r.closeDate);
    insert.run('other', '2026-06-01', 'Z', 'Closing', 5, null);

    const store = createSnapshotStore(db);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'deal_snapshots'").all()).toEqual([]);
    expect(store.loadSnapshots('exp', '2000-01-01')).toEqual(old);
    expect(store.loadSnapshots('other', '2000-01-01')).toEqual([
      { runDate: '2026-06-01', dealId: 'Z', stage: 'Closing', amount: 5, closeDate: null },
    ]);
    // A: Contact 06-01..02, Proposal 06-03; B: 06-01, and again 06-03 after missing 06-02; Z of 'other'.
    expect(count('deal_states')).toBe(5);
    // The next run continues the converted history: nothing changed, nothing written.
    expect(
      store.saveSnapshot('exp', '2026-06-04', [snap('A', 'Proposal', 100), snap('B', 'Contact', null, null)]).newStates,
    ).toBe(0);
    expect(count('deal_states')).toBe(5);
  });
});

describe('at scale', () => {
  it('100k deals × 60 daily runs with ~2% changing a day: rows stay near deals + changes, each run bounded', () => {
    const r = random(7);
    const N = 100_000;
    let next = 0;
    const fresh = (): SnapshotDealInput =>
      snap(
        `OPP-${String(next++).padStart(7, '0')}`,
        STAGES[Math.floor(r() * 5)] ?? 'Contact',
        Math.round(r() * 1e7) / 100,
      );
    let deals = Array.from({ length: N }, fresh);
    const store = createSnapshotStore(db);
    let stored = 0;
    const runs: { heapGrowth: number; states: number; deals: number }[] = [];
    for (let day = 0; day < 60; day += 1) {
      if (day > 0) {
        // ~1% stage moves, ~0.7% amount edits, ~0.3% close date edits, ~0.2% leave and are replaced by new deals.
        deals = deals.map((d) => {
          const p = r();
          if (p < 0.01) return { ...d, stage: STAGES[Math.floor(r() * STAGES.length)] ?? 'Contact' };
          if (p < 0.017) return { ...d, amount: Math.round(r() * 1e7) / 100 };
          if (p < 0.02) return { ...d, closeDate: D('2026-09-30') };
          if (p < 0.022) return fresh();
          return d;
        });
      }
      const asOf = new Date(Date.UTC(2026, 2, 2 + day));
      const runDate = asOf.toISOString().slice(0, 10);
      const heapBefore = process.memoryUsage().heapUsed;
      stored += store.saveSnapshot('exp', runDate, deals).newStates;
      // Load and derive as the pipeline does on a few runs (every run would only make the test slow).
      if (day % 20 === 19 || day === 1) {
        const history = store.loadHistory('exp', new Date(asOf.getTime() - 91 * 86_400_000).toISOString().slice(0, 10));
        const derived = deriveDealHistory(history, deals, asOf);
        runs.push({
          heapGrowth: process.memoryUsage().heapUsed - heapBefore,
          states: history.states.length,
          deals: derived.deals.size,
        });
        expect(derived.trend.at(-1)?.stages.reduce((n, s) => n + s.count, 0)).toBe(N);
      }
    }
    const rows = count('deal_states');
    expect(rows).toBe(stored);
    // 100k first states + ~2.2k a day for 59 days ≈ 230k; one row per deal per run would be 6M.
    expect(rows).toBeGreaterThan(N + 59 * 1_800);
    expect(rows).toBeLessThan(N + 59 * 2_600);
    expect(count('snapshot_runs')).toBe(60);
    for (const run of runs) expect(run.heapGrowth).toBeLessThan(300 * 1_048_576);
    // What a run reads grows with changes, not with runs × deals.
    expect(runs.at(-1)?.states).toBe(rows);
  }, 300_000);
});

describe('loadHistory', () => {
  it.each([1, 2, 3, 4, 5])('gives the same derived history as every row (seed %i), from fewer rows', (seed) => {
    const r = random(seed);
    const store = createSnapshotStore(db);
    const stageOf = new Map<string, string>();
    const amountOf = new Map<string, number>();
    const closeOf = new Map<string, Date>();
    // What the first format stored: every deal of every run (a same-day re-run replaces that day's rows).
    let reference: SnapshotRow[] = [];
    const asRows = (runDate: string, deals: readonly SnapshotDealInput[]): SnapshotRow[] =>
      deals.map((d) => ({
        runDate,
        dealId: d.id,
        stage: d.stage,
        amount: d.amount,
        closeDate: d.closeDate?.toISOString().slice(0, 10) ?? null,
      }));
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
        if (!amountOf.has(id) || r() < 0.1) amountOf.set(id, Math.floor(r() * 1_000));
        if (!closeOf.has(id) || r() < 0.05) closeOf.set(id, new Date(Date.UTC(2026, 6, 1 + Math.floor(r() * 60))));
        lastDeals.push(snap(id, stageOf.get(id) ?? 'Contact', amountOf.get(id) ?? 0, closeOf.get(id) ?? null));
      }
      store.saveSnapshot('exp', runDate, lastDeals);
      reference.push(...asRows(runDate, lastDeals));
      if (r() < 0.1) {
        // A same-day re-run, with one deal gone and one moved.
        const rerun = lastDeals.slice(1).map((d, k) => (k === 0 ? { ...d, stage: 'Closed Lost' } : d));
        store.saveSnapshot('exp', runDate, rerun);
        reference = [...reference.filter((row) => row.runDate !== runDate), ...asRows(runDate, rerun)];
      }
    }
    const asOf = new Date(day);
    const all = store.loadSnapshots('exp', '2026-01-01');
    expect(all).toEqual(
      [...reference].sort((a, b) =>
        a.dealId < b.dealId ? -1 : a.dealId > b.dealId ? 1 : a.runDate < b.runDate ? -1 : 1,
      ),
    );
    const compact = store.loadHistory('exp', '2026-01-01');
    expect(compact.states.length).toBeLessThan(all.length);
    const full = deriveDealHistory(all, lastDeals, asOf);
    const fromCompact = deriveDealHistory(compact, lastDeals, asOf);
    expect([...fromCompact.deals.entries()]).toEqual([...full.deals.entries()]);
    expect(fromCompact.transitions).toEqual(full.transitions);
    expect(fromCompact.trend).toEqual(full.trend);
    expect(fromCompact.snapshotDates).toEqual(full.snapshotDates);
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
    const history = deriveDealHistory(store.loadHistory('exp', '2026-01-01'), deals, D(asOf));
    return { history, metrics: computePipelineMetrics(deals, config, D(asOf), history) };
  }

  it('derives stage entry dates, transitions and the trend', () => {
    const store = createSnapshotStore(db);
    run(store, '2026-06-01', [
      deal('A', 'Lead Generation', 1_000),
      deal('B', 'Contact', 2_000),
      deal('C', 'Proposal', 3_000),
    ]);
    run(store, '2026-06-10', [
      deal('A', 'Qualification', 1_000),
      deal('B', 'Contact', 2_000),
      deal('C', 'Proposal', 3_000),
      deal('D', 'Lead Generation', 4_000, '2026-06-09'),
    ]);
    // A mistaken run on 06-22, then the real one the same day: the second replaces the first.
    run(store, '2026-06-22', [deal('A', 'Closed Lost', 1_000)]);
    const { history, metrics } = run(store, '2026-06-22', [
      deal('A', 'Qualification', 1_200),
      deal('B', 'Proposal', 2_000),
      deal('C', 'Proposal', 3_000),
      deal('D', 'Lead Generation', 4_000, '2026-06-09'),
    ]);

    expect(history.snapshotDates).toEqual(['2026-06-01', '2026-06-10', '2026-06-22']);
    expect(history.deals.get('A')?.stageEntry).toEqual({
      kind: 'observed',
      date: '2026-06-10',
      previousStage: 'Lead Generation',
      previousSnapshotDate: '2026-06-01',
    });
    expect(history.deals.get('B')?.stageEntry).toEqual({
      kind: 'observed',
      date: '2026-06-22',
      previousStage: 'Contact',
      previousSnapshotDate: '2026-06-10',
    });
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
    // The snapshot of each week is a real date (a week without a run says so).
    expect(trend?.rows.slice(-4).map((r) => r[1])).toEqual([
      new Date('2026-06-01T00:00:00Z'),
      new Date('2026-06-10T00:00:00Z'),
      'n/a (no run that week)',
      new Date('2026-06-22T00:00:00Z'),
    ]);
    expect([
      at(-4, 'Lead Generation deals'),
      at(-4, 'Contact deals'),
      at(-4, 'Proposal value'),
      at(-4, 'Open value'),
    ]).toEqual([1, 1, 3_000, 6_000]);
    expect([
      at(-1, 'Qualification value'),
      at(-1, 'Proposal deals'),
      at(-1, 'Proposal value'),
      at(-1, 'Open deals'),
      at(-1, 'Open value'),
    ]).toEqual([1_200, 2, 5_000, 4, 10_200]);
  });
});
