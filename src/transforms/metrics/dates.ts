/**
 * Calendar-day arithmetic for metrics. Dates here are wall-clock dates held in UTC fields (see `shared/table.ts`),
 * so a day is an integer count of days since 1970-01-01 and no time zone ever enters the computation.
 */

export const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of the UTC calendar date of `date` (the time of day is dropped). */
export function toDay(date: Date): number {
  return Math.floor(date.getTime() / DAY_MS);
}

/** The Date at UTC midnight of a day number. */
export function fromDay(day: number): Date {
  return new Date(day * DAY_MS);
}

/** `YYYY-MM-DD` of a day number. */
export function isoDay(day: number): string {
  return fromDay(day).toISOString().slice(0, 10);
}

/** Day number of a `YYYY-MM-DD` string, or undefined when it is not a real calendar date. */
export function parseIsoDay(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (m === null) return undefined;
  return dayFromParts(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** Day number of a calendar date, or undefined when the parts do not form one (2026-02-30). */
export function dayFromParts(year: number, month: number, day: number): number | undefined {
  const ms = Date.UTC(year, month - 1, day);
  const d = new Date(ms);
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  return ms / DAY_MS;
}

/** Monday of the ISO week containing `day` (1970-01-01 was a Thursday). */
export function weekStart(day: number): number {
  return day - ((((day + 3) % 7) + 7) % 7);
}

/** Months since year 0 (`year * 12 + month0`) of a day: a sortable month key. */
export function monthIndex(day: number): number {
  const d = fromDay(day);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

/** First day (day number) of a month index. */
export function monthStartDay(month: number): number {
  return Date.UTC(Math.floor(month / 12), month % 12, 1) / DAY_MS;
}

/** `YYYY-MM` of a month index. */
export function monthLabel(month: number): string {
  return `${String(Math.floor(month / 12)).padStart(4, '0')}-${String((month % 12) + 1).padStart(2, '0')}`;
}
