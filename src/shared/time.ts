/** Time-zone helpers for reports and workbook labels (pure). */

/** Wall-clock parts of `instant` in `timeZone`. */
export function zonedParts(
  instant: Date,
  timeZone: string,
): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const parts: Record<string, number> = {};
  for (const p of fmt.formatToParts(instant)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts['year'] ?? 1970,
    month: parts['month'] ?? 1,
    day: parts['day'] ?? 1,
    hour: parts['hour'] ?? 0,
    minute: parts['minute'] ?? 0,
    second: parts['second'] ?? 0,
  };
}

/**
 * ISO 8601 with the zone's offset, e.g. `2026-11-27T07:00:00+01:00`; with `milliseconds`,
 * `2026-11-27T07:00:00.123+01:00` (run records: two runs started in the same second still sort by time).
 */
export function isoWithOffset(
  instant: Date,
  timeZone: string,
  options: { readonly milliseconds?: boolean } = {},
): string {
  const p = zonedParts(instant, timeZone);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  const offsetMin = Math.round((wall - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMin >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const fraction = options.milliseconds === true ? `.${pad(((instant.getTime() % 1000) + 1000) % 1000, 3)}` : '';
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${fraction}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The calendar date of `instant` in `timeZone`, as a Date at UTC midnight (the convention for wall-clock dates). */
export function wallDate(instant: Date, timeZone: string): Date {
  const p = zonedParts(instant, timeZone);
  return new Date(Date.UTC(p.year, p.month - 1, p.day));
}

/** `Tue, 5 May 2026, 06:00 EDT`: a time a reader recognises, in the export's zone with its name. */
export function formatLocalTime(iso: string, timeZone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const when = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(date);
  const zone = zoneAbbreviation(date, timeZone);
  return zone === undefined ? when : `${when} ${zone}`;
}

/** `EST`, `CET`: US English knows America's abbreviations, British English Europe's; else `GMT+1`. */
function zoneAbbreviation(date: Date, timeZone: string): string | undefined {
  const names = ['en-US', 'en-GB'].map(
    (locale) =>
      new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' })
        .formatToParts(date)
        .find((p) => p.type === 'timeZoneName')?.value,
  );
  return names.find((n) => n !== undefined && !/^(GMT|UTC)[+-]/.test(n)) ?? names[0];
}
