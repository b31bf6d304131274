import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  checkMetricsConfig,
  DEFAULT_STAGES,
  metricsConfigSchema,
  snapshotWindow,
  type MetricsConfigInput,
} from './config.js';

const parse = (input: MetricsConfigInput) => metricsConfigSchema.parse(input);

describe('metricsConfigSchema', () => {
  it('fills defaults that match the demo data', () => {
    const c = parse({ from: 'Opportunities' });
    expect(c.columns).toEqual({
      id: 'Opportunity ID',
      stage: 'Stage',
      amount: 'Amount',
      createdDate: 'Created Date',
      closeDate: 'Close Date',
    });
    expect(c.stages).toEqual(DEFAULT_STAGES);
    expect(c.wonStages).toEqual(['Closed Won']);
    expect(c.lostStages).toEqual(['Closed Lost']);
    expect(c.staleAfterDays).toBe(30);
    expect(c.winRate).toBe('count');
    expect(c.period).toEqual({ lastDays: 365 });
    expect(c.snapshots).toEqual({ retentionDays: 400, historyDays: 91 });
    expect(c.asOf).toBeUndefined();
    expect(checkMetricsConfig(c)).toEqual([]);
  });

  it('turns asOf into a wall-clock date at UTC midnight', () => {
    expect(parse({ from: 'x', asOf: '2026-11-27' }).asOf).toEqual(new Date(Date.UTC(2026, 10, 27)));
  });

  it.each<[string, Record<string, unknown>]>([
    ['unknown key (typo)', { from: 'x', stalAfterDays: 3 }],
    ['unknown column key', { from: 'x', columns: { amont: 'Amount' } }],
    ['negative stale days', { from: 'x', staleAfterDays: -1 }],
    ['bad win-rate variant', { from: 'x', winRate: 'ratio' }],
    ['bad asOf', { from: 'x', asOf: '27/11/2026' }],
    ['empty from', { from: '' }],
    ['period with both forms', { from: 'x', period: { lastDays: 30, from: '2026-01-01' } }],
    ['gross margin above 1', { from: 'x', clv: { lifetimeYears: 3, grossMargin: 1.5 } }],
  ])('rejects %s', (_name, input) => {
    expect(metricsConfigSchema.safeParse(input).success).toBe(false);
  });

  it('describes every key so the config reference can be generated', () => {
    const schema = z.toJSONSchema(metricsConfigSchema, { io: 'input' }) as {
      properties: Record<string, { description?: string; properties?: Record<string, { description?: string }> }>;
    };
    for (const [key, prop] of Object.entries(schema.properties)) {
      expect(prop.description, key).toBeTruthy();
    }
    for (const [key, prop] of Object.entries(schema.properties['columns']?.properties ?? {})) {
      expect(prop.description, `columns.${key}`).toBeTruthy();
    }
  });
});

describe('checkMetricsConfig', () => {
  it.each<[string, MetricsConfigInput, { path: (string | number)[]; message: RegExp }[]]>([
    [
      'stale threshold for an unknown stage',
      { from: 'x', staleAfterDays: { Proposal: 10, Negociation: 5 } },
      [{ path: ['staleAfterDays', 'Negociation'], message: /not in metrics\.stages/ }],
    ],
    [
      'stale threshold for a terminal stage',
      { from: 'x', staleAfterDays: { 'Closed Won': 10 } },
      [{ path: ['staleAfterDays', 'Closed Won'], message: /open stages only/ }],
    ],
    [
      'won stage not in stages',
      { from: 'x', wonStages: ['Won'] },
      [{ path: ['wonStages', 0], message: /"Won" is not in metrics\.stages/ }],
    ],
    [
      'neither flags nor stage names',
      { from: 'x', columns: { won: null, closed: null }, wonStages: [], lostStages: [] },
      [
        { path: ['wonStages'], message: /no won flag column/ },
        { path: ['lostStages'], message: /no closed flag column/ },
      ],
    ],
    ['flags without stage names are fine', { from: 'x', wonStages: [], lostStages: [] }, []],
    ['stage names without flags are fine', { from: 'x', columns: { won: null, closed: null } }, []],
    [
      'duplicate stage',
      { from: 'x', stages: ['A', 'B', 'a', 'Closed Won', 'Closed Lost'] },
      [{ path: ['stages', 2], message: /listed twice/ }],
    ],
    [
      'terminal qualification stage',
      { from: 'x', qualificationStages: ['Closed Lost'] },
      [{ path: ['qualificationStages', 0], message: /won\/lost stage/ }],
    ],
    [
      'bands not ascending',
      { from: 'x', dealSizeBands: [100, 50] },
      [{ path: ['dealSizeBands', 1], message: /ascending/ }],
    ],
    [
      'unknown definition key',
      { from: 'x', definitions: { winrate: 'x' } },
      [{ path: ['definitions', 'winrate'], message: /unknown KPI "winrate"/ }],
    ],
    [
      'history longer than retention',
      { from: 'x', snapshots: { retentionDays: 90, historyDays: 100 } },
      [{ path: ['snapshots', 'historyDays'], message: /pruned/ }],
    ],
    [
      'period starting after asOf',
      { from: 'x', asOf: '2026-01-01', period: { from: '2026-02-01' } },
      [{ path: ['period', 'from'], message: /after asOf/ }],
    ],
  ])('%s', (_name, input, expected) => {
    const issues = checkMetricsConfig(parse(input));
    expect(issues.map((i) => i.path)).toEqual(expected.map((e) => e.path));
    issues.forEach((issue, i) => expect(issue.message).toMatch(expected[i]?.message ?? /^$/));
  });

  it('reports every problem at once', () => {
    const issues = checkMetricsConfig(
      parse({ from: 'x', wonStages: ['Won'], staleAfterDays: { Nope: 1 }, definitions: { bad: 'x' } }),
    );
    expect(issues).toHaveLength(3);
  });
});

describe('snapshotWindow', () => {
  it('derives the run date, read window and prune date from asOf', () => {
    const c = parse({ from: 'x' });
    expect(snapshotWindow(c, new Date(Date.UTC(2026, 10, 27)))).toEqual({
      runDate: '2026-11-27',
      loadSince: '2026-08-28',
      pruneBefore: '2025-10-23',
    });
  });
});
