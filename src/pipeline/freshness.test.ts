import { describe, expect, it } from 'vitest';
import type { DataFreshness, SourceSession, ViewRequest } from '../contracts/ports.js';
import type { FreshnessConfig } from '../config/schema.js';
import { SourceError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { createRedactor } from '../shared/redact.js';
import {
  formatAge,
  guardFreshness,
  judgeFreshness,
  oldestDataAsOf,
  StaleDataSkip,
  type GuardInput,
} from './freshness.js';

const HOUR = 3_600_000;
const now = new Date('2026-12-02T06:00:00Z');
const rule = (then: FreshnessConfig['then'], maxAge = 26 * HOUR): FreshnessConfig => ({ maxAge, then });
const extract = (hoursOld: number): DataFreshness => ({
  kind: 'extract',
  refreshedAt: new Date(now.getTime() - hoursOld * HOUR).toISOString(),
  datasource: 'Pipeline (extract)',
});

describe('judgeFreshness', () => {
  it.each([
    ['a live connection, whatever the rule', { kind: 'live', datasources: ['Live'] } as const, rule('fail', 1), 'live'],
    ['an extract within maxAge', extract(25), rule('fail'), 'fresh'],
    ['an extract exactly maxAge old', extract(26), rule('fail'), 'fresh'],
    ['an extract older than maxAge', extract(27), rule('warn'), 'stale'],
    ['an extract refreshed "in the future" (clock skew)', extract(-2), rule('fail', 1), 'fresh'],
    ['an unknown age', { kind: 'unknown', reason: 'off' } as const, rule('fail'), 'unknown'],
    [
      'an unreadable refresh time',
      { kind: 'extract', refreshedAt: 'yesterday', datasource: 'x' } as const,
      rule('fail'),
      'unknown',
    ],
  ])('%s is %s', (_, freshness, r, state) => {
    expect(judgeFreshness(freshness, r, now).state).toBe(state);
  });

  it('gives the age, the limit and the policy of stale data', () => {
    expect(judgeFreshness(extract(30), rule('skip'), now)).toEqual({
      state: 'stale',
      refreshedAt: '2026-12-01T00:00:00.000Z',
      ageMs: 30 * HOUR,
      maxAgeMs: 26 * HOUR,
      then: 'skip',
      datasource: 'Pipeline (extract)',
    });
  });
});

describe('formatAge', () => {
  it.each([
    [59_000, '0m'],
    [45 * 60_000, '45m'],
    [2 * HOUR, '2h'],
    [26 * HOUR + 5 * 60_000, '1d 2h'],
    [72 * HOUR, '3d'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
});

describe('oldestDataAsOf', () => {
  it('is the oldest extract date, live when every checked view is live, undefined when none was checked', () => {
    expect(
      oldestDataAsOf([
        { dataAsOf: '2026-12-01T07:00:00+01:00' },
        { dataAsOf: 'live connection' },
        { dataAsOf: '2026-11-30T07:00:00+01:00' },
        {},
      ]),
    ).toEqual(new Date('2026-11-30T06:00:00Z'));
    expect(oldestDataAsOf([{ dataAsOf: 'live connection' }, {}])).toBe('live');
    expect(oldestDataAsOf([{}, { source: 'csv' }])).toBeUndefined();
  });
});

describe('guardFreshness', () => {
  const request: ViewRequest = { workbook: 'Sales', view: 'Opps', filters: {}, parameters: {}, maxAgeMinutes: 1 };
  const input = (freshness: DataFreshness | undefined, r: FreshnessConfig): GuardInput => {
    const session: SourceSession = {
      fetchView: () => Promise.reject(new Error('not fetched here')),
      close: () => Promise.resolve(),
      ...(freshness === undefined ? {} : { readFreshness: () => Promise.resolve(freshness) }),
    };
    return {
      session,
      request,
      rule: r,
      label: "view 'Opps'",
      now,
      timezone: 'Europe/Paris',
      logger: createLogger({ level: 'silent', redactor: createRedactor() }),
      signal: new AbortController().signal,
    };
  };

  it('warn: a warning and the same alert, with the data date for the sheet', async () => {
    const found = await guardFreshness(input(extract(30), rule('warn')));
    expect(found.provenance).toEqual({ dataAsOf: '2026-12-01T01:00:00+01:00' });
    expect(found.warnings).toEqual([
      "the data of view 'Opps' is 1d 6h old (extract 'Pipeline (extract)' last refreshed 2026-12-01T01:00:00+01:00), older than freshness.maxAge 1d 2h; delivered anyway (freshness.then: warn)",
    ]);
    expect(found.alerts).toEqual(found.warnings);
  });

  it('skip: stops with the reason', async () => {
    await expect(guardFreshness(input(extract(30), rule('skip')))).rejects.toThrow(StaleDataSkip);
  });

  it('fail: DATA_STALE naming the view, its age and maxAge', async () => {
    const err = await guardFreshness(input(extract(50), rule('fail', 24 * HOUR))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).code).toBe('DATA_STALE');
    expect((err as SourceError).message).toMatch(
      /^the data of view 'Opps' is 2d 2h old .*older than freshness.maxAge 1d$/,
    );
  });

  it('fresh and live data pass silently, with their date or "live connection"', async () => {
    expect(await guardFreshness(input(extract(2), rule('fail')))).toEqual({
      provenance: { dataAsOf: '2026-12-02T05:00:00+01:00' },
      warnings: [],
      alerts: [],
    });
    expect(await guardFreshness(input({ kind: 'live', datasources: [] }, rule('fail', 1)))).toEqual({
      provenance: { dataAsOf: 'live connection' },
      warnings: [],
      alerts: [],
    });
  });

  it('an unknown age, or a source that cannot tell, is a warning and never stops the run', async () => {
    const unknown = await guardFreshness(input({ kind: 'unknown', reason: 'Metadata API is disabled' }, rule('fail')));
    expect(unknown.warnings).toEqual([
      "freshness: could not read how old the data of view 'Opps' is (Metadata API is disabled); delivered unchecked",
    ]);
    expect((await guardFreshness(input(undefined, rule('fail')))).warnings).toHaveLength(1);
  });
});
