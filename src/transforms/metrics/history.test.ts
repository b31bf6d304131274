import { describe, expect, it } from 'vitest';
import type { Deal } from './deal.js';
import { deriveDealHistory, TREND_WEEKS, type DealStateRow, type SnapshotRow } from './history.js';

const D = (iso: string): Date => new Date(`${iso}T00:00:00Z`);

function deal(id: string, stage: string, amount: number | null): Deal {
  const closed = stage.startsWith('Closed');
  return {
    id,
    stage,
    stageKnown: true,
    outcome: stage === 'Closed Won' ? 'won' : closed ? 'lost' : 'open',
    amount,
    probability: null,
    createdDate: D('2026-05-01'),
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

const rows = (runDate: string, deals: readonly Deal[]): SnapshotRow[] =>
  deals.map((d) => ({ runDate, dealId: d.id, stage: d.stage, amount: d.amount, closeDate: '2026-07-31' }));

// Three runs on changing data: 2026-06-01 (Mon), 2026-06-10 (Wed), and the current run 2026-06-22 (Mon).
const RUN1 = [
  deal('A', 'Lead Generation', 1_000),
  deal('B', 'Contact', 2_000),
  deal('C', 'Proposal', 3_000),
  deal('E', 'Closing', 5_000),
  deal('F', 'Qualification', 6_000),
  deal('G', 'Contact', 7_000),
];
const RUN2 = [
  deal('A', 'Qualification', 1_000),
  deal('B', 'Contact', 2_000),
  deal('C', 'Proposal', 3_000),
  deal('D', 'Lead Generation', 4_000),
  deal('E', 'Closed Won', 5_000),
  deal('G', 'Contact', 7_000),
];
const CURRENT = [
  deal('A', 'Qualification', 1_200),
  deal('B', 'Proposal', 2_000),
  deal('C', 'Proposal', 3_000),
  deal('D', 'Lead Generation', 4_000),
  deal('E', 'Closed Won', 5_000),
  deal('F', 'Lead Generation', 6_000),
];
const AS_OF = D('2026-06-22');

describe('deriveDealHistory over three runs', () => {
  const history = deriveDealHistory([...rows('2026-06-01', RUN1), ...rows('2026-06-10', RUN2)], CURRENT, AS_OF);

  it('lists the snapshot dates, the current run counting as the snapshot of asOf', () => {
    expect(history.asOf).toBe('2026-06-22');
    expect(history.snapshotDates).toEqual(['2026-06-01', '2026-06-10', '2026-06-22']);
  });

  it.each([
    [
      'A moved LG → Qualification by the second run',
      'A',
      { kind: 'observed', date: '2026-06-10', previousStage: 'Lead Generation', previousSnapshotDate: '2026-06-01' },
    ],
    [
      'B moved Contact → Proposal by the third run',
      'B',
      { kind: 'observed', date: '2026-06-22', previousStage: 'Contact', previousSnapshotDate: '2026-06-10' },
    ],
    ['C never moved: entered on or before its first snapshot', 'C', { kind: 'unchangedSince', date: '2026-06-01' }],
    ['D appeared in the second run and stayed', 'D', { kind: 'unchangedSince', date: '2026-06-10' }],
    [
      'E was won by the second run',
      'E',
      { kind: 'observed', date: '2026-06-10', previousStage: 'Closing', previousSnapshotDate: '2026-06-01' },
    ],
    [
      'F skipped a run and moved back',
      'F',
      { kind: 'observed', date: '2026-06-22', previousStage: 'Qualification', previousSnapshotDate: '2026-06-01' },
    ],
    ['G left the view: its history is kept', 'G', { kind: 'unchangedSince', date: '2026-06-01' }],
  ])('stage entry: %s', (_name, id, expected) => {
    expect(history.deals.get(id)?.stageEntry).toEqual(expected);
  });

  it('records the stages each deal was seen in, in order', () => {
    expect(history.deals.get('A')?.stagesSeen).toEqual(['Lead Generation', 'Qualification']);
    expect(history.deals.get('F')?.stagesSeen).toEqual(['Qualification', 'Lead Generation']);
  });

  it('lists the real stage-to-stage transitions by date', () => {
    expect(history.transitions).toEqual([
      {
        dealId: 'A',
        from: 'Lead Generation',
        to: 'Qualification',
        date: '2026-06-10',
        previousSnapshotDate: '2026-06-01',
        amount: 1_000,
      },
      {
        dealId: 'E',
        from: 'Closing',
        to: 'Closed Won',
        date: '2026-06-10',
        previousSnapshotDate: '2026-06-01',
        amount: 5_000,
      },
      {
        dealId: 'B',
        from: 'Contact',
        to: 'Proposal',
        date: '2026-06-22',
        previousSnapshotDate: '2026-06-10',
        amount: 2_000,
      },
      {
        dealId: 'F',
        from: 'Qualification',
        to: 'Lead Generation',
        date: '2026-06-22',
        previousSnapshotDate: '2026-06-01',
        amount: 6_000,
      },
    ]);
  });

  it('builds the 12-week trend from the latest snapshot of each week', () => {
    expect(history.trend).toHaveLength(TREND_WEEKS);
    expect(history.trend[0]).toEqual({ weekStart: '2026-04-06', snapshotDate: null, stages: [] });
    expect(history.trend.slice(-4)).toEqual([
      {
        weekStart: '2026-06-01',
        snapshotDate: '2026-06-01',
        stages: [
          { stage: 'Closing', count: 1, value: 5_000 },
          { stage: 'Contact', count: 2, value: 9_000 },
          { stage: 'Lead Generation', count: 1, value: 1_000 },
          { stage: 'Proposal', count: 1, value: 3_000 },
          { stage: 'Qualification', count: 1, value: 6_000 },
        ],
      },
      {
        weekStart: '2026-06-08',
        snapshotDate: '2026-06-10',
        stages: [
          { stage: 'Closed Won', count: 1, value: 5_000 },
          { stage: 'Contact', count: 2, value: 9_000 },
          { stage: 'Lead Generation', count: 1, value: 4_000 },
          { stage: 'Proposal', count: 1, value: 3_000 },
          { stage: 'Qualification', count: 1, value: 1_000 },
        ],
      },
      { weekStart: '2026-06-15', snapshotDate: null, stages: [] },
      {
        weekStart: '2026-06-22',
        snapshotDate: '2026-06-22',
        stages: [
          { stage: 'Closed Won', count: 1, value: 5_000 },
          { stage: 'Lead Generation', count: 2, value: 10_000 },
          { stage: 'Proposal', count: 2, value: 5_000 },
          { stage: 'Qualification', count: 1, value: 1_200 },
        ],
      },
    ]);
  });
});

describe('deriveDealHistory edge cases', () => {
  it('lets the current run replace a stored snapshot of the same day and ignores later ones', () => {
    const stored = [
      ...rows('2026-06-22', [deal('A', 'Closing', 1)]),
      ...rows('2026-06-25', [deal('A', 'Closed Won', 1)]),
      ...rows('2026-06-20', [deal('A', 'Contact', 1)]),
    ];
    const h = deriveDealHistory(stored, [deal('A', 'Proposal', 1)], AS_OF);
    expect(h.snapshotDates).toEqual(['2026-06-20', '2026-06-22']);
    expect(h.deals.get('A')?.stageEntry).toEqual({
      kind: 'observed',
      date: '2026-06-22',
      previousStage: 'Contact',
      previousSnapshotDate: '2026-06-20',
    });
  });

  it('is stable whatever the order of the stored rows', () => {
    const stored = [...rows('2026-06-01', RUN1), ...rows('2026-06-10', RUN2)];
    const a = deriveDealHistory(stored, CURRENT, AS_OF);
    const b = deriveDealHistory([...stored].reverse(), [...CURRENT].reverse(), AS_OF);
    expect([...b.deals.entries()]).toEqual([...a.deals.entries()]);
    expect(b.transitions).toEqual(a.transitions);
    expect(b.trend).toEqual(a.trend);
  });

  it('keeps the first row of a deal id repeated in one run, and skips unreadable run dates', () => {
    const stored: SnapshotRow[] = [
      { runDate: '2026-06-01', dealId: 'A', stage: 'Contact', amount: 1, closeDate: null },
      { runDate: '2026-06-01', dealId: 'A', stage: 'Proposal', amount: 1, closeDate: null },
      { runDate: 'June 2', dealId: 'A', stage: 'Closing', amount: 1, closeDate: null },
    ];
    const h = deriveDealHistory(stored, [deal('A', 'Contact', 1)], AS_OF);
    expect(h.transitions).toEqual([]);
    expect(h.deals.get('A')?.stageEntry).toEqual({ kind: 'unchangedSince', date: '2026-06-01' });
  });

  it('with no stored snapshots, only the current run is known', () => {
    const h = deriveDealHistory([], CURRENT, AS_OF);
    expect(h.snapshotDates).toEqual(['2026-06-22']);
    expect(h.deals.get('C')?.stageEntry).toEqual({ kind: 'unchangedSince', date: '2026-06-22' });
    expect(h.trend.filter((w) => w.snapshotDate !== null)).toHaveLength(1);
  });
});

describe('deriveDealHistory from stored states (first and last run of each unchanged state)', () => {
  const state = (
    dealId: string,
    stage: string,
    amount: number | null,
    firstDate: string,
    lastDate: string,
  ): DealStateRow => ({ dealId, stage, amount, firstDate, lastDate });

  it('gives what the per-run rows of the same runs give', () => {
    // RUN1 (06-01) and RUN2 (06-10) as states: one state per deal and unchanged stretch.
    const states: DealStateRow[] = [
      state('A', 'Lead Generation', 1_000, '2026-06-01', '2026-06-01'),
      state('A', 'Qualification', 1_000, '2026-06-10', '2026-06-10'),
      state('B', 'Contact', 2_000, '2026-06-01', '2026-06-10'),
      state('C', 'Proposal', 3_000, '2026-06-01', '2026-06-10'),
      state('D', 'Lead Generation', 4_000, '2026-06-10', '2026-06-10'),
      state('E', 'Closing', 5_000, '2026-06-01', '2026-06-01'),
      state('E', 'Closed Won', 5_000, '2026-06-10', '2026-06-10'),
      state('F', 'Qualification', 6_000, '2026-06-01', '2026-06-01'),
      state('G', 'Contact', 7_000, '2026-06-01', '2026-06-10'),
    ];
    const fromRows = deriveDealHistory([...rows('2026-06-01', RUN1), ...rows('2026-06-10', RUN2)], CURRENT, AS_OF);
    const fromStates = deriveDealHistory(
      { runDates: ['2026-06-01', '2026-06-10'], states: [...states].reverse() },
      CURRENT,
      AS_OF,
    );
    expect(fromStates).toEqual(fromRows);
  });

  it('ends a state reaching past asOf at the last run before asOf, and ignores states from asOf on', () => {
    const h = deriveDealHistory(
      {
        runDates: ['2026-06-01', '2026-06-08', '2026-06-22', '2026-06-29'],
        states: [
          state('A', 'Contact', 10, '2026-06-01', '2026-06-29'),
          state('B', 'Contact', 20, '2026-06-01', '2026-06-08'),
          state('B', 'Proposal', 20, '2026-06-22', '2026-06-29'),
        ],
      },
      [deal('A', 'Proposal', 10), deal('B', 'Closing', 20)],
      AS_OF,
    );
    expect(h.snapshotDates).toEqual(['2026-06-01', '2026-06-08', '2026-06-22']);
    expect(h.deals.get('A')?.stageEntry).toEqual({
      kind: 'observed',
      date: '2026-06-22',
      previousStage: 'Contact',
      previousSnapshotDate: '2026-06-08',
    });
    expect(h.transitions.map((t) => `${t.dealId} ${t.from}→${t.to} ${t.previousSnapshotDate}..${t.date}`)).toEqual([
      'A Contact→Proposal 2026-06-08..2026-06-22',
      'B Contact→Closing 2026-06-08..2026-06-22',
    ]);
    expect(h.trend.slice(-3).map((w) => [w.snapshotDate, w.stages.map((s) => `${s.stage} ${s.count}`)])).toEqual([
      ['2026-06-08', ['Contact 2']],
      [null, []],
      ['2026-06-22', ['Closing 1', 'Proposal 1']],
    ]);
  });

  it('treats a new state in the same stage (amount or close date changed) as no move, and sums each week with its amount', () => {
    const h = deriveDealHistory(
      {
        runDates: ['2026-06-01', '2026-06-02', '2026-06-08', '2026-06-15'],
        states: [
          state('A', 'Contact', 10, '2026-06-01', '2026-06-02'),
          state('A', 'Contact', 15, '2026-06-08', '2026-06-08'),
          state('A', 'Contact', 15, '2026-06-15', '2026-06-15'),
        ],
      },
      [deal('A', 'Contact', 30)],
      AS_OF,
    );
    expect(h.transitions).toEqual([]);
    expect(h.deals.get('A')).toEqual({
      stageEntry: { kind: 'unchangedSince', date: '2026-06-01' },
      stagesSeen: ['Contact'],
    });
    expect(h.trend.slice(-4).map((w) => [w.snapshotDate, w.stages])).toEqual([
      ['2026-06-02', [{ stage: 'Contact', count: 1, value: 10 }]],
      ['2026-06-08', [{ stage: 'Contact', count: 1, value: 15 }]],
      ['2026-06-15', [{ stage: 'Contact', count: 1, value: 15 }]],
      ['2026-06-22', [{ stage: 'Contact', count: 1, value: 30 }]],
    ]);
  });
});
