/**
 * Scanners for Tableau display values (`$45,047`, `($1,234)`, `14.4%`, `"5,004"`, `11/27/2026 9:30:00 AM`,
 * `2026-11-27T14:05:00`). Hand-written character scans instead of regexes, because these run once per cell over
 * millions of cells; every function is pure and fills a caller-owned scratch object, so nothing is allocated on the
 * hot path unless a value is actually built.
 *
 * Display values are en-US, as Tableau's CSV export writes them: `,` groups thousands and `.` is the decimal point.
 */

/** What a number scan found. Reused across calls by its owner; read only after a successful scan. */
export interface NumberScan {
  negative: boolean;
  /** Negative shown in accounting style: `($1,234)`. */
  parenthesized: boolean;
  /** Currency symbol before the digits (`$`, `€`, `£`) or '' for none. */
  symbol: string;
  percent: boolean;
  /** Digits before the decimal point, between these indexes of the text (may contain grouping commas). */
  intStart: number;
  intEnd: number;
  /** Digits after the decimal point (fracStart === fracEnd when there is none). */
  fracStart: number;
  fracEnd: number;
  /** The integer part used `,` thousands separators. */
  grouped: boolean;
}

/** What a date scan found: wall-clock fields, no time zone. */
export interface DateScan {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  hasTime: boolean;
  hasSeconds: boolean;
}

export function createNumberScan(): NumberScan {
  return {
    negative: false,
    parenthesized: false,
    symbol: '',
    percent: false,
    intStart: 0,
    intEnd: 0,
    fracStart: 0,
    fracEnd: 0,
    grouped: false,
  };
}

export function createDateScan(): DateScan {
  return {
    year: 0,
    month: 0,
    day: 0,
    hour: 0,
    minute: 0,
    second: 0,
    millisecond: 0,
    hasTime: false,
    hasSeconds: false,
  };
}

const CH_0 = 48;
const CH_9 = 57;
const CH_COMMA = 44;
const CH_DOT = 46;
const CH_MINUS = 45;
const CH_LPAREN = 40;
const CH_RPAREN = 41;
const CH_PERCENT = 37;
const CH_SPACE = 32;
const CH_COLON = 58;
const CH_SLASH = 47;
const CH_T = 84;

/** Excel keeps 15 significant digits: an integer part longer than that would silently change (IDs, card numbers). */
const MAX_INTEGER_DIGITS = 15;

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9;
}

function currencySymbolAt(text: string, i: number): string {
  const c = text.charCodeAt(i);
  if (c === 36) return '$';
  if (c === 0x20ac) return '€';
  if (c === 0xa3) return '£';
  return '';
}

/**
 * Scans a display number: optional `(`…`)` or `-`, an optional currency symbol (`$`, `€`, `£`; the minus may sit on
 * either side of it), digits with optional `,` groups of three, optional `.` and decimals, an optional `%` (not with
 * a symbol). Rejects anything else, including leading zeros (`00123`: an identifier, not a number) and integer
 * parts over 15 digits. Returns true and fills `out` when `text` is such a number.
 */
export function scanDisplayNumber(text: string, out: NumberScan): boolean {
  const end = text.length;
  let i = 0;
  let negative = false;
  let parenthesized = false;
  let c = text.charCodeAt(0);
  if (c === CH_LPAREN) {
    parenthesized = true;
    i += 1;
    c = text.charCodeAt(i);
  }
  if (c === CH_MINUS) {
    negative = true;
    i += 1;
  }
  const symbol = currencySymbolAt(text, i);
  if (symbol !== '') {
    i += 1;
    if (!negative && text.charCodeAt(i) === CH_MINUS) {
      negative = true;
      i += 1;
    }
  }
  if (negative && parenthesized) return false;

  // Integer part, with optional thousands grouping (first group 1-3 digits, then exactly 3 after each comma).
  const intStart = i;
  let groupLength = 0;
  let grouped = false;
  let digits = 0;
  while (i < end) {
    c = text.charCodeAt(i);
    if (isDigit(c)) {
      groupLength += 1;
      digits += 1;
    } else if (c === CH_COMMA) {
      if (grouped ? groupLength !== 3 : groupLength < 1 || groupLength > 3) return false;
      grouped = true;
      groupLength = 0;
    } else {
      break;
    }
    i += 1;
  }
  if (digits === 0 || (grouped && groupLength !== 3)) return false;
  const intEnd = i;
  // Leading zero: "0" and "0.5" are numbers, "0123" is an identifier.
  if (text.charCodeAt(intStart) === CH_0 && intEnd - intStart > 1) return false;
  if (digits > MAX_INTEGER_DIGITS) return false;

  let fracStart = i;
  let fracEnd = i;
  if (i < end && text.charCodeAt(i) === CH_DOT) {
    i += 1;
    fracStart = i;
    while (i < end && isDigit(text.charCodeAt(i))) i += 1;
    fracEnd = i;
    if (fracEnd === fracStart) return false;
  }
  let percent = false;
  if (i < end && text.charCodeAt(i) === CH_PERCENT) {
    if (symbol !== '') return false;
    percent = true;
    i += 1;
  }
  if (parenthesized) {
    if (i >= end || text.charCodeAt(i) !== CH_RPAREN) return false;
    i += 1;
  }
  if (i !== end) return false;

  out.negative = negative || parenthesized;
  out.parenthesized = parenthesized;
  out.symbol = symbol;
  out.percent = percent;
  out.intStart = intStart;
  out.intEnd = intEnd;
  out.fracStart = fracStart;
  out.fracEnd = fracEnd;
  out.grouped = grouped;
  return true;
}

/**
 * The value of a scanned number. Built as a plain decimal string and converted once with `Number()`, so it is the
 * double nearest to the decimal shown: `14.4%` is exactly `Number('0.144')`, never `14.4 / 100` (0.14400000000000002).
 */
export function scannedNumberValue(text: string, scan: NumberScan): number {
  let intDigits = text.slice(scan.intStart, scan.intEnd);
  if (scan.grouped) intDigits = intDigits.replaceAll(',', '');
  const fracDigits = text.slice(scan.fracStart, scan.fracEnd);
  let decimal: string;
  if (scan.percent) {
    // Move the decimal point two places left in the string instead of dividing.
    const all = intDigits + fracDigits;
    const point = intDigits.length - 2;
    decimal = point > 0 ? `${all.slice(0, point)}.${all.slice(point)}` : `0.${'0'.repeat(-point)}${all}`;
  } else {
    decimal = fracDigits.length > 0 ? `${intDigits}.${fracDigits}` : intDigits;
  }
  const value = Number(decimal);
  // `-0` would show as "-0" in some readers; a negative zero is just zero.
  return scan.negative && value !== 0 ? -value : value;
}

/**
 * Parses a Tableau display number (`$45,047`, `-$1,234`, `($1,234)`, `€1,234.50`, `14.4%` → 0.144, `"5,004"`,
 * `711.834803653`) into a number. Percentages become fractions. Returns undefined for anything else (blank, text,
 * leading zeros, more than 15 integer digits), so callers decide what a non-number means.
 */
export function parseDisplayNumber(text: string): number | undefined {
  const scan = createNumberScan();
  return scanDisplayNumber(text, scan) ? scannedNumberValue(text, scan) : undefined;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Reads `count` digits at `i`, or -1 if any is not a digit. */
function fixedDigits(text: string, i: number, count: number): number {
  let value = 0;
  for (let k = 0; k < count; k += 1) {
    const c = text.charCodeAt(i + k);
    if (!isDigit(c)) return -1;
    value = value * 10 + (c - CH_0);
  }
  return value;
}

/**
 * Scans a time starting at `i`: `H:MM`, `HH:MM:SS`, optional `.fff` (ISO only) and, for US dates, ` AM`/` PM`.
 * Returns false unless the time runs exactly to the end of `text`.
 */
function scanTime(text: string, i: number, allowMeridiem: boolean, allowFraction: boolean, out: DateScan): boolean {
  const end = text.length;
  let hour = 0;
  let hourDigits = 0;
  while (i < end && isDigit(text.charCodeAt(i)) && hourDigits < 2) {
    hour = hour * 10 + (text.charCodeAt(i) - CH_0);
    hourDigits += 1;
    i += 1;
  }
  if (hourDigits === 0 || text.charCodeAt(i) !== CH_COLON) return false;
  const minute = fixedDigits(text, i + 1, 2);
  if (minute < 0 || minute > 59) return false;
  i += 3;
  let second = 0;
  let hasSeconds = false;
  let millisecond = 0;
  if (i < end && text.charCodeAt(i) === CH_COLON) {
    second = fixedDigits(text, i + 1, 2);
    if (second < 0 || second > 59) return false;
    hasSeconds = true;
    i += 3;
    if (allowFraction && i < end && text.charCodeAt(i) === CH_DOT) {
      i += 1;
      let scale = 100;
      const fracStart = i;
      while (i < end && isDigit(text.charCodeAt(i))) {
        millisecond += (text.charCodeAt(i) - CH_0) * scale;
        scale /= 10;
        i += 1;
      }
      if (i === fracStart) return false;
      millisecond = Math.floor(millisecond);
    }
  }
  if (allowMeridiem && i + 3 === end && text.charCodeAt(i) === CH_SPACE) {
    const a = text.charCodeAt(i + 1) | 0x20;
    const m = text.charCodeAt(i + 2) | 0x20;
    if ((a !== 97 /* a */ && a !== 112) /* p */ || m !== 109 /* m */) return false;
    if (hour < 1 || hour > 12) return false;
    hour = (hour % 12) + (a === 112 ? 12 : 0);
    i = end;
  }
  if (i !== end || hour > 23) return false;
  out.hour = hour;
  out.minute = minute;
  out.second = second;
  out.millisecond = millisecond;
  out.hasTime = true;
  out.hasSeconds = hasSeconds;
  return true;
}

/**
 * Scans a date or date-time in the forms Tableau writes: ISO `2026-11-27`, `2026-11-27 14:05:00`,
 * `2026-11-27T14:05:00(.123)`, and US `11/27/2026`, `11/27/2026 9:30:00 AM`, `11/27/2026 14:05`. US dates are
 * month/day/year only (Tableau's en-US export); `27/11/2026` is not a date here, so such columns stay text rather
 * than risk swapping days and months. Validates calendar ranges (no February 30).
 */
export function scanDisplayDate(text: string, out: DateScan): boolean {
  const end = text.length;
  if (end < 8) return false;
  let year: number;
  let month: number;
  let day: number;
  let i: number;
  let iso = false;
  if (text.charCodeAt(4) === CH_MINUS) {
    year = fixedDigits(text, 0, 4);
    if (year < 0 || text.charCodeAt(7) !== CH_MINUS) return false;
    month = fixedDigits(text, 5, 2);
    day = fixedDigits(text, 8, 2);
    i = 10;
    iso = true;
  } else {
    // M/D/YYYY with one- or two-digit month and day.
    i = 0;
    month = 0;
    while (i < 2 && isDigit(text.charCodeAt(i))) month = month * 10 + (text.charCodeAt(i++) - CH_0);
    if (i === 0 || text.charCodeAt(i) !== CH_SLASH) return false;
    i += 1;
    const dayStart = i;
    day = 0;
    while (i - dayStart < 2 && isDigit(text.charCodeAt(i))) day = day * 10 + (text.charCodeAt(i++) - CH_0);
    if (i === dayStart || text.charCodeAt(i) !== CH_SLASH) return false;
    year = fixedDigits(text, i + 1, 4);
    if (year < 0) return false;
    i += 5;
  }
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  out.year = year;
  out.month = month;
  out.day = day;
  if (i === end) {
    out.hour = 0;
    out.minute = 0;
    out.second = 0;
    out.millisecond = 0;
    out.hasTime = false;
    out.hasSeconds = false;
    return true;
  }
  const separator = text.charCodeAt(i);
  if (separator !== CH_SPACE && !(iso && separator === CH_T)) return false;
  return scanTime(text, i + 1, !iso, iso, out);
}

/** The scanned wall-clock fields as a Date in UTC fields (Excel dates have no time zone). */
export function scannedDateValue(scan: DateScan): Date {
  const date = new Date(
    Date.UTC(scan.year, scan.month - 1, scan.day, scan.hour, scan.minute, scan.second, scan.millisecond),
  );
  // Date.UTC maps years 0-99 to 1900-1999.
  if (scan.year < 100) date.setUTCFullYear(scan.year);
  return date;
}
