import { describe, expect, it } from 'vitest';
import type { SheetSpec } from '../../shared/sheet-spec.js';
import type { CellValue, ColumnSpec, TypedRow } from '../../shared/table.js';
import { computePipelineMetrics } from './compute.js';
import { metricsConfigSchema, type MetricsConfigInput } from './config.js';
import { createDealCollector } from './deal.js';
import { deriveDealHistory, type SnapshotRow } from './history.js';
import { buildMetricSheets, KPI_DEFINED_NAMES } from './sheets.js';

const D = (iso: string): Date => new Date(`${iso}T00:00:00Z`);
const HEADER = [
  'Opportunity ID',
  'Account',
  'Owner',
  'Region',
  'Product',
  'Type',
  'Lead Source',
  'Stage',
  'Amount',
  'Probability',
  'Created Date',
  'Close Date',
  'Stage Entered Date',
  'Is Won',
  'Is Closed',
];
const COLUMNS: ColumnSpec[] = HEADER.map((name) => ({ name, type: 'text', numFmt: undefined }));
const config = (input: Partial<MetricsConfigInput> = {}) =>
  metricsConfigSchema.parse({ from: 'Opportunities', ...input });

/** mulberry32: deterministic, so a failing seed can be replayed. */
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

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)] as T;
}

const STAGES = [
  'Lead Generation',
  'Qualification',
  'Contact',
  'Proposal',
  'Closing',
  'Closed Won',
  'Closed Lost',
  'Negotiation',
  '',
  'closing',
];
const AMOUNTS: readonly CellValue[] = [
  0,
  -500,
  1e308,
  1.7e308,
  45047,
  '$45,047',
  '(1,200)',
  'abc',
  '',
  null,
  0.5,
  '$1.2M',
  Number.MAX_SAFE_INTEGER,
];
const DATES: readonly CellValue[] = [
  null,
  '',
  'garbage',
  D('2026-06-30'),
  D('2026-06-01'),
  D('2025-01-01'),
  D('2030-01-01'),
  '6/15/2026',
  '2026-02-30',
  D('1900-01-01'),
];
const BOOLS: readonly CellValue[] = [true, false, 'True', 'False', null, 'maybe', 1, 0];
const PROBS: readonly CellValue[] = [null, 0, 1, 0.4, 40, '40%', 'high', 250];

function randomRows(r: () => number, n: number): TypedRow[] {
  return Array.from({ length: n }, () => [
    r() < 0.05 ? null : `OPP-${Math.floor(r() * n * 1.2)}`,
    pick(r, ['Acme', 'Initech', null, 'Hooli']),
    pick(r, ['Ann', 'Bob', null]),
    pick(r, ['EMEA', 'NA', null]),
    pick(r, ['Analytics Cloud', 'Data Platform', null]),
    pick(r, ['New Business', 'Existing Customer', 'Partner', null]),
    pick(r, ['Web', 'Outbound', null]),
    pick(r, STAGES),
    pick(r, AMOUNTS),
    pick(r, PROBS),
    pick(r, DATES),
    pick(r, DATES),
    pick(r, DATES),
    pick(r, BOOLS),
    pick(r, BOOLS),
  ]);
}

function randomConfig(r: () => number): Partial<MetricsConfigInput> {
  return {
    winRate: pick(r, ['count', 'byValue', 'wonOverCreated'] as const),
    averageDealSize: pick(r, ['won', 'closed', 'all'] as const),
    period:
      r() < 0.5
        ? { lastDays: pick(r, [1, 30, 365, 1000]) }
        : { from: pick(r, ['2026-06-30', '2026-01-01', '2031-01-01']) },
    staleAfterDays: r() < 0.5 ? pick(r, [1, 30]) : { Proposal: 5, Qualification: 1 },
    ...(r() < 0.5 ? { quota: pick(r, [1, 1e-300, 5e5]) } : {}),
    ...(r() < 0.5 ? { spend: pick(r, [0, 1e308, 10_000]) } : {}),
    ...(r() < 0.5 ? { leadTargetPerDay: pick(r, [0, 250, 1e307]) } : {}),
    ...(r() < 0.5 ? { qualifyWithinDays: 14 } : {}),
    ...(r() < 0.5
      ? { clv: { lifetimeYears: pick(r, [1, 1e308]), ...(r() < 0.5 ? { revenuePerCustomerPerYear: 1e308 } : {}) } }
      : {}),
  };
}

function assertWellFormed(specs: readonly SheetSpec[], context: string): void {
  const names = new Set<string>();
  for (const spec of specs) {
    for (const [r, row] of spec.rows.entries()) {
      expect(row.length, `${context} ${spec.name} row ${r} width`).toBe(spec.columns.length);
      for (const [c, cell] of row.entries()) {
        const where = `${context} ${spec.name}[${r}][${c}] = ${String(cell)}`;
        if (typeof cell === 'number') expect(Number.isFinite(cell), where).toBe(true);
        if (cell instanceof Date) expect(Number.isNaN(cell.getTime()), where).toBe(false);
        if (typeof cell === 'string') expect(cell, where).not.toMatch(/NaN|Infinity|undefined|\[object/);
      }
    }
    for (const i of spec.dataBars ?? []) expect(i).toBeLessThan(spec.columns.length);
    if (spec.cellFormats !== undefined) {
      expect(spec.cellFormats.length, `${context} ${spec.name} cellFormats rows`).toBeLessThanOrEqual(spec.rows.length);
      for (const formats of spec.cellFormats) expect(formats?.length ?? 0).toBeLessThanOrEqual(spec.columns.length);
    }
    for (const n of spec.definedNames ?? []) {
      expect(names.has(n.name), `${context} duplicate name ${n.name}`).toBe(false);
      names.add(n.name);
      expect(spec.rows[n.row]?.[n.column], `${context} ${n.name} points at a cell`).not.toBeUndefined();
    }
  }
}

describe('buildMetricSheets: no NaN or Infinity anywhere (random inputs)', () => {
  it.each(Array.from({ length: 60 }, (_, i) => i + 1))('seed %i', (seed) => {
    const r = random(seed);
    const cfg = config(randomConfig(r));
    const collector = createDealCollector(COLUMNS, cfg);
    for (const row of randomRows(r, Math.floor(r() * 80))) collector.observe(row);
    const deals = collector.deals();
    const asOf = pick(r, [D('2026-06-30'), D('2026-06-15'), D('2024-02-29')]);
    const snapshots: SnapshotRow[] =
      r() < 0.5
        ? []
        : deals.slice(0, 30).map((d, i) => ({
            runDate: pick(r, ['2026-05-01', '2026-06-10', '2026-06-29']),
            dealId: d.id,
            stage: pick(r, STAGES),
            amount: i % 3 === 0 ? null : 1e308,
            closeDate: null,
          }));
    const history = r() < 0.3 ? undefined : deriveDealHistory(snapshots, deals, asOf);
    const specs = buildMetricSheets(computePipelineMetrics(deals, cfg, asOf, history), cfg);
    assertWellFormed(specs, `seed ${seed}`);
  });
});

describe('buildMetricSheets', () => {
  const rows: TypedRow[] = [
    [
      'O1',
      'Acme',
      'Ann',
      'EMEA',
      'Analytics Cloud',
      'New Business',
      'Web',
      'Closed Won',
      1_000,
      1,
      D('2026-03-01'),
      D('2026-03-11'),
      null,
      true,
      true,
    ],
    [
      'O2',
      'Hooli',
      'Bob',
      'NA',
      'Data Platform',
      'Existing Customer',
      'Web',
      'Closed Lost',
      3_000,
      0,
      D('2026-03-01'),
      D('2026-04-01'),
      null,
      false,
      true,
    ],
    [
      'O3',
      'Initech',
      'Ann',
      'EMEA',
      'Data Platform',
      'New Business',
      'Outbound',
      'Proposal',
      5_000,
      0.6,
      D('2026-05-01'),
      D('2026-08-01'),
      D('2026-05-10'),
      false,
      false,
    ],
  ];
  const cfg = config({ staleAfterDays: { Proposal: 10 }, definitions: { winRate: 'Our own definition' } });
  const collector = createDealCollector(COLUMNS, cfg);
  for (const row of rows) collector.observe(row);
  const metrics = computePipelineMetrics(collector.deals(), cfg, D('2026-06-30'));
  const specs = buildMetricSheets(metrics, cfg);
  const byName = new Map(specs.map((s) => [s.name, s]));

  it('produces the sheets in reading order', () => {
    expect(specs.map((s) => s.name)).toEqual([
      'Summary',
      'Funnel',
      'Stale deals',
      'Unqualified leads',
      'By owner',
      'By product',
      'Breakdowns',
      'Monthly revenue',
      'Lead target',
      'Trend',
    ]);
  });

  it('puts every KPI value in one Value column, each cell in its own format, with workbook names on them', () => {
    const summary = byName.get('Summary');
    const valueColumn = summary?.columns.findIndex((c) => c.header === 'Value');
    expect(summary?.columns.map((c) => c.header)).toEqual([
      'KPI',
      'Value',
      'Unit',
      'Definition',
      'Period',
      'Based on',
      'Counting',
    ]);
    const named = (name: string): { row: number; column: number } | undefined =>
      summary?.definedNames?.find((x) => x.name === name);
    const cell = (name: string): CellValue | undefined => {
      const n = named(name);
      return n === undefined ? undefined : summary?.rows[n.row]?.[n.column];
    };
    const formatOf = (name: string): string | undefined => {
      const n = named(name);
      return n === undefined ? undefined : summary?.cellFormats?.[n.row]?.[n.column];
    };
    expect(summary?.definedNames?.every((n) => n.column === valueColumn)).toBe(true);
    expect(cell('WinRate')).toBe(0.5);
    expect(formatOf('WinRate')).toBe('percent');
    expect(cell('AvgDealSize')).toBe(1_000);
    expect(formatOf('AvgDealSize')).toBe('currency');
    expect(cell('AvgSalesCycle')).toBe(10);
    expect(formatOf('AvgSalesCycle')).toBe('days');
    expect(cell('OpenDeals')).toBe(1);
    expect(formatOf('OpenDeals')).toBe('integer');
    expect(cell('PipelineValue')).toBe(5_000);
    expect(cell('SalesVelocity')).toBe((1 * 1_000 * 0.5) / 10);
    expect(formatOf('SalesVelocity')).toBe('currency');
    // KPIs whose input is not configured are not in the table (so they have no name): the Value column holds
    // numbers only, and a "Not configured" block under the table names the setting each one needs.
    const notConfigured = ['PipelineCoverage', 'LeadTarget', 'AcquisitionCost', 'LifetimeValue'];
    for (const name of notConfigured) expect(named(name), name).toBeUndefined();
    expect(summary?.definedNames?.map((n) => n.name).sort()).toEqual(
      Object.values(KPI_DEFINED_NAMES)
        .filter((n) => !notConfigured.includes(n))
        .sort(),
    );
    const values = summary?.rows.map((r) => r[valueColumn ?? -1]) ?? [];
    expect(values.every((v) => typeof v === 'number' || v === 'n/a')).toBe(true);
    expect(values.filter((v) => typeof v === 'number').length).toBeGreaterThan(10);
    expect(summary?.after?.[0]).toMatchObject({
      header: ['Not configured', 'To show it, add to the metrics settings'],
      spanFrom: 1,
      rows: [
        ['Pipeline coverage and Coverage of remaining quota', 'metrics.quota: the revenue quota for the period'],
        [
          'Lead-generation target and Lead target attainment',
          'metrics.leadTargetPerDay: the target of new pipeline value created per day',
        ],
        [
          'Unqualified past deadline and Unqualified value past deadline',
          'metrics.qualifyWithinDays: the days after creation by which a deal must have left the qualification stages',
        ],
        ['Customer acquisition cost', 'metrics.spend: the sales and marketing spend in the period'],
        [
          'Customer lifetime value',
          'metrics.clv.lifetimeYears: the expected customer lifetime in years (metrics.clv.lifetimeYears)',
        ],
      ],
    });
    // Each name points at its own KPI's row.
    const winRateRow = summary?.rows.findIndex((r) => r[0] === 'Win rate');
    expect(named('WinRate')?.row).toBe(winRateRow);
    // Only the Value column has per-cell formats; every other cell keeps its column's.
    expect(
      summary?.cellFormats?.flatMap((r) => (r ?? []).filter((f, i) => i !== valueColumn && f !== undefined)),
    ).toEqual([]);
  });

  it('prints the configured definition, the unit, the period and the count each KPI rests on', () => {
    const summary = byName.get('Summary');
    const header = summary?.columns.map((c) => c.header);
    const row = summary?.rows.find((r) => r[0] === 'Win rate');
    expect(row?.[header?.indexOf('Definition') ?? -1]).toBe('Our own definition');
    expect(row?.[header?.indexOf('Unit') ?? -1]).toBe('%');
    expect(row?.[header?.indexOf('Period') ?? -1]).toBe('1 Jul 2025 – 30 Jun 2026');
    expect(row?.[header?.indexOf('Based on') ?? -1]).toBe(2);
    const cycle = summary?.rows.find((r) => r[0] === 'Average sales cycle');
    expect(cycle?.[header?.indexOf('Definition') ?? -1]).toMatch(/close date − created date/);
  });

  it('draws the funnel with data bars on count and value', () => {
    const funnel = byName.get('Funnel');
    expect(funnel?.dataBars?.map((i) => funnel.columns[i]?.header)).toEqual(['Deals', 'Value']);
    expect(funnel?.rows.find((r) => r[0] === 'Proposal')?.slice(0, 3)).toEqual(['Proposal', 1, 5_000]);
  });

  it('says how many lost deals conversion leaves out', () => {
    expect(metrics.conversionUnknownLost).toBe(1);
    expect(byName.get('Funnel')?.notes).toContain(
      '1 lost deal left out of conversion (no snapshot shows which stage it reached; snapshot history fills this in over time).',
    );
  });

  it('lists stale deals with owner, stage, days in stage and amount', () => {
    const stale = byName.get('Stale deals');
    expect(stale?.rows).toEqual([
      ['O3', 'Initech', 'Ann', 'Proposal', 51, 10, 41, 5_000, D('2026-08-01'), 'stage entered date'],
    ]);
  });

  it('shows per product: created, closed, won value and win rate', () => {
    const product = byName.get('By product');
    expect(product?.columns.map((c) => c.header)).toEqual([
      'Product',
      'Deals created',
      'Open deals',
      'Open value',
      'Deals closed',
      'Won',
      'Won value',
      'Win rate',
      'Avg deal size',
      'Stale deals',
    ]);
    expect(product?.rows).toEqual([
      ['Analytics Cloud', 1, 0, 0, 1, 1, 1_000, 1, 1_000, 0],
      ['Data Platform', 2, 1, 5_000, 1, 0, 0, 0, 'n/a (no won deals)', 1],
    ]);
  });

  it('says what is missing instead of showing empty tables', () => {
    expect(byName.get('Unqualified leads')).toMatchObject({
      rows: [],
      asTable: false,
      notes: [expect.stringMatching(/^Not configured: add metrics\.qualifyWithinDays/)],
    });
    expect(byName.get('Trend')).toMatchObject({
      rows: [],
      asTable: false,
      notes: [expect.stringMatching(/No snapshot history yet/)],
    });
    // No target: the target columns are left out rather than repeating "input missing" on every row.
    const target = byName.get('Lead target');
    expect(target?.columns.map((c) => c.header)).toEqual([
      'Week ending',
      'Days elapsed',
      'New pipeline',
      'Cumulative actual',
    ]);
    expect(target?.notes?.[0]).toMatch(/^Not configured: add metrics\.leadTargetPerDay/);
    expect(target?.rows.length).toBeGreaterThan(0);
  });

  it('compares new pipeline with the lead-generation target when one is set', () => {
    const withTarget = config({ leadTargetPerDay: 250 });
    const c = createDealCollector(COLUMNS, withTarget);
    for (const row of rows) c.observe(row);
    const target = buildMetricSheets(computePipelineMetrics(c.deals(), withTarget, D('2026-06-30')), withTarget).find(
      (s) => s.name === 'Lead target',
    );
    const header = target?.columns.map((col) => col.header) ?? [];
    expect(header).toEqual([
      'Week ending',
      'Days elapsed',
      'New pipeline',
      'Cumulative actual',
      'Cumulative target',
      'Gap',
      'Attainment',
    ]);
    const first = target?.rows[0];
    expect(first?.[header.indexOf('Cumulative target')]).toBe(250 * Number(first?.[header.indexOf('Days elapsed')]));
  });

  it('fills the Trend with one row per week and a Stage moves sheet from history', () => {
    const snapshots: SnapshotRow[] = [
      { runDate: '2026-06-15', dealId: 'O3', stage: 'Contact', amount: 4_000, closeDate: '2026-08-01' },
    ];
    const history = deriveDealHistory(snapshots, collector.deals(), D('2026-06-30'));
    const withHistory = buildMetricSheets(
      computePipelineMetrics(collector.deals(), cfg, D('2026-06-30'), history),
      cfg,
    );
    const trend = withHistory.find((s) => s.name === 'Trend');
    expect(trend?.columns.map((c) => c.header).slice(0, 4)).toEqual([
      'Week starting',
      'Snapshot',
      'Lead Generation deals',
      'Lead Generation value',
    ]);
    expect(trend?.rows).toHaveLength(12);
    const contact = trend?.columns.findIndex((c) => c.header === 'Contact value') ?? -1;
    const proposal = trend?.columns.findIndex((c) => c.header === 'Proposal value') ?? -1;
    expect(trend?.rows.at(-3)?.[1]).toEqual(D('2026-06-15'));
    expect(trend?.rows.at(-2)?.[1]).toBe('n/a (no run that week)');
    expect(trend?.rows.at(-3)?.[contact]).toBe(4_000);
    expect(trend?.rows.at(-1)?.[proposal]).toBe(5_000);
    expect(trend?.rows.at(-1)?.slice(-2)).toEqual([1, 5_000]);
    expect(trend?.rows[0]?.[1]).toBe('n/a (no run that week)');
    expect(withHistory.find((s) => s.name === 'Stage moves')?.rows).toEqual([
      ['Contact', 'Proposal', 'forward', 1, 5_000],
    ]);
  });

  it('turns an empty view into n/a values with their reason', () => {
    const empty = buildMetricSheets(computePipelineMetrics([], cfg, D('2026-06-30')), cfg);
    const summary = empty.find((s) => s.name === 'Summary');
    // The Value column says n/a; the reason is a note under the table, once for every KPI it applies to.
    expect(summary?.rows.find((r) => r[0] === 'Win rate')?.[1]).toBe('n/a');
    expect(summary?.notes).toContainEqual(
      expect.stringMatching(/^n\/a: Open pipeline value, .*Win rate.*: no deals in the view\.$/),
    );
    assertWellFormed(empty, 'empty');
  });
});
