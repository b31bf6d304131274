import { readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SourceError } from '../../shared/errors.js';
import { openCsvTable } from '../csv/read-csv.js';
import { legacyApiVersionForProduct } from './api-version.js';
import { errorFromResponse } from './tableau-errors.js';
import {
  parseLegacyAuthInfo,
  parseServerInfoResponse,
  parseSignInResponse,
  parseTableauErrorBody,
  parseTsResponse,
  parseViewResponse,
  parseViewsPage,
  parseWorkbookResponse,
  parseWorkbooksPage,
} from './tableau-xml.js';

const DIR = join(import.meta.dirname, '../../../test/fixtures/tableau/recorded');
const read = (name: string): string => readFileSync(join(DIR, name), 'utf8');
const ctx = { what: 'test call', site: 'sales', credentialsHint: 'check the PAT' };

/** Every recorded file and the test that parses it (kept in sync with the folder by the last test). */
const COVERED = new Set<string>();
const use = (name: string): string => {
  COVERED.add(name);
  return read(name);
};

describe('sign-in responses', () => {
  it('parses the token, site and user of auth_sign_in.xml', () => {
    expect(parseSignInResponse(use('auth_sign_in.xml'))).toEqual({
      token: 'eIX6mvFsqyansa4KqEI1UwOpS8ggRs2l',
      siteId: '6b7179ba-b82b-4f0f-91ed-812074ac5da6',
      siteContentUrl: 'Samples',
      userId: '1a96d216-e9b8-497b-a82a-0b899a965e01',
      estimatedTimeToExpiration: undefined,
    });
  });

  it('parses the default-site (contentUrl="") impersonation answer', () => {
    const r = parseSignInResponse(use('auth_sign_in_impersonate.xml'));
    expect(r.siteContentUrl).toBe('');
    expect(r.siteId).toBe('dad65087-b08b-4603-af4e-2887b8aafc67');
    expect(r.token).toBe('MJonFA6HDyy2C3oqR13fRGqE6cmgzwq3');
  });

  it('maps the 401001 error envelope to TABLEAU_AUTH_FAILED with the credentials hint', () => {
    const text = use('auth_sign_in_error.xml');
    expect(parseTableauErrorBody(text)).toEqual({
      code: '401001',
      summary: 'Signin Error',
      detail: 'Error signing in to Tableau Server',
    });
    const err = errorFromResponse({ status: 401, headers: {}, text }, ctx, new Date());
    expect(err.code).toBe('TABLEAU_AUTH_FAILED');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('401001 Signin Error: Error signing in to Tableau Server');
    expect(err.hint).toContain('check the PAT');
    expect(() => parseSignInResponse(text)).toThrow(SourceError);
  });
});

describe('server info', () => {
  it('keeps restApiVersion "3.10" as a string (not the number 3.1)', () => {
    expect(parseServerInfoResponse(use('server_info_get.xml'))).toEqual({
      productVersion: '10.1.0',
      build: '10100.16.1024.2100',
      restApiVersion: '3.10',
    });
  });

  it('parses server_info_25.xml', () => {
    expect(parseServerInfoResponse(use('server_info_25.xml')).restApiVersion).toBe('2.5');
  });

  it('reads the 404003 of a pre-2.4 server', () => {
    const text = use('server_info_404.xml');
    expect(parseTableauErrorBody(text)?.code).toBe('404003');
    const err = errorFromResponse({ status: 404, headers: {}, text }, ctx, new Date());
    expect(err.details['tableauCode']).toBe('404003');
    expect(err.retryable).toBe(false);
  });

  it('maps the legacy /auth?format=xml answer to an API version', () => {
    const legacy = parseLegacyAuthInfo(use('server_info_auth_info.xml'));
    expect(legacy).toEqual({ productVersion: '9.3', externalVersion: '9.3.4' });
    expect(legacyApiVersionForProduct(legacy.productVersion)).toBe('2.2');
  });

  it('treats an HTML page as non-Tableau and keeps it (truncated) in the error', () => {
    const text = use('server_info_wrong_site.html');
    expect(parseTsResponse(text)).toBeUndefined();
    expect(parseTableauErrorBody(text)).toBeUndefined();
    expect(() => parseServerInfoResponse(text)).toThrow(/not Tableau REST XML.*Example website/);
    const err = errorFromResponse({ status: 502, headers: {}, text }, ctx, new Date());
    expect(err.code).toBe('TABLEAU_SERVER_ERROR');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('non-XML body: <html lang="en"> <head>');
    expect(String(err.details['body']).length).toBeLessThanOrEqual(2001);
  });
});

describe('views', () => {
  it('parses Query Views for Site with pagination, tags and a story', () => {
    for (const name of ['view_get.xml', 'view_get_usage.xml']) {
      const page = parseViewsPage(use(name));
      expect(page.pagination).toEqual({ pageNumber: 1, pageSize: 100, totalAvailable: 2 });
      expect(page.items.map((v) => [v.name, v.sheetType, v.viewUrlName])).toEqual([
        ['ENDANGERED SAFARI', undefined, 'ENDANGEREDSAFARI'],
        ['Overview', 'story', 'Overview'],
      ]);
      expect(page.items[0]?.workbookId).toBe('3cc6cd06-89ce-4fdc-b935-5294135d6d42');
    }
  });

  it('parses the ns0:-prefixed Cloud answer with nested workbook and project names', () => {
    const page = parseViewsPage(use('view_get_all_fields.xml'));
    expect(page.pagination?.totalAvailable).toBe(40);
    expect(page.items).toHaveLength(3);
    expect(page.items[0]).toMatchObject({
      id: '2bdcd787-dcc6-4a5d-bc61-2846f1ef4534',
      name: 'Overview',
      viewUrlName: 'Overview',
      sheetType: 'dashboard',
      workbookName: 'Superstore',
      projectName: 'Samples',
    });
  });

  it('parses Get View by id', () => {
    for (const name of ['view_get_id.xml', 'view_get_id_usage.xml']) {
      const v = parseViewResponse(use(name));
      expect(v).toMatchObject({
        id: 'd79634e1-6063-4ec9-95ff-50acbf609ff5',
        sheetType: 'story',
        workbookId: '3cc6cd06-89ce-4fdc-b935-5294135d6d42',
      });
    }
  });

  it.each([
    ['request_option_pagination.xml', { pageNumber: 1, pageSize: 10, totalAvailable: 33 }, 10],
    ['request_option_page_number.xml', { pageNumber: 3, pageSize: 100, totalAvailable: 210 }, 10],
    ['request_option_page_size.xml', { pageNumber: 1, pageSize: 5, totalAvailable: 33 }, 5],
    ['queryset_slicing_page_1.xml', { pageNumber: 1, pageSize: 10, totalAvailable: 20 }, 10],
    ['queryset_slicing_page_2.xml', { pageNumber: 2, pageSize: 10, totalAvailable: 20 }, 10],
  ])('parses the paged list %s', (name, pagination, count) => {
    const page = parseViewsPage(use(name));
    expect(page.pagination).toEqual(pagination);
    expect(page.items).toHaveLength(count);
  });

  it('parses Query Views for Workbook, which has no <pagination>', () => {
    for (const name of ['workbook_populate_views.xml', 'workbook_populate_views_usage.xml']) {
      const page = parseViewsPage(use(name), { id: 'wb', name: 'RESTAPISample' });
      expect(page.pagination).toBeUndefined();
      expect(page.items.map((v) => v.viewUrlName)).toEqual(['GDPpercapita', 'Countryranks', 'Interestrates']);
      expect(page.items[0]?.workbookName).toBe('RESTAPISample');
    }
  });
});

describe('workbooks', () => {
  it('parses Query Workbooks for Site with projects', () => {
    const page = parseWorkbooksPage(use('workbook_get.xml'));
    expect(page.items.map((w) => [w.name, w.contentUrl, w.projectName])).toEqual([
      ['Superstore', 'Superstore', 'default'],
      ['SafariSample', 'SafariSample', 'default'],
    ]);
  });

  it('parses the ns0: Cloud answer, including a workbook in a personal space (no project)', () => {
    const page = parseWorkbooksPage(use('workbook_get_all_fields.xml'));
    expect(page.items).toHaveLength(6);
    expect(page.items[0]).toMatchObject({
      name: 'Superstore',
      projectName: 'Samples',
      webpageUrl: 'https://10ax.online.tableau.com/#/site/exampledev/workbooks/265605',
    });
    expect(page.items[5]).toMatchObject({ name: 'PersonalSpaceDemo', projectName: undefined });
  });

  it('parses an empty list (<workbooks />)', () => {
    expect(parseWorkbooksPage(use('workbook_get_empty.xml'))).toEqual({
      items: [],
      pagination: { pageNumber: 1, pageSize: 100, totalAvailable: 0 },
    });
  });

  it('parses the three-page walk', () => {
    const names = ['workbook_get_page_1.xml', 'workbook_get_page_2.xml', 'workbook_get_page_3.xml'].map(
      (n) => parseWorkbooksPage(use(n)).items[0]?.name,
    );
    expect(names).toEqual(['Page1Workbook', 'Page2Workbook', 'Page3Workbook']);
  });

  it('keeps two workbooks that share a name apart by contentUrl', () => {
    const page = parseWorkbooksPage(use('request_option_filter_equals.xml'));
    expect(page.items.map((w) => [w.name, w.contentUrl, w.projectName])).toEqual([
      ['RESTAPISample', 'RESTAPISample', 'Tableau'],
      ['RESTAPISample', 'RESTAPISample_0', 'default'],
    ]);
  });

  it('parses Get Workbook with its nested views', () => {
    const wb = parseWorkbookResponse(use('workbook_get_by_id.xml'));
    expect(wb.name).toBe('SafariSample');
    expect(wb.views?.map((v) => [v.name, v.workbookName])).toEqual([['ENDANGERED SAFARI', 'SafariSample']]);
  });
});

describe('namespaces', () => {
  it('accepts the old tableausoftware.com namespace and rejects a foreign one', () => {
    const body = (ns: string): string =>
      `<tsResponse xmlns="${ns}"><serverInfo><productVersion>9.0.1</productVersion><restApiVersion>2.0</restApiVersion></serverInfo></tsResponse>`;
    expect(parseServerInfoResponse(body('http://tableausoftware.com/api')).restApiVersion).toBe('2.0');
    expect(parseTsResponse(body('http://example.com/other'))).toBeUndefined();
  });

  it('requires the prefix of a prefixed root to be bound to the Tableau namespace', () => {
    expect(
      parseTsResponse(
        '<x:tsResponse xmlns="http://tableau.com/api" xmlns:x="urn:other"><x:error code="1"/></x:tsResponse>',
      ),
    ).toBeUndefined();
    expect(
      parseTableauErrorBody(
        '<t:tsResponse xmlns:t="http://tableau.com/api"><t:error code="429000"><t:summary>Too Many Requests</t:summary><t:detail>x</t:detail></t:error></t:tsResponse>',
      )?.code,
    ).toBe('429000');
  });

  it('reads the JSON error envelope', () => {
    expect(parseTableauErrorBody('{"error":{"code":"403157","summary":"Feature disabled","detail":"images"}}')).toEqual(
      {
        code: '403157',
        summary: 'Feature disabled',
        detail: 'images',
      },
    );
  });
});

describe('entities', () => {
  it('never expands a DOCTYPE entity (billion laughs), and still decodes the predefined ones', () => {
    const lol = Array.from({ length: 9 }, (_, i) =>
      i === 0 ? '<!ENTITY lol0 "lol">' : `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`,
    ).join('');
    const text =
      `<?xml version="1.0"?><!DOCTYPE tsResponse [${lol}]>` +
      '<tsResponse xmlns="http://tableau.com/api"><serverInfo>' +
      '<productVersion build="&lol8;">P&amp;L &lt;2026&gt; &#233;t&#xE9;</productVersion>' +
      '<restApiVersion>&lol8;</restApiVersion></serverInfo></tsResponse>';
    expect(parseTsResponse(text)).toEqual({
      serverInfo: {
        productVersion: { build: '&lol8;', '#text': 'P&L <2026> été' },
        restApiVersion: '&lol8;',
      },
    });
  });
});

describe('view data', () => {
  it('opens populate_csv.csv (CRLF, display formats, Measure Names/Values long form) via openCsvTable', async () => {
    COVERED.add('populate_csv.csv');
    const dir = await mkdtemp(join(tmpdir(), 'tableau-csv-'));
    try {
      const file = join(dir, 'data.csv');
      await copyFile(join(DIR, 'populate_csv.csv'), file);
      const table = await openCsvTable(file, { provenance: { source: 'tableau' }, removeOnDispose: true });
      expect(table.header).toEqual([
        'Measure Names',
        'Region',
        'Profit Ratio',
        'Sales per Customer',
        'Distinct count of Customer Name',
        'Measure Values',
        'Profit',
        'Quantity',
        'Sales',
      ]);
      const rows = [];
      for await (const r of table.rows()) rows.push(r);
      expect(rows).toHaveLength(24);
      expect(rows[1]).toEqual([
        'Sales',
        'South',
        '14.4%',
        '$711.83',
        '438',
        '311,783.644',
        '$45,047',
        '5,004',
        '$311,784',
      ]);
      await table.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('fixture coverage', () => {
  it('parses every recorded response (the xlsx is a re-saved CSV the client never requests)', () => {
    const notResponses = new Set(['README.md', 'populate_excel.xlsx']);
    const files = readdirSync(DIR).filter((f) => !notResponses.has(f));
    expect(files.filter((f) => !COVERED.has(f))).toEqual([]);
  });
});
