import { describe, expect, it } from 'vitest';
import { nextRun, previousRun, validateSchedule } from './cron-schedule.js';

/** Every fire instant in [from, to), walking nextRun from `from`. */
function firesBetween(pattern: string, tz: string, from: string, to: string): string[] {
  const out: string[] = [];
  let t = new Date(Date.parse(from) - 1);
  const end = Date.parse(to);
  for (;;) {
    const next = nextRun(t, pattern, tz);
    if (next === undefined || next.getTime() >= end) return out;
    out.push(next.toISOString());
    t = next;
  }
}

describe('nextRun', () => {
  it('reads the pattern in the given time zone', () => {
    const now = new Date('2026-06-01T12:00:00Z'); // a Monday
    expect(nextRun(now, '0 6 * * 1-5', 'America/New_York')?.toISOString()).toBe('2026-06-02T10:00:00.000Z');
    expect(nextRun(now, '0 6 * * 1-5', 'Europe/Paris')?.toISOString()).toBe('2026-06-02T04:00:00.000Z');
    expect(nextRun(now, '0 6 * * 1-5', 'Asia/Kolkata')?.toISOString()).toBe('2026-06-02T00:30:00.000Z');
    // Friday evening → Monday morning.
    expect(nextRun(new Date('2026-06-05T20:00:00Z'), '0 6 * * 1-5', 'Europe/Paris')?.toISOString()).toBe(
      '2026-06-08T04:00:00.000Z',
    );
  });

  it('is strictly after now', () => {
    expect(nextRun(new Date('2026-06-02T04:00:00Z'), '0 6 * * *', 'Europe/Paris')?.toISOString()).toBe(
      '2026-06-03T04:00:00.000Z',
    );
  });

  it.each([
    // zone, spring-forward day, the 02:30 run (at the end of the gap, 03:00 local), the next day's 02:30
    ['America/New_York', '2026-03-08', '2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z'],
    ['Europe/Paris', '2026-03-29', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'],
  ])('spring-forward in %s on %s: a daily 02:30 runs once, at 03:00 local', (tz, day, expected, nextDay) => {
    const fires = firesBetween('30 2 * * *', tz, `${day}T00:00:00Z`, `${day}T23:59:59Z`);
    expect(fires).toEqual([expected]);
    // Whatever instant we ask from, the answer is the same: no double run after a restart inside the gap.
    expect(nextRun(new Date(Date.parse(expected) - 60_000), '30 2 * * *', tz)?.toISOString()).toBe(expected);
    expect(nextRun(new Date(expected), '30 2 * * *', tz)?.toISOString()).toBe(nextDay);
  });

  it.each([
    // zone, fall-back day, the repeated hour's first 01:30 / 02:30 (UTC), its second occurrence, the next day's run
    [
      'America/New_York',
      '30 1 * * *',
      '2026-11-01',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:10:00Z',
      '2026-11-02T06:30:00.000Z',
    ],
    [
      'Europe/Paris',
      '30 2 * * *',
      '2026-10-25',
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:10:00Z',
      '2026-10-26T01:30:00.000Z',
    ],
  ])(
    'fall-back in %s: a daily %s on %s runs once, at the first occurrence',
    (tz, pattern, day, first, inRepeatedHour, nextDay) => {
      expect(firesBetween(pattern, tz, `${day}T00:00:00Z`, `${day}T23:59:59Z`)).toEqual([first]);
      // Asked from inside the repeated hour (a restart at 01:10 EST), it does not fire a second time that night.
      expect(nextRun(new Date(inRepeatedHour), pattern, tz)?.toISOString()).toBe(nextDay);
    },
  );

  it.each([
    ['America/New_York', '2026-03-08', 'T05:00:00Z', 23],
    ['America/New_York', '2026-11-01', 'T04:00:00Z', 25],
    ['Europe/Paris', '2026-03-29', 'T00:00:00Z', 23],
    ['Europe/Paris', '2026-10-25', 'T00:00:00Z', 25],
    ['Europe/Paris', '2026-07-01', 'T00:00:00Z', 24],
  ])('an hourly schedule in %s fires every real hour on %s', (tz, day, localMidnightUtc, count) => {
    // From local midnight to the next local midnight (in UTC, these are count hours apart).
    const start =
      Date.parse(`${day}${localMidnightUtc}`) -
      (tz === 'Europe/Paris' ? (day === '2026-07-01' ? 2 : 1) * 3_600_000 : 0);
    const end = start + count * 3_600_000;
    const fires = firesBetween('0 * * * *', tz, new Date(start).toISOString(), new Date(end).toISOString());
    expect(fires).toHaveLength(count);
    // Consecutive fires are exactly one hour apart: the skipped hour is skipped, the repeated hour repeats.
    for (let i = 1; i < fires.length; i++)
      expect(Date.parse(fires[i] ?? '') - Date.parse(fires[i - 1] ?? '')).toBe(3_600_000);
  });

  it('finds a rare date years ahead, and refuses a date that never exists', () => {
    expect(nextRun(new Date('2026-06-01T00:00:00Z'), '0 9 29 2 *', 'Europe/Paris')?.toISOString()).toBe(
      '2028-02-29T08:00:00.000Z',
    );
    expect(validateSchedule('0 0 31 4 *', 'UTC')).toMatch(/day of month/);
  });
});

describe('previousRun', () => {
  it('returns the last fire at or before now, with the same DST rules', () => {
    expect(previousRun(new Date('2026-06-02T12:00:00Z'), '0 6 * * *', 'Europe/Paris')?.toISOString()).toBe(
      '2026-06-02T04:00:00.000Z',
    );
    expect(previousRun(new Date('2026-06-02T04:00:00Z'), '0 6 * * *', 'Europe/Paris')?.toISOString()).toBe(
      '2026-06-02T04:00:00.000Z',
    );
    // Inside the repeated hour: the last 01:30 was the first one, not "01:30 EST".
    expect(previousRun(new Date('2026-11-01T06:40:00Z'), '30 1 * * *', 'America/New_York')?.toISOString()).toBe(
      '2026-11-01T05:30:00.000Z',
    );
    expect(previousRun(new Date('2026-03-08T12:00:00Z'), '30 2 * * *', 'America/New_York')?.toISOString()).toBe(
      '2026-03-08T07:00:00.000Z',
    );
  });
});

describe('validateSchedule', () => {
  it.each([
    ['0 6 * * 1-5', 'Europe/Paris', undefined],
    ['0 6 * * MON-FRI', 'America/New_York', undefined],
    ['*/15 8-18 * * *', 'UTC', undefined],
    ['61 6 * * *', 'UTC', /not a valid cron expression/],
    ['0 0 6 * * *', 'UTC', /must have 5 fields/],
    ['every day', 'UTC', /5 fields/],
    ['0 6 * * *', 'Mars/Olympus_Mons', /not a valid IANA time zone/],
  ])('%s in %s', (pattern, tz, expected) => {
    const message = validateSchedule(pattern, tz);
    if (expected === undefined) expect(message).toBeUndefined();
    else expect(message).toMatch(expected);
  });
});
