/**
 * The texts the tool writes into a workbook, in the workbook's language: messages from one catalogue per language
 * (`en.ts`, `fr.ts`, ...), with `{name}` placeholders, plural forms (`key.one` / `key.other`, chosen by the
 * language's plural rules) and numbers, dates and money in the language's own way. Pure: `Intl` with an explicit
 * locale and UTC, never the machine's locale or zone.
 *
 * Only text is translated. Cells keep real numbers and dates, so Excel shows them in each reader's own locale.
 */
import { CATALOGUES, type Language, type MessageKey, type Messages } from './catalogues.js';

export { LANGUAGES, type Language, type MessageKey } from './catalogues.js';

/** Values of a message's placeholders: text as is, numbers written in the language's way. */
export type MessageParams = Readonly<Record<string, string | number>>;

/** The base of a message with plural forms: `deals` for the keys `deals.one` and `deals.other`. */
export type PluralKey = {
  [K in MessageKey]: K extends `${infer Base}.one` ? (`${Base}.other` extends MessageKey ? Base : never) : never;
}[MessageKey];

export interface Translator {
  readonly language: Language;
  /** BCP 47 locale of the language's texts, e.g. `fr-FR`. */
  readonly locale: string;
  /**
   * The message `key` with its placeholders filled in. Throws a plain Error (a bug, caught by the catalogue tests)
   * when a placeholder has no value.
   */
  t(key: MessageKey, params?: MessageParams): string;
  /** The plural form of `key` for `count` (`1 deal`, `3 deals`; French `0 affaire`), `{count}` filled in too. */
  plural(key: PluralKey, count: number, params?: MessageParams): string;
  /** A number as text: `1,234.5` / `1 234,5`. */
  number(value: number, maxDecimals?: number): string;
  /** A percentage as text: `12.5%` / `12,5 %` (`value` is a fraction). */
  percent(value: number): string;
  /** An amount of money as text, whole units: `$1,234` / `1 234 $`, or with an ISO code `1,234 EUR`. */
  money(amount: number, currency: string): string;
  /** A calendar date (a wall-clock date in UTC fields): `27 Nov 2026` / `27 nov. 2026`. */
  day(date: Date): string;
  /** A date's month: `Nov 2026` / `nov. 2026`. */
  month(date: Date): string;
  /** Two days as a range: `28 Nov 2025 – 27 Nov 2026`; within one month `1–27 Nov 2026`. */
  dayRange(from: Date, to: Date): string;
  /** A wall-clock date and time (UTC fields): `Fri 27 Nov 2026, 06:00`. */
  dateTime(date: Date): string;
  /** Items joined the language's way: `a, b and c` / `a, b et c`. */
  list(items: readonly string[]): string;
}

const LOCALES: Readonly<Record<Language, string>> = {
  en: 'en-GB',
  fr: 'fr-FR',
  de: 'de-DE',
  es: 'es-ES',
};

// Symbols written before (en) or after (fr, de, es) the amount; any other currency is written as given.
const CURRENCY_SYMBOLS: Readonly<Record<string, string>> = {
  USD: '$',
  EUR: '€',
  GBP: '£',
  JPY: '¥',
  CNY: '¥',
  INR: '₹',
  KRW: '₩',
  BRL: 'R$',
  AUD: 'A$',
  CAD: 'C$',
};

/** A translator for `language`. One per workbook; it holds its formatters. */
export function createTranslator(language: Language): Translator {
  const messages: Messages = CATALOGUES[language];
  const locale = LOCALES[language];
  const plurals = new Intl.PluralRules(locale);
  const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const numberFormats = new Map<number, Intl.NumberFormat>();
  const percentFormat = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
  const dayFormat = new Intl.DateTimeFormat(locale, {
    timeZone: 'UTC',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
  });
  const monthFormat = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', month: 'short', year: 'numeric' });
  const dayOnly = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', day: 'numeric' });
  const dateTimeFormat = new Intl.DateTimeFormat(locale, {
    timeZone: 'UTC',
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const listFormat = new Intl.ListFormat(locale, { style: 'long', type: 'conjunction' });

  const formatNumber = (value: number, maxDecimals = 2): string => {
    let f = numberFormats.get(maxDecimals);
    if (f === undefined) {
      f = new Intl.NumberFormat(locale, { maximumFractionDigits: maxDecimals });
      numberFormats.set(maxDecimals, f);
    }
    return f.format(value);
  };
  const fill = (key: string, template: string, params: MessageParams | undefined): string =>
    template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = params?.[name];
      if (value === undefined) throw new Error(`message '${key}' needs a value for {${name}}`);
      return typeof value === 'number' ? formatNumber(value) : value;
    });

  return {
    language,
    locale,
    t: (key, params) => fill(key, messages[key], params),
    plural(key, count, params) {
      const form = plurals.select(count) === 'one' ? 'one' : 'other';
      const full = `${key}.${form}` as MessageKey;
      return fill(full, messages[full], { count, ...params });
    },
    number: formatNumber,
    percent: (value) => percentFormat.format(value),
    money(amount, currency) {
      const code = currency.trim().toUpperCase();
      const symbol = CURRENCY_SYMBOLS[code] ?? currency.trim();
      // A code such as CHF is written after the amount in every language; a symbol where the language puts it.
      const key = /^[A-Z]{2,}$/i.test(symbol) ? 'format.moneyCode' : 'format.money';
      const sign = amount < 0 ? '-' : '';
      return sign + fill(key, messages[key], { amount: integer.format(Math.abs(amount)), symbol });
    },
    day: (date) => dayFormat.format(date),
    month: (date) => monthFormat.format(date),
    dayRange(from, to) {
      const sameMonth = from.getUTCFullYear() === to.getUTCFullYear() && from.getUTCMonth() === to.getUTCMonth();
      if (sameMonth && from.getUTCDate() !== to.getUTCDate()) {
        return fill('format.dayRangeInMonth', messages['format.dayRangeInMonth'], {
          first: dayOnly.format(from),
          last: dayFormat.format(to),
        });
      }
      if (sameMonth) return dayFormat.format(to);
      return fill('format.dayRange', messages['format.dayRange'], {
        from: dayFormat.format(from),
        to: dayFormat.format(to),
      });
    },
    dateTime: (date) => dateTimeFormat.format(date),
    list: (items) => listFormat.format(items),
  };
}
