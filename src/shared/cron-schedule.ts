/**
 * Pure cron arithmetic in an IANA time zone: `nextRun(now, pattern, tz)` and `previousRun(now, pattern, tz)`.
 *
 * Why not simply `cron-parser` with its `tz` option: around DST changes its answer depends on the instant it starts
 * from (e.g. from 01:10 EST on a fall-back day a daily 01:30 job is due "again" at 01:30 EST although it already ran
 * at 01:30 EDT), so a restart or a config reload at the wrong minute would run an export twice or not at all. Here the
 * set of fire instants is defined once, independently of where we start looking, and both functions are views of it.
 *
 * cron-parser enumerates matching wall-clock times (in a "floating" UTC calendar, with no DST at all); each wall time is
 * then placed on the time line of the zone with the rules of ISC/Vixie cron (the Debian `cron` daemon):
 * - a wall time that exists once fires at that instant;
 * - a wall time skipped by a spring-forward change (e.g. 02:30 on 2026-03-08 in New York):
 *   fixed-time jobs (minute and hour both explicit, like `30 2 * * *`) fire once, when the gap ends (03:00 local);
 *   wildcard jobs (minute or hour starts with `*`, like `0 * * * *`) do not fire: that hour did not happen;
 * - a wall time repeated by a fall-back change (e.g. 01:30 on 2026-11-01 in New York):
 *   fixed-time jobs fire once, at the first occurrence (01:30 EDT); wildcard jobs follow real time and fire at both
 *   (an hourly export runs 25 times that day).
 *
 * Only 5-field patterns (minute hour day-of-month month day-of-week) are accepted: seconds make no sense for exports.
 */
import { CronExpressionParser } from 'cron-parser';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
/** Bound on how far a zone's UTC offset changes at one transition (1 h almost everywhere; 2 h at Troll station). */
const MAX_OFFSET_CHANGE_MS = 3 * HOUR_MS;
/** Probes either side of a floating wall time: farther than any UTC offset (±14 h) plus a transition. */
const PROBE_MS = 17 * HOUR_MS;
/** Stop looking after this many matching wall times (a minutely pattern yields ~360 in the search window). */
const MAX_CANDIDATES = 5_000;

/** Throws when the pattern or the zone is invalid; returns a parsed schedule otherwise. */
interface ParsedSchedule {
  readonly pattern: string;
  readonly timeZone: string;
  /** Vixie cron's "wildcard job": the minute or the hour field starts with `*`. */
  readonly wildcard: boolean;
  readonly zone: ZoneClock;
}

/**
 * Checks a cron pattern and an IANA time zone. Returns an error message (what is wrong and how to fix it) or
 * undefined when both are valid. Used by config validation and by the scheduler before arming a timer.
 */
export function validateSchedule(pattern: string, timeZone: string): string | undefined {
  try {
    parseSchedule(pattern, timeZone);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * The first fire instant strictly after `now` for `pattern` in `timeZone` (DST rules above), or undefined when the
 * pattern never fires again (e.g. `0 0 30 2 *`). Throws an Error with a clear message on an invalid pattern or zone.
 */
export function nextRun(now: Date, pattern: string, timeZone: string): Date | undefined {
  const schedule = parseSchedule(pattern, timeZone);
  const nowMs = now.getTime();
  // Wall times earlier than "now on the wall" can still fire later than now (the repeated hour after a fall-back),
  // so the search starts a little before.
  const startWall = schedule.zone.wallOf(nowMs) - MAX_OFFSET_CHANGE_MS;
  const it = CronExpressionParser.parse(pattern, { tz: 'UTC', currentDate: new Date(startWall - 1) });
  let best: number | undefined;
  let bestWall = Number.POSITIVE_INFINITY;
  for (let i = 0; i < MAX_CANDIDATES && it.hasNext(); i++) {
    const wall = it.next().getTime();
    // Two wall times further apart than any offset change keep their order on the time line: nothing later can win.
    if (wall > bestWall + MAX_OFFSET_CHANGE_MS) break;
    for (const instant of fireInstantsOf(schedule, wall)) {
      if (instant > nowMs && (best === undefined || instant < best)) {
        best = instant;
        bestWall = Math.min(bestWall, wall);
      }
    }
  }
  return best === undefined ? undefined : new Date(best);
}

/**
 * The last fire instant at or before `now` (used for catch-up: "was a scheduled time missed while we were down?"),
 * or undefined when there is none. Same DST rules and errors as {@link nextRun}.
 */
export function previousRun(now: Date, pattern: string, timeZone: string): Date | undefined {
  const schedule = parseSchedule(pattern, timeZone);
  const nowMs = now.getTime();
  const startWall = schedule.zone.wallOf(nowMs) + MAX_OFFSET_CHANGE_MS;
  const it = CronExpressionParser.parse(pattern, { tz: 'UTC', currentDate: new Date(startWall + 1) });
  let best: number | undefined;
  let bestWall = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < MAX_CANDIDATES && it.hasPrev(); i++) {
    const wall = it.prev().getTime();
    if (wall < bestWall - MAX_OFFSET_CHANGE_MS) break;
    for (const instant of fireInstantsOf(schedule, wall)) {
      if (instant <= nowMs && (best === undefined || instant > best)) {
        best = instant;
        bestWall = Math.max(bestWall, wall);
      }
    }
  }
  return best === undefined ? undefined : new Date(best);
}

/** The instants (ms) at which one matching wall time fires, per the DST rules in the file comment. */
function fireInstantsOf(schedule: ParsedSchedule, wall: number): number[] {
  const placed = schedule.zone.instantsOf(wall);
  if (placed.kind === 'single') return [placed.instant];
  if (placed.kind === 'repeated') return schedule.wildcard ? [placed.first, placed.second] : [placed.first];
  return schedule.wildcard ? [] : [placed.gapEnd];
}

function parseSchedule(pattern: string, timeZone: string): ParsedSchedule {
  const fields = pattern.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new Error(
      `schedule '${pattern}' must have 5 fields: minute hour day-of-month month day-of-week (e.g. '0 6 * * 1-5' for 06:00 on weekdays)`,
    );
  }
  try {
    CronExpressionParser.parse(pattern, { tz: 'UTC', strict: false });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `schedule '${pattern}' is not a valid cron expression (${reason}); e.g. '30 2 * * *' runs at 02:30 daily`,
    );
  }
  // cron-parser also takes Jenkins' `H` (a hashed, i.e. random, value), which no cron daemon knows: refuse it.
  if (fields.some((field) => field.split(',').some((part) => /^H(\(|\/|$)/i.test(part)))) {
    throw new Error(
      `schedule '${pattern}' uses 'H', which cron does not know; give the minute or hour as a number (e.g. '30 2 * * *')`,
    );
  }
  const zone = createZoneClock(timeZone);
  const [minute = '', hour = ''] = fields;
  return { pattern, timeZone, wildcard: minute.startsWith('*') || hour.startsWith('*'), zone };
}

type Placement =
  | { readonly kind: 'single'; readonly instant: number }
  | { readonly kind: 'repeated'; readonly first: number; readonly second: number }
  /** The wall time does not exist; `gapEnd` is the instant the clocks jumped (first valid wall time after the gap). */
  | { readonly kind: 'gap'; readonly gapEnd: number };

interface ZoneClock {
  /** The wall-clock time at `instant`, as milliseconds of a floating (UTC, DST-free) calendar. */
  wallOf(instant: number): number;
  /** Where the floating wall time `wall` falls on the zone's time line. */
  instantsOf(wall: number): Placement;
}

function createZoneClock(timeZone: string): ZoneClock {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new Error(
      `time zone '${timeZone}' is not a valid IANA time zone; use a name like 'Europe/Paris' or 'America/New_York'`,
    );
  }

  const wallOf = (instant: number): number => {
    const parts: Record<string, number> = {};
    for (const p of format.formatToParts(new Date(instant))) {
      if (p.type !== 'literal') parts[p.type] = Number(p.value);
    }
    const ms = ((instant % 1000) + 1000) % 1000;
    return Date.UTC(
      parts['year'] ?? 0,
      (parts['month'] ?? 1) - 1,
      parts['day'] ?? 1,
      parts['hour'] ?? 0,
      parts['minute'] ?? 0,
      parts['second'] ?? 0,
      ms,
    );
  };
  const offsetAt = (instant: number): number => wallOf(instant) - instant;

  const instantsOf = (wall: number): Placement => {
    const before = offsetAt(wall - PROBE_MS);
    const after = offsetAt(wall + PROBE_MS);
    const found = [...new Set([wall - before, wall - after])].filter((t) => wallOf(t) === wall).sort((a, b) => a - b);
    const [first, second] = found;
    if (first !== undefined && second !== undefined) return { kind: 'repeated', first, second };
    if (first !== undefined) return { kind: 'single', instant: first };
    // In a gap: the jump happened between the instant that reads `wall` under the new offset (still before the
    // change) and the one that reads it under the old offset (already after). Bisect to the second.
    let lo = wall - after;
    let hi = wall - before;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (offsetAt(mid) === before) lo = mid;
      else hi = mid;
    }
    return { kind: 'gap', gapEnd: hi };
  };

  return { wallOf, instantsOf };
}
