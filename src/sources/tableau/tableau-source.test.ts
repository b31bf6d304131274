import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ViewRequest } from '../../contracts/ports.js';
import { systemClock } from '../../shared/clock.js';
import type { AppError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { createRedactor } from '../../shared/redact.js';
import { createTableauSource, type TableauSourceOptions } from './tableau-source.js';

const SERVER = 'https://tableau.test';
const CLOUD = 'https://online.tableau.com';
const POD = 'https://10ay.online.tableau.com';
const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/tableau/recorded');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const SITE_ID = '6b7179ba-b82b-4f0f-91ed-812074ac5da6';
const TOKEN = 'eIX6mvFsqyansa4KqEI1UwOpS8ggRs2l';
const PAT_SECRET = 'pat-secret-never-logged';
const XML = { 'Content-Type': 'application/xml' };

function serverInfo(version: string): string {
  return `<tsResponse xmlns="http://tableau.com/api"><serverInfo><productVersion build="1">2024.2.0</productVersion><restApiVersion>${version}</restApiVersion></serverInfo></tsResponse>`;
}
function signInXml(token: string): string {
  return `<tsResponse xmlns="http://tableau.com/api"><credentials token="${token}"><site id="${SITE_ID}" contentUrl="Samples"/><user id="u1"/></credentials></tsResponse>`;
}

function setup(overrides: Partial<TableauSourceOptions> = {}) {
  const lines: string[] = [];
  const redactor = createRedactor();
  const logger = createLogger({ redactor, level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
  const sleeps: number[] = [];
  const source = createTableauSource(
    {
      serverUrl: SERVER,
      site: 'Samples',
      apiVersion: 'auto',
      auth: { type: 'pat', tokenName: 'export-bot', tokenSecret: PAT_SECRET },
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 10_000, maxTotalMs: 60_000 },
      ...overrides,
    },
    {
      logger,
      redactor,
      clock: systemClock,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      random: () => 0.5,
    },
  );
  return { source, lines, sleeps, logger, redactor, signal: new AbortController().signal };
}

const view = (v: Partial<ViewRequest>): ViewRequest => ({ filters: {}, parameters: {}, maxAgeMinutes: 1, ...v });

let tempDir: string;
beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.enableNetConnect());
beforeEach(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'tableau-src-'));
});
afterEach(async () => {
  nock.cleanAll();
  await rm(tempDir, { recursive: true, force: true });
});

/** serverInfo + PAT sign-in on SERVER. */
function signedIn(version = '3.21'): nock.Scope {
  return nock(SERVER)
    .get('/api/2.4/serverInfo')
    .reply(200, serverInfo(version), XML)
    .post(`/api/${version}/auth/signin`)
    .reply(200, signInXml(TOKEN), XML);
}

describe('createTableauSource against recorded responses (nock)', () => {
  it('signs in with a PAT, sends X-Tableau-Auth, encodes vf_ filters and maxAge, streams the CSV and signs out', async () => {
    const { source, lines, signal, logger } = setup();
    let signInBody = '';
    let dataPath = '';
    const scope = nock(SERVER)
      .get('/api/2.4/serverInfo')
      .reply(200, fixture('server_info_get.xml'), XML)
      .post('/api/3.10/auth/signin', (body: string) => {
        signInBody = body;
        return true;
      })
      .reply(200, fixture('auth_sign_in.xml'), XML);
    const authed = nock(SERVER, { reqheaders: { 'x-tableau-auth': TOKEN } })
      .get(`/api/3.10/sites/${SITE_ID}/views/d79634e1-6063-4ec9-95ff-50acbf609ff5`)
      .reply(200, fixture('view_get_id.xml'), XML)
      .get(`/api/3.10/sites/${SITE_ID}/workbooks/3cc6cd06-89ce-4fdc-b935-5294135d6d42`)
      .reply(200, fixture('workbook_get_by_id.xml'), XML)
      .get(`/api/3.10/sites/${SITE_ID}/workbooks/3cc6cd06-89ce-4fdc-b935-5294135d6d42/views`)
      .reply(200, fixture('workbook_populate_views.xml'), XML)
      .get((uri) => {
        if (!uri.includes('/data?')) return false;
        dataPath = uri;
        return true;
      })
      .reply(200, fixture('populate_csv.csv'), { 'Content-Type': 'text/csv; charset=iso-8859-1' })
      .post('/api/3.10/auth/signout')
      .reply(204);

    const session = await source.open({ logger, signal });
    const table = await session.fetchView(
      view({
        viewId: 'd79634e1-6063-4ec9-95ff-50acbf609ff5',
        filters: { Region: ['East', 'West'], Customer: ['Smith, Jones & Co'], 'Sub-Category': ['Art & Crafts'] },
        parameters: { 'Top N': '10' },
        maxAgeMinutes: 1,
      }),
      { logger, signal, tempDir },
    );
    await session.close();

    expect(signInBody).toBe(
      `<tsRequest><credentials personalAccessTokenName="export-bot" personalAccessTokenSecret="${PAT_SECRET}"><site contentUrl="Samples" /></credentials></tsRequest>`,
    );
    expect(dataPath).toBe(
      `/api/3.10/sites/${SITE_ID}/views/d79634e1-6063-4ec9-95ff-50acbf609ff5/data?maxAge=1` +
        '&vf_Customer=Smith\\,%20Jones%20%26%20Co&vf_Region=East,West&vf_Sub-Category=Art%20%26%20Crafts&vf_Parameters.Top%20N=10',
    );
    expect(table.header[0]).toBe('Measure Names');
    // The spooled view data is pipeline data: this user only, whatever the umask.
    const spooled = await readdir(tempDir);
    expect(spooled).toHaveLength(1);
    expect((await stat(join(tempDir, spooled[0] ?? ''))).mode & 0o777).toBe(0o600);
    let rows = 0;
    for await (const _ of table.rows()) rows++;
    expect(rows).toBe(24);
    expect(table.bytes).toBe(Buffer.byteLength(fixture('populate_csv.csv')));
    expect(table.provenance).toMatchObject({
      server: SERVER,
      productVersion: '10.1.0',
      apiVersion: '3.10',
      site: 'Samples',
      workbook: 'SafariSample',
      project: 'default',
      viewId: 'd79634e1-6063-4ec9-95ff-50acbf609ff5',
      viewUrl: `${SERVER}/#/site/Samples/views/SafariSample/ENDANGEREDSAFARI`,
      filters: 'Customer = Smith, Jones & Co; Region = East | West; Sub-Category = Art & Crafts; Parameters.Top N = 10',
      maxAge: '1',
    });
    // view_get_id.xml says sheetType="story": the warning names the workbook's other views.
    expect(table.warnings).toEqual([
      expect.stringMatching(/is a story.*'Country ranks', 'GDP per capita', 'Interest rates'/),
    ]);
    await table.dispose();
    expect(await readdir(tempDir)).toEqual([]);
    expect(scope.isDone() && authed.isDone()).toBe(true);
    const log = lines.join('\n');
    expect(log).not.toContain(TOKEN);
    expect(log).not.toContain(PAT_SECRET);
  });

  it('re-POSTs the sign-in body to the pod on a redirect and uses the pod for the rest of the session', async () => {
    const { source } = setup({ pageSize: 1, serverUrl: CLOUD });
    const bodies: string[] = [];
    const main = nock(CLOUD)
      .get('/api/2.4/serverInfo')
      .reply(200, serverInfo('3.21'), XML)
      .post('/api/3.21/auth/signin', (b: string) => bodies.push(b) > 0)
      .reply(301, '', { Location: `${POD}/api/3.21/auth/signin` });
    const pod = nock(POD)
      .post('/api/3.21/auth/signin', (b: string) => bodies.push(b) > 0)
      .reply(200, signInXml(TOKEN), XML);
    // Pagination walk: pageSize=1 over three pages (TSC's Pager fixtures).
    for (const n of [1, 2, 3]) {
      pod
        .get(`/api/3.21/sites/${SITE_ID}/workbooks`)
        .query({ pageSize: '1', pageNumber: String(n) })
        .reply(200, fixture(`workbook_get_page_${n}.xml`), XML);
    }
    pod
      .get(/\/workbooks\/[^/]+\/views$/)
      .times(3)
      .reply(200, fixture('workbook_populate_views.xml'), XML);
    pod.post('/api/3.21/auth/signout').reply(204);

    const content = await source.listContent({});
    expect(content.map((w) => w.name)).toEqual(['Page1Workbook', 'Page2Workbook', 'Page3Workbook']);
    expect(content[0]?.views.map((v) => v.contentUrl)).toContain('RESTAPISample/sheets/GDPpercapita');
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toBe(bodies[0]);
    expect(main.isDone() && pod.isDone()).toBe(true);
  });

  it.each([
    [
      'another host',
      'https://collector.example.net/api/3.21/auth/signin?session=abc123',
      'another host, collector.example.net',
      'collector.example.net',
    ],
    [
      'plain http on the same host',
      'http://tableau.test/api/3.21/auth/signin',
      'http://tableau.test; credentials are only re-sent over https',
      'tableau.test',
    ],
    [
      'a look-alike of Tableau Cloud',
      'https://online.tableau.com.example.net/api/3.21/auth/signin',
      'another host, online.tableau.com.example.net',
      'online.tableau.com.example.net',
    ],
  ])('refuses to re-POST credentials on a sign-in redirect to %s', async (_label, location, says, host) => {
    const { source, signal, logger, lines } = setup();
    nock(SERVER)
      .get('/api/2.4/serverInfo')
      .reply(200, serverInfo('3.21'), XML)
      .post('/api/3.21/auth/signin')
      .reply(302, '', { Location: location });
    const target = new URL(location);
    const elsewhere = nock(target.origin)
      .post(() => true)
      .reply(200, signInXml(TOKEN), XML);
    const err = await source.open({ logger, signal }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TABLEAU_REDIRECT_REFUSED', retryable: false, details: { redirectHost: host } });
    expect((err as AppError).message).toContain(says);
    expect((err as AppError).userMessage).not.toContain('abc123');
    expect(elsewhere.isDone()).toBe(false);
    expect(lines.join('\n')).not.toContain(PAT_SECRET);
  });

  it('follows a sign-in redirect to another path on the same host', async () => {
    const { source, signal, logger } = setup();
    nock(SERVER)
      .get('/api/2.4/serverInfo')
      .reply(200, serverInfo('3.21'), XML)
      .post('/api/3.21/auth/signin')
      .reply(307, '', { Location: '/tableau/api/3.21/auth/signin' })
      .post('/tableau/api/3.21/auth/signin')
      .reply(200, signInXml(TOKEN), XML)
      .post('/tableau/api/3.21/auth/signout')
      .reply(204);
    await (await source.open({ logger, signal })).close();
    expect(nock.isDone()).toBe(true);
  });

  it('mints a fresh, correctly signed connected-app JWT for each sign-in', async () => {
    const secretValue = 'connected-app-secret-value';
    const { source, signal, logger, lines } = setup({
      auth: {
        type: 'connected-app',
        clientId: 'client-1',
        secretId: 'secret-1',
        secretValue,
        username: 'ops@example.com',
        scopes: ['tableau:workbooks:read'],
      },
    });
    const jwts: string[] = [];
    nock(SERVER)
      .get('/api/2.4/serverInfo')
      .times(2)
      .reply(200, serverInfo('3.21'), XML)
      .post('/api/3.21/auth/signin', (body: string) => {
        const m = /jwt="([^"]+)"/.exec(body);
        if (m?.[1] !== undefined) jwts.push(m[1]);
        return true;
      })
      .times(2)
      .reply(200, signInXml(TOKEN), XML)
      .post('/api/3.21/auth/signout')
      .times(2)
      .reply(204);

    for (let i = 0; i < 2; i++) await (await source.open({ logger, signal })).close();

    expect(jwts).toHaveLength(2);
    const decode = (part: string | undefined): Record<string, unknown> =>
      JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const claims = jwts.map((jwt) => {
      const [h, p, s] = jwt.split('.');
      expect(createHmac('sha256', secretValue).update(`${h}.${p}`).digest('base64url')).toBe(s);
      return { header: decode(h), payload: decode(p) };
    });
    const first = claims[0];
    expect(first?.header).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'secret-1', iss: 'client-1' });
    expect(first?.payload).toMatchObject({ iss: 'client-1', aud: 'tableau', sub: 'ops@example.com' });
    const { iat, exp, scp, jti } = first?.payload as { iat: number; exp: number; scp: string[]; jti: string };
    expect(exp - iat).toBeGreaterThan(0);
    expect(exp - iat).toBeLessThanOrEqual(600);
    expect(Math.abs(iat - Date.now() / 1000)).toBeLessThan(60);
    expect(scp).toEqual(
      expect.arrayContaining(['tableau:views:download', 'tableau:content:read', 'tableau:workbooks:read']),
    );
    expect(jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims[1]?.payload['jti']).not.toBe(jti);
    const log = lines.join('\n');
    for (const jwt of jwts) expect(log).not.toContain(jwt);
    expect(log).not.toContain(secretValue);
  });

  it('signs in again once on 401002 and retries the request with the new token', async () => {
    const { source, signal, logger } = setup();
    const seen: string[] = [];
    nock(SERVER)
      .get('/api/2.4/serverInfo')
      .reply(200, serverInfo('3.21'), XML)
      .post('/api/3.21/auth/signin')
      .reply(200, signInXml('first-token-aaaa'), XML)
      .post('/api/3.21/auth/signin')
      .reply(200, signInXml('second-token-bbbb'), XML);
    nock(SERVER)
      .get(`/api/3.21/sites/${SITE_ID}/views/v1`)
      .times(2)
      .reply(function () {
        const token = String(this.req.headers['x-tableau-auth']);
        seen.push(token);
        return token === 'first-token-aaaa'
          ? [
              401,
              '<tsResponse xmlns="http://tableau.com/api"><error code="401002"><summary>Unauthorized Access</summary><detail>Invalid authentication credentials were provided.</detail></error></tsResponse>',
              XML,
            ]
          : [
              404,
              '<tsResponse xmlns="http://tableau.com/api"><error code="404011"><summary>Not Found</summary><detail>View not found</detail></error></tsResponse>',
              XML,
            ];
      })
      .post('/api/3.21/auth/signout')
      .matchHeader('x-tableau-auth', 'second-token-bbbb')
      .reply(204);
    const session = await source.open({ logger, signal });
    const err = await session.fetchView(view({ viewId: 'v1' }), { logger, signal, tempDir }).catch((e: unknown) => e);
    await session.close();
    expect(seen).toEqual(['first-token-aaaa', 'second-token-bbbb']);
    expect(err).toMatchObject({ code: 'TABLEAU_VIEW_NOT_FOUND' });
    expect((err as AppError).userMessage).toContain('run `tableau-export views --site Samples`');
    expect(nock.isDone()).toBe(true);
  });

  it('honours Retry-After on a 429 HTML page and retries; never retries a 404', async () => {
    const { source, signal, logger, sleeps } = setup();
    signedIn();
    nock(SERVER)
      .get(`/api/3.21/sites/${SITE_ID}/views/v1`)
      .reply(429, '<html><body>Too Many Requests</body></html>', { 'Content-Type': 'text/html', 'Retry-After': '7' })
      .get(`/api/3.21/sites/${SITE_ID}/views/v1`)
      .reply(
        404,
        '<tsResponse xmlns="http://tableau.com/api"><error code="404011"><summary>Not Found</summary><detail>no</detail></error></tsResponse>',
        XML,
      )
      .post('/api/3.21/auth/signout')
      .reply(
        401,
        '<tsResponse xmlns="http://tableau.com/api"><error code="401002"><summary>Unauthorized Access</summary><detail>x</detail></error></tsResponse>',
        XML,
      );
    const session = await source.open({ logger, signal });
    await expect(session.fetchView(view({ viewId: 'v1' }), { logger, signal, tempDir })).rejects.toMatchObject({
      code: 'TABLEAU_VIEW_NOT_FOUND',
    });
    // Sign-out answered 401 (session already gone): close() still resolves.
    await expect(session.close()).resolves.toBeUndefined();
    expect(sleeps).toEqual([7000]);
    expect(nock.isDone()).toBe(true);
  });

  it('fails with the proxy page in the error after the retry cap, and still signs out', async () => {
    const { source, signal, logger, sleeps } = setup();
    signedIn();
    const page =
      '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>';
    nock(SERVER)
      .get(`/api/3.21/sites/${SITE_ID}/views/v1`)
      .times(3)
      .reply(502, page, { 'Content-Type': 'text/html' })
      .post('/api/3.21/auth/signout')
      .reply(204);
    const session = await source.open({ logger, signal });
    const err = await session.fetchView(view({ viewId: 'v1' }), { logger, signal, tempDir }).catch((e: unknown) => e);
    await session.close();
    expect(err).toMatchObject({ code: 'TABLEAU_SERVER_ERROR', retryable: true });
    expect((err as Error).message).toContain('HTTP 502; non-XML body: <html><head><title>502 Bad Gateway</title>');
    expect(sleeps).toHaveLength(2);
    expect(nock.isDone()).toBe(true);
  });

  it('resolves workbook + view names, failing clearly on ambiguity and succeeding with a project', async () => {
    const { source, signal, logger } = setup();
    signedIn();
    const api = nock(SERVER).persist();
    api
      .get(`/api/3.21/sites/${SITE_ID}/workbooks`)
      .query(true)
      .reply(200, fixture('request_option_filter_equals.xml'), XML);
    api.get(/\/workbooks\/[^/]+\/views$/).reply(200, fixture('workbook_populate_views.xml'), XML);
    api
      .get(/\/views\/0599c28c-6d82-457e-a453-e52c1bdb00f5\/data/)
      .reply(200, 'Country,Rate\r\nFrance,1.5%\r\n', { 'Content-Type': 'text/csv' });
    api.post('/api/3.21/auth/signout').reply(204);
    const session = await source.open({ logger, signal });
    const ambiguous = await session
      .fetchView(view({ workbook: 'RESTAPISample', view: 'Interest rates' }), { logger, signal, tempDir })
      .catch((e: unknown) => e);
    expect(ambiguous).toMatchObject({ code: 'TABLEAU_VIEW_AMBIGUOUS' });
    expect((ambiguous as AppError).message).toMatch(/matches 2 views.*project 'Tableau'.*project 'default'/);
    expect((ambiguous as AppError).hint).toContain('add `project`');

    const missing = await session
      .fetchView(view({ workbook: 'RESTAPISample', project: 'default', view: 'Opportunities' }), {
        logger,
        signal,
        tempDir,
      })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'TABLEAU_VIEW_NOT_FOUND' });
    expect((missing as AppError).message).toContain("candidates: 'Country ranks', 'GDP per capita', 'Interest rates'");

    const table = await session.fetchView(
      view({ workbook: 'RESTAPISample', project: 'default', view: 'Interest rates' }),
      { logger, signal, tempDir },
    );
    expect(table.provenance['project']).toBe('default');
    await table.dispose();
    await session.close();
  });

  it('says which version is needed when the server is too old', async () => {
    const { source, signal, logger } = setup();
    nock(SERVER)
      .get('/api/2.4/serverInfo')
      .reply(404, fixture('server_info_404.xml'), XML)
      .get('/auth')
      .query({ format: 'xml' })
      .reply(200, fixture('server_info_auth_info.xml'), XML);
    const err = await source.open({ logger, signal }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TABLEAU_SERVER_TOO_OLD' });
    expect((err as Error).message).toContain('personal access token sign-in needs Tableau REST API 3.6 or later');
    expect((err as Error).message).toContain('API 2.2');
    expect(nock.isDone()).toBe(true);
  });

  it('rejects connected-app sign-in on a server older than API 3.17', async () => {
    const { source, signal, logger } = setup({
      auth: { type: 'connected-app', clientId: 'c', secretId: 's', secretValue: 'vvvvvv', username: 'u' },
    });
    nock(SERVER).get('/api/2.4/serverInfo').reply(200, fixture('server_info_get.xml'), XML);
    await expect(source.open({ logger, signal })).rejects.toThrow(
      /connected-app \(JWT\) sign-in needs Tableau REST API 3\.17/,
    );
  });

  it('maps 401001 at sign-in to a hint about the PAT env vars', async () => {
    const { source, signal, logger } = setup();
    nock(SERVER)
      .get('/api/2.4/serverInfo')
      .reply(200, serverInfo('3.21'), XML)
      .post('/api/3.21/auth/signin')
      .reply(401, fixture('auth_sign_in_error.xml'), XML);
    const err = await source.open({ logger, signal }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TABLEAU_AUTH_FAILED', retryable: false });
    expect((err as AppError).hint).toContain("personal access token 'export-bot'");
    expect((err as AppError).hint).toContain('tokenSecretEnv');
    expect(nock.isDone()).toBe(true);
  });

  it('fails before any request when tableau.caFile is not a PEM certificate, naming the file', async () => {
    const caFile = join(tempDir, 'server.cer');
    await writeFile(caFile, 'this is not a certificate');
    const { source, signal, logger } = setup({ caFile });
    const err = await source.open({ logger, signal }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'TABLEAU_CA_FILE',
      message: expect.stringContaining(`tableau.caFile '${caFile}' is not a PEM certificate file`),
    });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('registers the session token and each JWT as transient secrets, never as permanent ones', async () => {
    const { source, signal, logger, redactor } = setup({
      auth: {
        type: 'connected-app',
        clientId: 'client-1',
        secretId: 'secret-1',
        secretValue: 'connected-app-secret-value',
        username: 'ops@example.com',
      },
    });
    const added = vi.spyOn(redactor, 'addSecret');
    signedIn();
    nock(SERVER).post('/api/3.21/auth/signout').reply(204);
    await (await source.open({ logger, signal })).close();
    expect(added).toHaveBeenCalledWith(TOKEN, { transient: true });
    expect(added).toHaveBeenCalledWith(expect.stringMatching(/^eyJ/), { transient: true });
    expect(added.mock.calls.filter(([, opts]) => opts?.transient !== true)).toEqual([]);
  });

  it('uses the pinned apiVersion instead of the server maximum', async () => {
    const { source, signal, logger } = setup({ apiVersion: '3.19' });
    nock(SERVER)
      .get('/api/2.4/serverInfo')
      .reply(200, serverInfo('3.24'), XML)
      .post('/api/3.19/auth/signin')
      .reply(200, signInXml(TOKEN), XML)
      .post('/api/3.19/auth/signout')
      .reply(204);
    await (await source.open({ logger, signal })).close();
    expect(nock.isDone()).toBe(true);
  });
});
