import { describe, expect, it } from 'vitest';
import type { ColumnSpec } from '../../shared/table.js';
import { createTranslator } from '../../shared/i18n/translator.js';
import { computePipelineMetrics, daysInStage, type PipelineMetrics } from './compute.js';
import { metricsConfigSchema, type MetricsConfigInput } from './config.js';
import { createDealCollector, type Deal } from './deal.js';
import type { KpiKey } from './definitions.js';
import type { Figure } from './figure.js';
import { deriveDealHistory, type SnapshotRow } from './history.js';

const D = (iso: string): Date => new Date(`${iso}T00:00:00Z`);
const AS_OF = D('2026-06-30');
const na = (reason: string): Figure => ({ kind: 'n/a', reason });
const missing = (key: string): Figure => ({ kind: 'input missing', reason: key });
const config = (input: Partial<MetricsConfigInput> = {}) =>
  metricsConfigSchema.parse({ from: 'Opportunities', ...input });

function deal(id: string, p: Partial<Deal> = {}): Deal {
  return {
    id,
    stage: 'Lead Generation',
    stageKnown: true,
    outcome: 'open',
    amount: null,
    probability: null,
    createdDate: D('2026-06-01'),
    closeDate: D('2026-08-31'),
    stageEnteredDate: null,
    account: null,
    owner: null,
    region: null,
    product: null,
    leadSource: null,
    customerType: null,
    customerTypeLabel: null,
    problems: [],
    ...p,
  };
}
const open = (id: string, stage: string, amount: number | null, p: Partial<Deal> = {}): Deal =>
  deal(id, { stage, amount, ...p });
const won = (
  id: string,
  amount: number | null,
  created: string | null,
  closed: string | null,
  p: Partial<Deal> = {},
): Deal =>
  deal(id, {
    stage: 'Closed Won',
    outcome: 'won',
    amount,
    createdDate: created === null ? null : D(created),
    closeDate: closed === null ? null : D(closed),
    ...p,
  });
const lost = (id: string, amount: number | null, created: string, closed: string, p: Partial<Deal> = {}): Deal =>
  deal(id, { stage: 'Closed Lost', outcome: 'lost', amount, createdDate: D(created), closeDate: D(closed), ...p });

const kpi = (m: PipelineMetrics, key: KpiKey): Figure | undefined => m.kpis.find((k) => k.key === key)?.value;
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const addDays = (iso: string, days: number): string =>
  new Date(D(iso).getTime() + days * 86_400_000).toISOString().slice(0, 10);

// Three wins of $100 in six days each, one $900 loss, four open deals worth $10,000: used by several rows below.
const BOOK: Deal[] = [
  won('W1', 100, '2026-03-01', '2026-03-07', { account: 'A', customerType: 'new', customerTypeLabel: 'New Business' }),
  won('W2', 100, '2026-03-01', '2026-03-07', { account: 'B', customerType: 'new', customerTypeLabel: 'New Business' }),
  won('W3', 100, '2026-03-01', '2026-03-07', {
    account: 'C',
    customerType: 'existing',
    customerTypeLabel: 'Existing Customer',
  }),
  lost('L1', 900, '2026-03-01', '2026-04-01'),
  open('O1', 'Lead Generation', 1_000, { probability: 0.1 }),
  open('O2', 'Qualification', 2_000, { probability: 0.2 }),
  open('O3', 'Contact', 3_000, { probability: 0.4 }),
  open('O4', 'Proposal', 4_000, { probability: 0.6 }),
];

describe('computePipelineMetrics: KPIs', () => {
  it.each<[string, Deal[], Partial<MetricsConfigInput>, KpiKey, Figure]>([
    // Worked examples of the reference.
    [
      'avg deal size: $1,000 over 10 won deals → $100',
      [50, 150, ...range(8).map(() => 100)].map((a, i) => won(`W${i}`, a, '2026-01-01', '2026-03-01')),
      {},
      'avgDealSize',
      100,
    ],
    [
      'avg sales cycle: 60 days over 10 won deals → 6 days',
      [2, 4, 6, 8, 10, 2, 4, 6, 8, 10].map((c, i) => won(`W${i}`, 10, '2026-03-01', addDays('2026-03-01', c))),
      {},
      'avgSalesCycle',
      6,
    ],
    [
      'CAC: $10,000 for 100 new customers → $100',
      range(100).map((i) =>
        won(`W${i}`, 10, '2026-01-01', '2026-02-01', {
          account: `Acct ${i}`,
          customerType: 'new',
          customerTypeLabel: 'New Business',
        }),
      ),
      { spend: 10_000 },
      'cac',
      100,
    ],
    [
      'lead target: $250 a day, 30-day period → $7,500',
      [],
      { leadTargetPerDay: 250, period: { lastDays: 30 } },
      'leadTarget',
      7_500,
    ],
    [
      'lead target: $250 a day, six 30-day months → $45,000',
      BOOK,
      { leadTargetPerDay: 250, period: { lastDays: 180 } },
      'leadTarget',
      45_000,
    ],
    // The book.
    ['win rate (count) 3 ÷ (3 + 1)', BOOK, {}, 'winRate', 0.75],
    ['win rate (byValue) $300 ÷ $1,200', BOOK, { winRate: 'byValue' }, 'winRate', 0.25],
    ['win rate (wonOverCreated) 3 ÷ 8 created', BOOK, { winRate: 'wonOverCreated' }, 'winRate', 0.375],
    ['avg deal size over closed deals', BOOK, { averageDealSize: 'closed' }, 'avgDealSize', 300],
    ['avg deal size over closed + open deals', BOOK, { averageDealSize: 'all' }, 'avgDealSize', 11_200 / 8],
    ['sales velocity (4 × $100 × 75%) ÷ 6 days = $50/day', BOOK, {}, 'salesVelocity', 50],
    ['open pipeline value', BOOK, {}, 'pipelineValue', 10_000],
    ['weighted pipeline', BOOK, {}, 'weightedPipelineValue', 100 + 400 + 1_200 + 2_400],
    ['open deals', BOOK, {}, 'openDeals', 4],
    ['coverage $10,000 ÷ $5,000 quota', BOOK, { quota: 5_000 }, 'coverage', 2],
    [
      'coverage of remaining quota $10,000 ÷ ($5,000 − $300)',
      BOOK,
      { quota: 5_000 },
      'coverageRemaining',
      10_000 / 4_700,
    ],
    ['remaining coverage once the quota is met', BOOK, { quota: 200 }, 'coverageRemaining', na('quota already met')],
    ['won revenue', BOOK, {}, 'wonRevenue', 300],
    ['new pipeline: everything created in the period', BOOK, {}, 'newPipeline', 11_200],
    ['CAC counts distinct new accounts only', BOOK, { spend: 500 }, 'cac', 250],
    [
      'CLV from given revenue × lifetime × margin',
      BOOK,
      { clv: { lifetimeYears: 3, revenuePerCustomerPerYear: 1_000, grossMargin: 0.5 } },
      'clv',
      1_500,
    ],
    [
      'CLV from won revenue per customer, annualised ($100 × 365/365 × 3 years)',
      BOOK,
      { clv: { lifetimeYears: 3 } },
      'clv',
      300,
    ],
    [
      'CLV annualises a 146-day period ($100 × 365/146 × 1 year)',
      BOOK,
      { clv: { lifetimeYears: 1 }, period: { lastDays: 146 } },
      'clv',
      250,
    ],
    [
      'CLV with no won deals in the period',
      BOOK,
      { clv: { lifetimeYears: 1 }, period: { from: '2026-04-19' } },
      'clv',
      na('no won deals'),
    ],
    [
      'lead conversion: 2 of 3 leads moved on (the lost deal has no history)',
      [
        open('A', 'Lead Generation', 1),
        open('B', 'Contact', 1),
        won('C', 1, '2026-06-01', '2026-06-10'),
        lost('L', 1, '2026-06-01', '2026-06-10'),
      ],
      {},
      'leadConversion',
      2 / 3,
    ],
    [
      'lead conversion with the first stage as lead stage (default)',
      [open('A', 'Qualification', 1), open('B', 'Contact', 1), won('C', 1, '2026-06-01', '2026-06-10')],
      {},
      'leadConversion',
      1,
    ],
    [
      'lead conversion with two lead stages',
      [open('A', 'Qualification', 1), open('B', 'Contact', 1), won('C', 1, '2026-06-01', '2026-06-10')],
      { leadStages: ['Lead Generation', 'Qualification'] },
      'leadConversion',
      2 / 3,
    ],
    [
      'unqualified deals with custom qualification stages',
      [
        open('A', 'Contact', 1, { createdDate: D('2026-01-01') }),
        open('B', 'Qualification', 1, { createdDate: D('2026-01-01') }),
      ],
      { qualifyWithinDays: 14, qualificationStages: ['Contact'] },
      'unqualifiedDeals',
      1,
    ],
    [
      'deals in unknown stages are never stale',
      [open('A', 'Negotiation', 1, { stageKnown: false, createdDate: D('2020-01-01') })],
      { staleAfterDays: 1 },
      'staleDeals',
      0,
    ],
    [
      'lead attainment: $3,750 of $7,500',
      [open('A', 'Contact', 3_750, { createdDate: D('2026-06-15') })],
      { leadTargetPerDay: 250, period: { lastDays: 30 } },
      'leadTargetAttainment',
      0.5,
    ],
    // Inputs missing: never 0.
    ['CAC without spend', BOOK, {}, 'cac', missing('metrics.spend')],
    [
      'CAC without a customer-type column',
      [won('W', 1, '2026-06-01', '2026-06-02')],
      { spend: 100 },
      'cac',
      na('no customer-type column'),
    ],
    ['CLV without inputs', BOOK, {}, 'clv', missing('metrics.clv.lifetimeYears')],
    ['coverage without quota', BOOK, {}, 'coverage', missing('metrics.quota')],
    ['lead target without a daily target', BOOK, {}, 'leadTarget', missing('metrics.leadTargetPerDay')],
    ['unqualified deals without a deadline', BOOK, {}, 'unqualifiedDeals', missing('metrics.qualifyWithinDays')],
    // Edge cases.
    [
      'no won deals: avg deal size',
      [lost('L', 10, '2026-03-01', '2026-04-01'), open('O', 'Contact', 5)],
      {},
      'avgDealSize',
      na('no won deals'),
    ],
    ['no won deals: sales cycle', [lost('L', 10, '2026-03-01', '2026-04-01')], {}, 'avgSalesCycle', na('no won deals')],
    [
      'no won deals: velocity passes the reason on',
      [lost('L', 10, '2026-03-01', '2026-04-01'), open('O', 'Contact', 5)],
      {},
      'salesVelocity',
      na('no won deals'),
    ],
    ['no won deals: win rate is a real 0', [lost('L', 10, '2026-03-01', '2026-04-01')], {}, 'winRate', 0],
    ['nothing closed: win rate', [open('O', 'Contact', 5)], {}, 'winRate', na('no deals closed in the period')],
    [
      'won deal without created date: sales cycle',
      [won('W', 10, null, '2026-06-01')],
      {},
      'avgSalesCycle',
      na('no won deals with created and close dates'),
    ],
    [
      'won deal without close date is outside any period',
      [won('W', 10, '2026-06-01', null)],
      {},
      'avgDealSize',
      na('no won deals'),
    ],
    ['won deal closed before the period', [won('W', 10, '2025-01-01', '2025-02-01')], {}, 'wonRevenue', 0],
    [
      'won deal closed before it was created is left out of the cycle',
      [won('W', 10, '2026-06-01', '2026-05-01'), won('V', 10, '2026-06-01', '2026-06-05')],
      {},
      'avgSalesCycle',
      4,
    ],
    [
      'open deals without probability',
      [open('O', 'Contact', 5)],
      {},
      'weightedPipelineValue',
      na('no probability values'),
    ],
    [
      'win rate by value when closed deals have no amounts',
      [won('W', null, '2026-06-01', '2026-06-05')],
      { winRate: 'byValue' },
      'winRate',
      na('no deals closed in the period'),
    ],
    ['empty view: pipeline value', [], {}, 'pipelineValue', na('no deals in the view')],
    ['empty view: win rate', [], {}, 'winRate', na('no deals in the view')],
    ['empty view keeps "input missing"', [], {}, 'cac', missing('metrics.spend')],
  ])('%s', (_name, deals, cfg, key, expected) => {
    const value = kpi(computePipelineMetrics(deals, config(cfg), AS_OF), key);
    if (typeof expected === 'number') expect(value).toBeCloseTo(expected, 9);
    else expect(value).toEqual(expected);
  });

  it('works on deals read from display strings', () => {
    const columns: ColumnSpec[] = [
      'Opportunity ID',
      'Stage',
      'Amount',
      'Created Date',
      'Close Date',
      'Is Won',
      'Is Closed',
    ].map((name) => ({ name, type: 'text', numFmt: undefined }));
    const collector = createDealCollector(columns, config());
    collector.observe(['OPP-1', 'Closed Won', '$45,047', '3/1/2026', '3/11/2026', 'True', 'True']);
    collector.observe(['OPP-2', 'Closed Won', '$4,953', '3/1/2026', '3/21/2026', 'True', 'True']);
    collector.observe(['OPP-3', 'Closed Lost', '(1,000)', '3/1/2026', '3/21/2026', 'False', 'True']);
    collector.observe(['OPP-4', 'Proposal', 'TBD', '3/1/2026', '9/21/2026', 'False', 'False']);
    const m = computePipelineMetrics(collector.deals(), config(), AS_OF);
    expect(kpi(m, 'avgDealSize')).toBe(25_000);
    expect(kpi(m, 'avgSalesCycle')).toBe(15);
    expect(kpi(m, 'winRate')).toBeCloseTo(2 / 3, 12);
    expect(kpi(m, 'pipelineValue')).toBe(0);
    expect(m.notes).toContain('1 deal with an unreadable amount (treated as blank)');
    expect(m.notes).toContain('1 open deal without an amount, counted with no value');
  });

  it('states the period and what each KPI rests on', () => {
    const m = computePipelineMetrics(BOOK, config(), AS_OF);
    expect(m.period).toEqual({ start: '2025-07-01', end: '2026-06-30', days: 365, label: '1 Jul 2025 – 30 Jun 2026' });
    const winRate = m.kpis.find((k) => k.key === 'winRate');
    expect(winRate).toMatchObject({
      label: 'Win rate',
      unit: 'percent',
      basis: { count: 4, of: 'deals closed in the period' },
      period: '1 Jul 2025 – 30 Jun 2026',
    });
    expect(m.kpis.find((k) => k.key === 'pipelineValue')).toMatchObject({
      period: 'as of 30 Jun 2026',
      basis: { count: 4, of: 'open deals' },
    });
    // The same metrics in French: the labels, periods and counts read in French, the numbers do not change.
    const fr = computePipelineMetrics(BOOK, config(), AS_OF, undefined, 'fr');
    expect(fr.period.label).toBe('1 juil. 2025 – 30 juin 2026');
    expect(fr.kpis.find((k) => k.key === 'winRate')).toMatchObject({
      label: 'Taux de réussite',
      value: kpi(m, 'winRate'),
      basis: { count: 4, of: 'affaires clôturées sur la période' },
    });
  });
});

describe('computePipelineMetrics: revenue growth', () => {
  const deals = [
    won('A', 1_000, '2026-04-01', '2026-05-10'),
    won('B', 1_500, '2026-04-01', '2026-06-10'),
    won('C', 700, '2026-04-01', '2026-07-10'),
  ];

  it('is a monthly series over the period, growth vs the month before', () => {
    const m = computePipelineMetrics(deals, config({ period: { from: '2026-04-01' } }), AS_OF);
    expect(m.monthlyRevenue.map((r) => [r.month, r.revenue, r.wonDeals, r.growth, r.toDate])).toEqual([
      ['2026-04', 0, 0, na('no revenue in Mar 2026'), false],
      ['2026-05', 1_000, 1, na('no revenue in Apr 2026'), false],
      ['2026-06', 1_500, 1, 0.5, false],
    ]);
    // asOf is the last day of June, so June is the last full month.
    expect(kpi(m, 'revenueGrowth')).toBe(0.5);
    expect(m.kpis.find((k) => k.key === 'revenueGrowth')?.period).toBe('Jun 2026 vs May 2026');
  });

  it('treats the month of asOf as to-date unless asOf is its last day', () => {
    const m = computePipelineMetrics(deals, config({ period: { from: '2026-04-01' } }), D('2026-06-15'));
    expect(m.monthlyRevenue.at(-1)).toMatchObject({ month: '2026-06', toDate: true, revenue: 1_500 });
    expect(kpi(m, 'revenueGrowth')).toEqual(na('no revenue in Apr 2026'));
  });
});

describe('computePipelineMetrics: the month to date', () => {
  // Won on 1 and 15 Oct, 1 and 15 Nov, 1 Dec 2026; 1 Oct is also the first day of the period.
  const deals = [
    won('O1', 2_000, '2026-09-01', '2026-10-01'),
    won('O15', 4_000, '2026-09-01', '2026-10-15'),
    won('N1', 1_000, '2026-09-01', '2026-11-01'),
    won('N15', 5_000, '2026-09-01', '2026-11-15'),
    won('D1', 1_500, '2026-09-01', '2026-12-01'),
  ];
  const cfg = config({ period: { from: '2026-10-01' } });
  const row = (m: PipelineMetrics, month: string) => m.monthlyRevenue.find((r) => r.month === month);

  it('on a month-end date, the month is whole and compared with the whole month before', () => {
    const m = computePipelineMetrics(deals, cfg, D('2026-11-30'));
    expect(m.monthlyRevenue.map((r) => r.month)).toEqual(['2026-10', '2026-11']);
    expect(row(m, '2026-11')).toMatchObject({
      toDate: false,
      revenue: 6_000,
      lastDay: D('2026-11-30'),
      comparedFrom: D('2026-10-01'),
      comparedTo: D('2026-10-31'),
      comparedRevenue: 6_000,
      growth: 0,
    });
    expect(kpi(m, 'revenueGrowth')).toBe(0);
    expect(m.kpis.find((k) => k.key === 'revenueGrowth')?.period).toBe('Nov 2026 vs Oct 2026');
  });

  it('on the first day of a month, the month to date (one day) is compared with the first day of the month before', () => {
    const m = computePipelineMetrics(deals, cfg, D('2026-12-01'));
    // Against the whole of November ($6,000) it would read -75 %; against 1 Nov ($1,000) it is +50 %.
    expect(row(m, '2026-12')).toMatchObject({
      toDate: true,
      revenue: 1_500,
      lastDay: D('2026-12-01'),
      comparedFrom: D('2026-11-01'),
      comparedTo: D('2026-11-01'),
      comparedRevenue: 1_000,
      growth: 0.5,
    });
    // The headline growth is the last whole month's, November against October.
    expect(kpi(m, 'revenueGrowth')).toBe(0);
  });

  it('mid-month, compares days 1 to asOf of both months; a shorter month before is compared whole', () => {
    const mid = computePipelineMetrics(deals, cfg, D('2026-11-14'));
    expect(row(mid, '2026-11')).toMatchObject({
      toDate: true,
      revenue: 1_000,
      comparedTo: D('2026-10-14'),
      comparedRevenue: 2_000,
      growth: -0.5,
    });
    const march = computePipelineMetrics(
      [won('F', 100, '2026-01-01', '2026-02-28'), won('M', 300, '2026-01-01', '2026-03-30')],
      cfg,
      D('2026-03-30'),
    );
    expect(march.monthlyRevenue.at(-1)).toMatchObject({
      month: '2026-03',
      toDate: true,
      comparedFrom: D('2026-02-01'),
      comparedTo: D('2026-02-28'),
      growth: 2,
    });
  });
});

describe('computePipelineMetrics: funnel and conversion', () => {
  const deals = [
    open('LG1', 'Lead Generation', 100),
    open('LG2', 'Lead Generation', 200),
    open('Q1', 'Qualification', 300, { probability: 0.2 }),
    open('P1', 'Proposal', 400, { probability: 0.5 }),
    won('W1', 500, '2026-06-01', '2026-06-20'),
    lost('L1', 600, '2026-06-01', '2026-06-20'),
  ];

  it('counts deals and value per stage and conversion to the next stage from current stages', () => {
    const m = computePipelineMetrics(deals, config(), AS_OF);
    expect(
      m.funnel.map((f) => [f.stage, f.deals, f.value, f.weightedValue, f.reached, f.movedOn, f.conversionToNext]),
    ).toEqual([
      ['Lead Generation', 2, 300, na('no probability values'), 5, 3, 0.6],
      ['Qualification', 1, 300, 60, 3, 2, 2 / 3],
      // An empty stage: zero deals, but deals passed through it.
      ['Contact', 0, 0, 0, 2, 2, 1],
      ['Proposal', 1, 400, 200, 2, 1, 0.5],
      ['Closing', 0, 0, 0, 1, 1, 1],
      ['Closed Won', 1, 500, na('no probability values'), null, null, null],
      ['Closed Lost', 1, 600, na('no probability values'), null, null, null],
    ]);
  });

  it('uses snapshot history to place lost deals and deals that moved back', () => {
    const snapshots: SnapshotRow[] = [
      { runDate: '2026-06-10', dealId: 'L1', stage: 'Contact', amount: 600, closeDate: null },
      { runDate: '2026-06-10', dealId: 'LG2', stage: 'Qualification', amount: 200, closeDate: null },
    ];
    const history = deriveDealHistory(snapshots, deals, AS_OF);
    const m = computePipelineMetrics(deals, config(), AS_OF, history);
    expect(m.funnel.slice(0, 5).map((f) => [f.stage, f.reached, f.movedOn])).toEqual([
      ['Lead Generation', 6, 5],
      ['Qualification', 5, 3],
      ['Contact', 3, 2],
      ['Proposal', 2, 1],
      ['Closing', 1, 1],
    ]);
    expect(kpi(m, 'leadConversion')).toBeCloseTo(5 / 6, 12);
    expect(m.transitions).toEqual([
      { from: 'Qualification', to: 'Lead Generation', direction: 'backward', moves: 1, value: 200 },
      { from: 'Contact', to: 'Closed Lost', direction: 'lost', moves: 1, value: 600 },
    ]);
  });

  it('gives n/a conversion for a stage no deal reached', () => {
    const m = computePipelineMetrics([open('A', 'Lead Generation', 1)], config(), AS_OF);
    expect(m.funnel[1]?.conversionToNext).toEqual(na('no deals reached this stage'));
  });
});

describe('computePipelineMetrics: stale and unqualified deals', () => {
  const deals = [
    open('A', 'Proposal', 5_000, { stageEnteredDate: D('2026-06-10'), owner: 'Ann' }),
    open('B', 'Qualification', 1_000, { createdDate: D('2026-05-01'), owner: 'Bob' }),
    open('C', 'Proposal', 9_000, { stageEnteredDate: D('2026-06-25') }),
    open('D', 'Contact', 9_000, { stageEnteredDate: D('2025-01-01') }),
    open('E', 'Lead Generation', 2_000, { createdDate: D('2026-06-01') }),
    open('F', 'Lead Generation', 3_000, { createdDate: D('2026-06-20') }),
    won('W', 1, '2026-01-01', '2026-02-01'),
  ];
  const cfg = config({ staleAfterDays: { Proposal: 10, Qualification: 20 }, qualifyWithinDays: 14 });

  it('lists open deals over their stage threshold, worst first, with where the days come from', () => {
    const m = computePipelineMetrics(deals, cfg, AS_OF);
    expect(m.staleDeals.map((s) => [s.id, s.daysInStage, s.threshold, s.basis])).toEqual([
      ['B', 60, 20, 'since created (no stage entered date)'],
      ['A', 20, 10, 'stage entered date'],
    ]);
    expect(kpi(m, 'staleDeals')).toBe(2);
    expect(kpi(m, 'staleValue')).toBe(6_000);
    expect(m.byOwner.rows.find((r) => r.group === 'Bob')?.stale).toBe(1);
  });

  it('applies one threshold to every open stage when given as a number', () => {
    const m = computePipelineMetrics(deals, config({ staleAfterDays: 25 }), AS_OF);
    expect(m.staleDeals.map((s) => s.id)).toEqual(['D', 'B', 'E']);
  });

  it('uses the stage entry seen in snapshots when the view has none', () => {
    const history = deriveDealHistory(
      [{ runDate: '2026-06-20', dealId: 'B', stage: 'Lead Generation', amount: 1_000, closeDate: null }],
      deals,
      AS_OF,
    );
    const m = computePipelineMetrics(deals, cfg, AS_OF, history);
    expect(m.staleDeals.map((s) => s.id)).toEqual(['A']);
    expect(m.stageAgeBases).toMatchObject({ stageEntered: 3, snapshots: 1 });
  });

  it('lists deals still unqualified past the deadline, oldest first', () => {
    const m = computePipelineMetrics(deals, cfg, AS_OF);
    expect(m.qualificationStages).toEqual(['Lead Generation', 'Qualification']);
    expect(m.unqualifiedDeals?.map((u) => [u.id, u.daysSinceCreated])).toEqual([
      ['B', 60],
      ['E', 29],
    ]);
    expect(kpi(m, 'unqualifiedDeals')).toBe(2);
    expect(kpi(m, 'unqualifiedValue')).toBe(3_000);
  });
});

describe('daysInStage', () => {
  const asOfDay = Math.floor(AS_OF.getTime() / 86_400_000);
  it.each<[string, Deal, SnapshotRow[], { days: number; source: string; basis: string } | null]>([
    [
      'stage entered column',
      open('X', 'Contact', 1, { stageEnteredDate: D('2026-06-20') }),
      [],
      { days: 10, source: 'stageEntered', basis: 'stage entered date' },
    ],
    [
      'created date when nothing else',
      open('X', 'Contact', 1, { createdDate: D('2026-06-01') }),
      [],
      { days: 29, source: 'sinceCreated', basis: 'since created (no stage entered date)' },
    ],
    [
      'observed stage change',
      open('X', 'Contact', 1),
      [
        { runDate: '2026-06-22', dealId: 'X', stage: 'Qualification', amount: 1, closeDate: null },
        { runDate: '2026-06-23', dealId: 'X', stage: 'Contact', amount: 1, closeDate: null },
      ],
      {
        days: 7,
        source: 'snapshots',
        basis: 'snapshots: moved from Qualification between 22 Jun 2026 and 23 Jun 2026',
      },
    ],
    [
      'unchanged since the first snapshot, created unknown: at least',
      open('X', 'Contact', 1, { createdDate: null }),
      [{ runDate: '2026-06-10', dealId: 'X', stage: 'Contact', amount: 1, closeDate: null }],
      { days: 20, source: 'atLeast', basis: 'at least (stage unchanged in snapshots since 10 Jun 2026)' },
    ],
    [
      'unchanged since the first snapshot, created known: since created',
      open('X', 'Contact', 1, { createdDate: D('2026-05-31') }),
      [{ runDate: '2026-06-10', dealId: 'X', stage: 'Contact', amount: 1, closeDate: null }],
      { days: 30, source: 'sinceCreated', basis: 'since created (stage unchanged in snapshots since 10 Jun 2026)' },
    ],
    ['nothing known', open('X', 'Contact', 1, { createdDate: null }), [], null],
  ])('%s', (_name, d, snapshots, expected) => {
    const history = snapshots.length === 0 ? undefined : deriveDealHistory(snapshots, [d], AS_OF);
    expect(daysInStage(d, asOfDay, history, createTranslator('en'))).toEqual(expected);
  });
});

describe('daysInStage on the first run', () => {
  it("treats a deal seen only in today's run as having no history", () => {
    const d = open('X', 'Contact', 1, { createdDate: D('2026-06-01') });
    const history = deriveDealHistory([], [d], AS_OF);
    expect(daysInStage(d, Math.floor(AS_OF.getTime() / 86_400_000), history, createTranslator('en'))).toEqual({
      days: 29,
      source: 'sinceCreated',
      basis: 'since created (no stage entered date)',
    });
  });
});

describe('computePipelineMetrics: breakdowns', () => {
  const deals = [
    won('W1', 20_000, '2026-03-01', '2026-04-01', {
      product: 'Analytics Cloud',
      owner: 'Ann',
      region: 'EMEA',
      customerType: 'new',
      customerTypeLabel: 'New Business',
      leadSource: 'Web',
    }),
    lost('L1', 60_000, '2026-03-01', '2026-04-01', {
      product: 'Analytics Cloud',
      owner: 'Ann',
      region: 'EMEA',
      customerType: 'existing',
      customerTypeLabel: 'Existing Customer',
    }),
    won('W2', 120_000, '2026-03-01', '2026-04-01', {
      product: 'Data Platform',
      owner: 'Bob',
      region: 'NA',
      customerType: 'existing',
      customerTypeLabel: 'Existing Customer',
    }),
    open('O1', 'Contact', 5_000, { product: 'Data Platform', owner: 'Bob', region: null }),
    open('O2', 'Contact', null, { product: 'Support Plus', owner: 'Bob' }),
  ];

  it('gives per product: created, closed, won value and win rate (mistake 8)', () => {
    const m = computePipelineMetrics(deals, config(), AS_OF);
    expect(
      m.byProduct.rows.map((r) => [r.group, r.created, r.closed, r.won, r.wonValue, r.winRate, r.open, r.openValue]),
    ).toEqual([
      ['Data Platform', 2, 1, 1, 120_000, 1, 1, 5_000],
      ['Analytics Cloud', 2, 2, 1, 20_000, 0.5, 0, 0],
      ['Support Plus', 1, 0, 0, 0, na('no deals closed in the period'), 1, 0],
    ]);
  });

  it('breaks down by region (blank last), deal-size band (band order), customer type and lead source', () => {
    const m = computePipelineMetrics(deals, config(), AS_OF);
    const groups = Object.fromEntries(m.breakdowns.map((b) => [b.dimension, b.rows.map((r) => r.group)]));
    expect(groups).toEqual({
      Region: ['NA', 'EMEA', '(blank)'],
      'Deal size': [
        'under $10,000',
        '$10,000 to under $50,000',
        '$50,000 to under $100,000',
        '$100,000 and over',
        '(no amount)',
      ],
      Customer: ['New customers', 'Existing customers', '(blank)'],
      'Lead source': ['Web', '(blank)'],
    });
    const existing = m.breakdowns
      .find((b) => b.dimension === 'Customer')
      ?.rows.find((r) => r.group === 'Existing customers');
    expect(existing).toMatchObject({ won: 1, wonValue: 120_000, winRate: 0.5 });
  });

  it('marks a dimension unavailable when the view has no such column', () => {
    const m = computePipelineMetrics([open('A', 'Contact', 1)], config(), AS_OF);
    expect(m.byOwner).toEqual({ key: 'owner', dimension: 'Owner', available: false, rows: [] });
  });
});

describe('computePipelineMetrics: lead target series', () => {
  it('accumulates the daily target against new pipeline, day by day for short periods', () => {
    const deals = [
      open('A', 'Contact', 1_000, { createdDate: D('2026-06-28') }),
      open('B', 'Contact', 500, { createdDate: D('2026-06-30') }),
      open('C', 'Contact', 9, { createdDate: D('2026-05-01') }),
    ];
    const m = computePipelineMetrics(deals, config({ leadTargetPerDay: 250, period: { lastDays: 3 } }), AS_OF);
    expect(m.leadTarget.granularity).toBe('day');
    expect(
      m.leadTarget.rows.map((r) => [
        r.date.toISOString().slice(0, 10),
        r.daysElapsed,
        r.newPipeline,
        r.cumulativeActual,
        r.cumulativeTarget,
        r.gap,
        r.attainment,
      ]),
    ).toEqual([
      ['2026-06-28', 1, 1_000, 1_000, 250, 750, 4],
      ['2026-06-29', 2, 0, 1_000, 500, 500, 2],
      ['2026-06-30', 3, 500, 1_500, 750, 750, 2],
    ]);
  });

  it('goes week by week for long periods, the last week possibly short', () => {
    const m = computePipelineMetrics([], config({ leadTargetPerDay: 250, period: { lastDays: 180 } }), AS_OF);
    expect(m.leadTarget.granularity).toBe('week');
    expect(m.leadTarget.rows).toHaveLength(26);
    expect(m.leadTarget.rows.at(-1)).toMatchObject({ daysElapsed: 180, cumulativeTarget: 45_000, date: AS_OF });
    expect(m.leadTarget.rows[3]).toMatchObject({ daysElapsed: 28, cumulativeTarget: 7_000 });
  });
});
