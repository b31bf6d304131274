import { describe, expect, it } from 'vitest';
import { SourceError } from '../../shared/errors.js';
import type { ColumnSpec, ColumnType, TypedRow } from '../../shared/table.js';
import { metricsConfigSchema, type MetricsConfigInput } from './config.js';
import { createDealCollector, describeDealQuality } from './deal.js';

const col = (name: string, type: ColumnType = 'text'): ColumnSpec => ({ name, type, numFmt: undefined });
const DEMO_COLUMNS: ColumnSpec[] = [
  col('Opportunity ID'),
  col('Account'),
  col('Owner'),
  col('Region'),
  col('Product'),
  col('Type'),
  col('Lead Source'),
  col('Stage'),
  col('Amount', 'currency'),
  col('Probability', 'percent'),
  col('Created Date', 'date'),
  col('Close Date', 'date'),
  col('Stage Entered Date', 'date'),
  col('Is Won', 'boolean'),
  col('Is Closed', 'boolean'),
];
const config = (input: Partial<MetricsConfigInput> = {}) =>
  metricsConfigSchema.parse({ from: 'Opportunities', ...input });
const date = (iso: string): Date => new Date(`${iso}T00:00:00Z`);

function demoRow(over: Partial<Record<string, TypedRow[number]>> = {}): TypedRow {
  const base: Record<string, TypedRow[number]> = {
    'Opportunity ID': 'OPP-000001',
    Account: 'Acme Corporation',
    Owner: 'Sarah Chen',
    Region: 'NA',
    Product: 'Data Platform',
    Type: 'New Business',
    'Lead Source': 'Web',
    Stage: 'Proposal',
    Amount: 45047,
    Probability: 0.6,
    'Created Date': date('2026-09-01'),
    'Close Date': date('2026-12-15'),
    'Stage Entered Date': date('2026-10-20'),
    'Is Won': false,
    'Is Closed': false,
    ...over,
  };
  return DEMO_COLUMNS.map((c) => base[c.name] ?? null);
}

describe('createDealCollector', () => {
  it('reads typed demo rows into deals', () => {
    const c = createDealCollector(DEMO_COLUMNS, config());
    c.observe(demoRow());
    expect(c.deals()).toEqual([
      {
        id: 'OPP-000001',
        stage: 'Proposal',
        stageKnown: true,
        outcome: 'open',
        amount: 45047,
        probability: 0.6,
        createdDate: date('2026-09-01'),
        closeDate: date('2026-12-15'),
        stageEnteredDate: date('2026-10-20'),
        account: 'Acme Corporation',
        owner: 'Sarah Chen',
        region: 'NA',
        product: 'Data Platform',
        leadSource: 'Web',
        customerType: 'new',
        customerTypeLabel: 'New Business',
        problems: [],
      },
    ]);
  });

  it('tolerates display strings for amounts, booleans, dates and probabilities', () => {
    const c = createDealCollector(DEMO_COLUMNS, config());
    c.observe(
      demoRow({
        Amount: '$45,047',
        'Is Won': 'True',
        'Is Closed': 'True',
        Probability: '100%',
        'Close Date': '11/27/2026',
        Stage: 'closed won',
        Type: 'Existing Customer',
      }),
    );
    const [d] = c.deals();
    expect(d).toMatchObject({
      amount: 45047,
      outcome: 'won',
      probability: 1,
      closeDate: date('2026-11-27'),
      stage: 'Closed Won',
      stageKnown: true,
      customerType: 'existing',
    });
  });

  it('counts bad values instead of throwing, and leaves them blank', () => {
    const c = createDealCollector(DEMO_COLUMNS, config());
    c.observe(demoRow({ Amount: 'call me', 'Created Date': 'someday', 'Is Won': 'perhaps' }));
    c.observe(demoRow({ 'Opportunity ID': 'OPP-2', Amount: 'n/a' }));
    c.observe(demoRow({ 'Opportunity ID': null }));
    c.observe(demoRow({ 'Opportunity ID': 'OPP-2', Stage: 'Negotiation', Type: 'Partner' }));
    const deals = c.deals();
    expect(deals).toHaveLength(3);
    expect(deals[0]).toMatchObject({
      amount: null,
      createdDate: null,
      outcome: 'open',
      problems: ['won', 'amount', 'createdDate'],
    });
    expect(deals[2]).toMatchObject({
      stage: 'Negotiation',
      stageKnown: false,
      customerType: null,
      customerTypeLabel: 'Partner',
    });
    expect(c.quality()).toEqual({
      rows: 4,
      rowsWithoutId: 1,
      duplicateIds: 1,
      badValues: { won: 1, amount: 2, createdDate: 1 },
      unknownStages: { Negotiation: 1 },
      unrecognisedCustomerTypes: { Partner: 1 },
      absentFields: [],
    });
  });

  it.each<[string, Partial<MetricsConfigInput>, Record<string, TypedRow[number]>, 'open' | 'won' | 'lost']>([
    ['flags: won', {}, { 'Is Won': true, 'Is Closed': true, Stage: 'Closing' }, 'won'],
    ['flags: lost', {}, { 'Is Won': false, 'Is Closed': true, Stage: 'Closing' }, 'lost'],
    ['flags: open even in a won-named stage', {}, { 'Is Won': false, 'Is Closed': false, Stage: 'Closed Won' }, 'open'],
    ['won flag implies closed', {}, { 'Is Won': true, 'Is Closed': false }, 'won'],
    ['blank flags fall back to stage names', {}, { 'Is Won': null, 'Is Closed': null, Stage: 'Closed Lost' }, 'lost'],
    [
      'no flag columns: won stage',
      { columns: { won: null, closed: null } },
      { Stage: 'Closed Won', 'Is Won': false },
      'won',
    ],
    ['no flag columns: lost stage', { columns: { won: null, closed: null } }, { Stage: 'Closed Lost' }, 'lost'],
    ['no flag columns: open stage', { columns: { won: null, closed: null } }, { Stage: 'Contact' }, 'open'],
    [
      'custom won stage names',
      {
        stages: ['New', 'Demo', 'Signed', 'Dropped'],
        wonStages: ['Signed'],
        lostStages: ['Dropped'],
        columns: { won: null, closed: null },
      },
      { Stage: 'Signed' },
      'won',
    ],
  ])('outcome: %s', (_name, cfg, over, expected) => {
    const c = createDealCollector(DEMO_COLUMNS, config(cfg));
    c.observe(demoRow(over));
    expect(c.deals()[0]?.outcome).toBe(expected);
  });

  it('leaves optional default columns empty when the view does not have them', () => {
    const columns = DEMO_COLUMNS.filter(
      (c) => !['Stage Entered Date', 'Is Won', 'Is Closed', 'Region', 'Probability'].includes(c.name),
    );
    const c = createDealCollector(columns, config());
    c.observe(columns.map((col) => (col.name === 'Stage' ? 'Closed Won' : col.name === 'Opportunity ID' ? 'X' : null)));
    expect(c.deals()[0]).toMatchObject({ outcome: 'won', region: null, probability: null, stageEnteredDate: null });
    expect(c.quality().absentFields).toEqual(['stageEnteredDate', 'won', 'closed', 'region', 'probability']);
  });

  it('matches column names case-insensitively as a fallback', () => {
    const columns = DEMO_COLUMNS.map((c) => col(c.name.toUpperCase(), c.type));
    const c = createDealCollector(columns, config());
    c.observe(demoRow());
    expect(c.deals()[0]?.id).toBe('OPP-000001');
  });

  it('throws METRICS_COLUMN_MISSING naming the missing columns and the ones that exist', () => {
    const columns = [col('Opportunity ID'), col('Stage'), col('Created Date'), col('Close Date')];
    const attempt = () => createDealCollector(columns, config({ columns: { amount: 'Deal Value', owner: 'Rep' } }));
    expect(attempt).toThrow(SourceError);
    try {
      attempt();
    } catch (err) {
      expect(err).toMatchObject({ code: 'METRICS_COLUMN_MISSING' });
      const message = (err as Error).message;
      expect(message).toContain('"Deal Value" (metrics.columns.amount)');
      expect(message).toContain('"Rep" (metrics.columns.owner)');
      expect(message).toContain('sheet "Opportunities"');
      expect(message).toContain('"Opportunity ID", "Stage", "Created Date", "Close Date"');
    }
  });

  it('requires a won flag column when no won stage names are configured', () => {
    const columns = DEMO_COLUMNS.filter((c) => c.name !== 'Is Won');
    expect(() => createDealCollector(columns, config({ wonStages: [] }))).toThrow(/"Is Won" \(metrics\.columns\.won\)/);
  });
});

describe('describeDealQuality', () => {
  it('turns the counts into run warnings that say how to fix them', () => {
    const c = createDealCollector(DEMO_COLUMNS, config());
    c.observe(demoRow({ 'Opportunity ID': null }));
    c.observe(demoRow({ Amount: 'lots', Stage: 'Negotiation', Type: 'Partner' }));
    c.observe(demoRow({ Stage: 'Negotiation' }));
    expect(describeDealQuality(c.quality(), 'Opportunities')).toEqual([
      'metrics: 1 of 3 rows of "Opportunities" have no opportunity id and were left out (check metrics.columns.id)',
      'metrics: 1 rows of "Opportunities" repeat an opportunity id (is the view at deal level?)',
      'metrics: 1 rows of "Opportunities" have an unreadable amount, treated as blank',
      'metrics: stages not in metrics.stages: "Negotiation" (2); add them to metrics.stages in funnel order',
      'metrics: customer types that are neither new nor existing: "Partner" (1); list them in metrics.customerTypes',
    ]);
  });

  it('is empty for a clean view', () => {
    const c = createDealCollector(DEMO_COLUMNS, config());
    c.observe(demoRow());
    expect(describeDealQuality(c.quality(), 'Opportunities')).toEqual([]);
  });
});
