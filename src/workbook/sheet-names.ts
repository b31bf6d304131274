/**
 * Excel's rules for worksheet names, applied before a name reaches the workbook: Excel refuses to open (or
 * "repairs") a file whose tab names break them.
 */

/** Excel's maximum worksheet name length, in UTF-16 code units. */
export const MAX_SHEET_NAME_LENGTH = 31;

// Characters Excel rejects in tab names; control characters are rejected too and cannot be typed anyway.
// eslint-disable-next-line no-control-regex -- control characters are exactly what this pattern is about
const FORBIDDEN_CHARS = /[[\]:*?/\\\u0000-\u001f\u007f]/g;
const RESERVED_NAME = 'history';
const FALLBACK_NAME = 'Sheet';

/**
 * Makes `name` a valid Excel worksheet name: forbidden characters (`[]:*?/\` and control characters) become `-`,
 * surrounding spaces and apostrophes are removed, the result is cut to 31 characters (never inside a surrogate
 * pair), an empty result becomes `Sheet`, and the reserved name `History` becomes `History (data)`.
 * Pure; never throws.
 */
export function sanitizeSheetName(name: string): string {
  const cleaned = trimName(name.replace(FORBIDDEN_CHARS, '-'));
  const cut = trimName(truncateUtf16(cleaned, MAX_SHEET_NAME_LENGTH));
  if (cut === '') return FALLBACK_NAME;
  if (cut.toLowerCase() === RESERVED_NAME) return `${cut} (data)`;
  return cut;
}

/** Hands out unique, valid sheet names for one workbook. */
export interface SheetNamer {
  /**
   * Sanitises `name` and returns it, or `Name (2)`, `Name (3)`, ... when a name equal to it ignoring case was
   * already taken; the base is shortened so that the suffix always fits in 31 characters. The result is taken.
   */
  take(name: string): string;
  /**
   * The name {@link take} would return for `name` now, without taking it: the final name of a sheet written later
   * (a link to the About sheet from the Summary), as long as no other sheet takes the same name in between.
   */
  peek(name: string): string;
  /** True when `name` (compared ignoring case) was already taken. */
  has(name: string): boolean;
}

/** Creates a {@link SheetNamer} with no names taken. One per workbook. */
export function createSheetNamer(): SheetNamer {
  const taken = new Set<string>();
  const key = (name: string): string => name.toLocaleUpperCase('en-US');
  const next = (name: string): string => {
    const base = sanitizeSheetName(name);
    let candidate = base;
    for (let n = 2; taken.has(key(candidate)); n += 1) {
      const suffix = ` (${n})`;
      const stem = trimName(truncateUtf16(base, MAX_SHEET_NAME_LENGTH - suffix.length));
      candidate = `${stem === '' ? FALLBACK_NAME : stem}${suffix}`;
    }
    return candidate;
  };
  return {
    take(name) {
      const candidate = next(name);
      taken.add(key(candidate));
      return candidate;
    },
    peek: next,
    has(name) {
      return taken.has(key(name));
    },
  };
}

function trimName(name: string): string {
  return name.replace(/^[\s']+|[\s']+$/g, '');
}

/** Cuts `text` to at most `max` UTF-16 code units without splitting a surrogate pair. */
export function truncateUtf16(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return text.slice(0, end);
}

/** A sheet name inside a quoted reference (`'Rep''s deals'!$A$1`). */
export function quoteSheetName(name: string): string {
  return name.replace(/'/g, "''");
}
