import { describe, expect, it } from 'vitest';
import type { CellValue } from '../../shared/table.js';
import { BAD, readAmount, readBoolean, readDay, readProbability, readText } from './parse-values.js';

const day = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

describe('readAmount', () => {
  it.each<[CellValue, number | null | typeof BAD]>([
    [45047, 45047],
    ['$45,047', 45047],
    ['45,047.50', 45047.5],
    ['(1,200)', -1200],
    ['-$1,200', -1200],
    ['$-1,200', -1200],
    ['€ 1 234', 1234],
    ['1,234 EUR', 1234],
    ['USD 1,234', 1234],
    ['$1.2M', 1_200_000],
    ['45K', 45_000],
    ["1'234", 1234],
    ['', null],
    ['   ', null],
    [null, null],
    ['abc', BAD],
    ['$1,2,3.4.5', BAD],
    [Number.NaN, BAD],
    [Number.POSITIVE_INFINITY, BAD],
    [true, BAD],
    [new Date(0), BAD],
  ])('%j → %s', (input, expected) => {
    expect(readAmount(input)).toBe(expected);
  });
});

describe('readProbability', () => {
  it.each<[CellValue, number | null | typeof BAD]>([
    [0.4, 0.4],
    [40, 0.4],
    [1, 1],
    [0, 0],
    ['40%', 0.4],
    ['14.4%', 0.144],
    ['0.25', 0.25],
    ['', null],
    [null, null],
    ['-5%', BAD],
    [250, BAD],
    ['high', BAD],
  ])('%j → %s', (input, expected) => {
    const got = readProbability(input);
    if (typeof expected === 'number') expect(got).toBeCloseTo(expected, 10);
    else expect(got).toBe(expected);
  });
});

describe('readBoolean', () => {
  it.each<[CellValue, boolean | null | typeof BAD]>([
    [true, true],
    [false, false],
    ['True', true],
    ['FALSE', false],
    ['yes', true],
    ['No', false],
    ['1', true],
    [0, false],
    [1, true],
    ['', null],
    [null, null],
    ['maybe', BAD],
    [2, BAD],
  ])('%j → %s', (input, expected) => {
    expect(readBoolean(input)).toBe(expected);
  });
});

describe('readDay', () => {
  it.each<[CellValue, number | null | typeof BAD]>([
    [new Date(Date.UTC(2026, 10, 27, 9, 30)), day('2026-11-27')],
    ['2026-11-27', day('2026-11-27')],
    ['2026-11-27T10:00:00', day('2026-11-27')],
    ['11/27/2026', day('2026-11-27')],
    ['1/5/2026 9:30 AM', day('2026-01-05')],
    ['', null],
    [null, null],
    ['2026-02-30', BAD],
    ['13/01/2026', BAD],
    ['yesterday', BAD],
    [new Date(Number.NaN), BAD],
    [45000, BAD],
  ])('%j → %s', (input, expected) => {
    expect(readDay(input)).toBe(expected);
  });
});

describe('readText', () => {
  it.each<[CellValue, string | null]>([
    ['  Amélie Laurent ', 'Amélie Laurent'],
    ['', null],
    [null, null],
    [42, '42'],
    [true, 'true'],
    [new Date(Date.UTC(2026, 0, 2)), '2026-01-02'],
  ])('%j → %j', (input, expected) => {
    expect(readText(input)).toBe(expected);
  });
});
