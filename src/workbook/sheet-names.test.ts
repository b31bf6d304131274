import { describe, expect, it } from 'vitest';
import { createSheetNamer, MAX_SHEET_NAME_LENGTH, sanitizeSheetName } from './sheet-names.js';

describe('sanitizeSheetName', () => {
  it.each([
    ['Opportunities', 'Opportunities'],
    ['Win/Loss [FY26]: *all*?', 'Win-Loss -FY26-- -all--'],
    ['a\\b', 'a-b'],
    ["'Quoted'", 'Quoted'],
    ["  ' padded '  ", 'padded'],
    ['', 'Sheet'],
    ["'''", 'Sheet'],
    ['History', 'History (data)'],
    ['history', 'history (data)'],
    ['Tab\twith\ncontrol', 'Tab-with-control'],
  ])('%j → %j', (input, expected) => {
    expect(sanitizeSheetName(input)).toBe(expected);
  });

  it('cuts to 31 characters and drops an apostrophe the cut exposes', () => {
    expect(sanitizeSheetName('x'.repeat(40))).toBe('x'.repeat(31));
    expect(sanitizeSheetName(`${'y'.repeat(30)}'z`)).toBe('y'.repeat(30));
  });

  it('never splits a surrogate pair', () => {
    const name = `${'a'.repeat(30)}😀b`;
    const result = sanitizeSheetName(name);
    expect(result).toBe('a'.repeat(30));
    expect(result.length).toBeLessThanOrEqual(MAX_SHEET_NAME_LENGTH);
  });

  it('always returns a name Excel accepts', () => {
    for (const input of ['[]:*?/\\', "''x''", ' ', 'HISTORY', 'x'.repeat(100)]) {
      const result = sanitizeSheetName(input);
      expect(result.length).toBeGreaterThan(0);
      expect(result.length).toBeLessThanOrEqual(31);
      expect(result).not.toMatch(/[[\]:*?/\\]/);
      expect(result).not.toMatch(/^'|'$/);
      expect(result.toLowerCase()).not.toBe('history');
    }
  });
});

describe('createSheetNamer', () => {
  it('makes names unique ignoring case', () => {
    const namer = createSheetNamer();
    expect(namer.take('Opportunities')).toBe('Opportunities');
    expect(namer.take('opportunities')).toBe('opportunities (2)');
    expect(namer.take('Opportunities')).toBe('Opportunities (3)');
    expect(namer.has('OPPORTUNITIES (2)')).toBe(true);
    expect(namer.has('Summary')).toBe(false);
  });

  it('keeps the suffix within 31 characters', () => {
    const namer = createSheetNamer();
    const long = 'A very long view name that keeps going';
    const first = namer.take(long);
    const second = namer.take(long);
    expect(first).toBe(long.slice(0, 31).trimEnd());
    expect(second).toBe(`${long.slice(0, 27).trimEnd()} (2)`);
    expect(second.length).toBeLessThanOrEqual(31);
    for (let i = 3; i <= 12; i += 1) {
      const next = namer.take(long);
      expect(next.endsWith(` (${i})`)).toBe(true);
      expect(next.length).toBeLessThanOrEqual(31);
    }
  });

  it('de-duplicates after sanitising', () => {
    const namer = createSheetNamer();
    expect(namer.take('Q1/Q2')).toBe('Q1-Q2');
    expect(namer.take('Q1:Q2')).toBe('Q1-Q2 (2)');
    expect(namer.take('')).toBe('Sheet');
    expect(namer.take('')).toBe('Sheet (2)');
  });
});
