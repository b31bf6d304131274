import { describe, expect, it } from 'vitest';
import { buildEqFilter, listAllPages, normaliseViewContentUrl, sheetTypeWarnings } from './view-lookup.js';
import type { Page, TableauView } from './tableau-xml.js';

const item = (id: string) => ({ id });

describe('listAllPages', () => {
  it('walks until pageNumber*pageSize >= totalAvailable and dedupes by id', async () => {
    const pages: Record<number, Page<{ id: string }>> = {
      1: { items: [item('a'), item('b')], pagination: { pageNumber: 1, pageSize: 2, totalAvailable: 5 } },
      2: { items: [item('b'), item('c')], pagination: { pageNumber: 2, pageSize: 2, totalAvailable: 5 } },
      3: { items: [item('d')], pagination: { pageNumber: 3, pageSize: 2, totalAvailable: 5 } },
    };
    const asked: number[] = [];
    const all = await listAllPages(async (n) => {
      asked.push(n);
      return pages[n] ?? { items: [], pagination: undefined };
    });
    expect(all.map((x) => x.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(asked).toEqual([1, 2, 3]);
  });

  it('treats a missing <pagination> as one page, and stops on a page that brings nothing new', async () => {
    let calls = 0;
    expect(await listAllPages(async () => (calls++, { items: [item('x')], pagination: undefined }))).toHaveLength(1);
    expect(calls).toBe(1);
    calls = 0;
    const stuck = await listAllPages(
      async () => (calls++, { items: [item('x')], pagination: { pageNumber: 1, pageSize: 1, totalAvailable: 99 } }),
    );
    expect(stuck).toHaveLength(1);
    expect(calls).toBe(2);
  });
});

describe('buildEqFilter', () => {
  it('percent-encodes values and joins with commas', () => {
    expect(
      buildEqFilter([
        ['name', 'Sales Pipeline'],
        ['projectName', undefined],
      ]),
    ).toBe('name:eq:Sales%20Pipeline');
    expect(
      buildEqFilter([
        ['name', 'A'],
        ['projectName', 'B'],
      ]),
    ).toBe('name:eq:A,projectName:eq:B');
  });

  it('gives up (filter on our side) for values Tableau cannot filter on', () => {
    expect(buildEqFilter([['name', 'Smith, Jones']])).toBeUndefined();
    expect(buildEqFilter([['name', 'R&D']])).toBeUndefined();
    expect(buildEqFilter([['name', undefined]])).toBeUndefined();
  });
});

describe('normaliseViewContentUrl', () => {
  it.each([
    ['SalesPipeline/sheets/Opportunities', 'SalesPipeline/sheets/Opportunities'],
    ['SalesPipeline/Opportunities', 'SalesPipeline/sheets/Opportunities'],
    ['views/SalesPipeline/Opportunities', 'SalesPipeline/sheets/Opportunities'],
    ['/SalesPipeline/sheets/Opportunities/', 'SalesPipeline/sheets/Opportunities'],
  ])('%s → %s', (input, expected) => {
    expect(normaliseViewContentUrl(input)).toBe(expected);
  });
});

describe('sheetTypeWarnings', () => {
  const v = (name: string, sheetType: string | undefined): TableauView => ({
    id: name,
    name,
    contentUrl: `Wb/sheets/${name}`,
    viewUrlName: name,
    sheetType,
    workbookId: 'wb',
    workbookName: 'Wb',
    projectId: undefined,
    projectName: undefined,
  });
  it('names the worksheets to export instead of a dashboard; says nothing for a worksheet', () => {
    const views = [v('Overview', 'dashboard'), v('Sales', 'worksheet'), v('Story', 'story'), v('Map', 'worksheet')];
    expect(sheetTypeWarnings(views[0] as TableauView, 'Wb', views)).toEqual([
      "view 'Overview' of workbook 'Wb' is a dashboard: Tableau exports only the data of one of its worksheets (the first, alphabetically); export a worksheet instead: 'Map', 'Sales', or every sheet it shows with `dashboard: { workbook: Wb, name: Overview }`",
    ]);
    expect(sheetTypeWarnings(views[2] as TableauView, 'Wb', views)[0]).toContain('is a story');
    expect(sheetTypeWarnings(views[1] as TableauView, 'Wb', views)).toEqual([]);
  });
});
