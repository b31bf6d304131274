/**
 * Tolerant readers for cell values. The typing stage normally hands us numbers, booleans and Dates, but a column it
 * could not type (mixed values, a custom Tableau format) arrives as display text: `"$45,047"`, `"(1,200)"`, `"40%"`,
 * `"True"`, `"11/27/2026"`. Each reader returns the value, `null` for a blank cell, or {@link BAD} for a value it
 * cannot read, so the collector can count bad values instead of throwing.
 */
import type { CellValue } from '../../shared/table.js';
import { dayFromParts, toDay } from './dates.js';

export const BAD = Symbol('bad value');
export type Read<T> = T | null | typeof BAD;

const SCALE: Readonly<Record<string, number>> = { k: 1e3, m: 1e6, b: 1e9, bn: 1e9 };

/**
 * An amount: a finite number, or display text with currency symbols/codes, thousands separators (`,`, spaces,
 * apostrophes), accounting negatives `(1,200)`, a leading minus and an optional K/M/B suffix (`$1.2M`).
 */
export function readAmount(value: CellValue): Read<number> {
  if (value === null) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : BAD;
  if (typeof value !== 'string') return BAD;
  let text = value.trim();
  if (text === '') return null;
  let sign = 1;
  if (/^\(.*\)$/.test(text)) {
    sign = -1;
    text = text.slice(1, -1).trim();
  }
  // Currency symbols and ISO codes on either side, and grouping characters, carry no value.
  text = text.replace(/^[A-Za-z]{3}\s+|\s+[A-Za-z]{3}$/g, '').replace(/[$€£¥₹¤\s\u00a0\u202f',]/g, '');
  if (text.startsWith('-')) {
    sign = -sign;
    text = text.slice(1);
  }
  text = text.replace(/^[$€£¥₹]/, '');
  const m = /^(\d+(?:\.\d+)?|\.\d+)(k|m|bn|b)?$/i.exec(text);
  if (m === null) return BAD;
  const scale = m[2] === undefined ? 1 : (SCALE[m[2].toLowerCase()] ?? 1);
  const n = sign * Number(m[1]) * scale;
  return Number.isFinite(n) ? n : BAD;
}

/** A probability as a fraction 0–1: `0.4`, `40` (percent points, when above 1), or text `"40%"` / `"0.4"`. */
export function readProbability(value: CellValue): Read<number> {
  if (value === null) return null;
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') return null;
    const m = /^(-?\d+(?:\.\d+)?)\s*(%?)$/.exec(text.replace(/,/g, ''));
    if (m === null) return BAD;
    n = m[2] === '%' ? Number(m[1]) / 100 : Number(m[1]);
  } else return BAD;
  if (!Number.isFinite(n) || n < 0) return BAD;
  const fraction = n > 1 ? n / 100 : n;
  return fraction > 1 ? BAD : fraction;
}

const TRUE_TEXT = new Set(['true', 'yes', 'y', '1', 'won', 'closed']);
const FALSE_TEXT = new Set(['false', 'no', 'n', '0', 'open']);

/** A boolean: `true`, `1`, or text `True`/`Yes`/`1` (and `False`/`No`/`0`), case-insensitive. */
export function readBoolean(value: CellValue): Read<boolean> {
  if (value === null) return null;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : BAD;
  if (typeof value !== 'string') return BAD;
  const text = value.trim().toLowerCase();
  if (text === '') return null;
  if (TRUE_TEXT.has(text)) return true;
  if (FALSE_TEXT.has(text)) return false;
  return BAD;
}

/**
 * A calendar date as a day number: a Date (its UTC calendar date), or text `YYYY-MM-DD` (optionally followed by a
 * time) or US `M/D/YYYY` (Tableau's en-US rendering, optionally followed by a time).
 */
export function readDay(value: CellValue): Read<number> {
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? BAD : toDay(value);
  if (typeof value !== 'string') return BAD;
  const text = value.trim();
  if (text === '') return null;
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$/.exec(text);
  if (iso !== null) return dayFromParts(Number(iso[1]), Number(iso[2]), Number(iso[3])) ?? BAD;
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s.*)?$/.exec(text);
  if (us !== null) return dayFromParts(Number(us[3]), Number(us[1]), Number(us[2])) ?? BAD;
  return BAD;
}

/** A label (owner, region...): trimmed text; numbers and booleans as written; Dates as `YYYY-MM-DD`; blank → null. */
export function readText(value: CellValue): string | null {
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString().slice(0, 10);
  const text = String(value).trim();
  return text === '' ? null : text;
}
