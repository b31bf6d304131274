import { describe, expect, it } from 'vitest';
import { encodeDrivePath, sideBySideName, splitDrivePath, validateDrivePath } from './drive-path.js';

describe('validateDrivePath', () => {
  it.each([
    ['Reports/Sales Pipeline.xlsx'],
    ['Sales Pipeline.xlsx'],
    ['/Reports//2026/Q1 #1 & 50%.xlsx'],
    ['Équipe/Données été.xlsx'],
    ['Reports/CONTOSO.xlsx'],
    ['Reports/console.xlsx'],
  ])('accepts %s', (path) => {
    expect(validateDrivePath(path)).toEqual({ errors: [], warnings: [] });
  });

  it.each([
    ['Reports/Q1: pipeline.xlsx', "contains ':'"],
    ['Reports/a"b.xlsx', `contains '"'`],
    ['Reports/a*b.xlsx', "contains '*'"],
    ['Reports/a<b>.xlsx', "contains '<', '>'"],
    ['Reports/why?.xlsx', "contains '?'"],
    ['Reports/a|b.xlsx', "contains '|'"],
    ['Reports\\Sales.xlsx', "uses '\\'"],
    ['CON/Sales.xlsx', "folder name 'CON' is a reserved name"],
    ['Reports/nul.xlsx', "'nul.xlsx' is a reserved name"],
    ['Reports/COM1', 'reserved name'],
    ['Reports/LPT9.txt', 'reserved name'],
    ['Reports/.lock', 'reserved name'],
    ['Reports/desktop.ini', 'reserved name'],
    ['Reports/my_vti_file.xlsx', "'_vti_'"],
    ['Reports/~$Sales.xlsx', "starts with '~$'"],
    ['~Old/Sales.xlsx', "starts with '~'"],
    ['Reports/ Sales.xlsx', 'starts or ends with a space'],
    ['Reports /Sales.xlsx', 'starts or ends with a space'],
    ['Reports/Sales.', "ends with '.'"],
    ['Reports./Sales.xlsx', "ends with '.'"],
    ['Reports/../Sales.xlsx', 'relative path segment'],
    ['Reports/tab\there.xlsx', 'control character'],
    ['', 'path is empty'],
    ['///', 'path is empty'],
    [`${'a'.repeat(200)}/${'b'.repeat(201)}.xlsx`, 'at most 400'],
  ])('refuses %s (%s)', (path, fragment) => {
    const { errors } = validateDrivePath(path);
    expect(errors.join(' | ')).toContain(fragment);
  });

  it('warns past 218 characters (Excel desktop) but accepts up to 400', () => {
    const path = `${'a'.repeat(100)}/${'b'.repeat(120)}.xlsx`;
    const result = validateDrivePath(path);
    expect(result.errors).toEqual([]);
    expect(result.warnings[0]).toContain('Excel desktop');
    expect(validateDrivePath(`${'a'.repeat(100)}/${'b'.repeat(112)}.xlsx`).warnings).toEqual([]);
  });

  it('reports every problem at once', () => {
    expect(validateDrivePath('CON/~$a?.').errors.length).toBeGreaterThanOrEqual(4);
  });
});

describe('path helpers', () => {
  it('splits and encodes each segment on its own', () => {
    expect(splitDrivePath('/Reports//Q1/')).toEqual(['Reports', 'Q1']);
    expect(encodeDrivePath(['Sales Reports', 'Q1 #1 & 50%.xlsx'])).toBe('Sales%20Reports/Q1%20%231%20%26%2050%25.xlsx');
  });

  it.each([
    ['Sales Pipeline.xlsx', '2026-11-27T05:00:00Z', 'Europe/Paris', 'Sales Pipeline (refreshed 2026-11-27 0600).xlsx'],
    [
      'Sales Pipeline.xlsx',
      '2026-11-27T05:00:00Z',
      'America/New_York',
      'Sales Pipeline (refreshed 2026-11-27 0000).xlsx',
    ],
    ['Sales.Pipeline.xlsx', '2026-03-01T23:59:00Z', 'UTC', 'Sales.Pipeline (refreshed 2026-03-01 2359).xlsx'],
    ['README', '2026-03-01T12:05:00Z', 'Asia/Tokyo', 'README (refreshed 2026-03-01 2105)'],
  ])('side-by-side name of %s at %s in %s', (name, at, tz, expected) => {
    expect(sideBySideName(name, new Date(at), tz)).toBe(expected);
  });
});
