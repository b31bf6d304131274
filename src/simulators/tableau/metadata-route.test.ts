import { readFile } from 'node:fs/promises';
import https from 'node:https';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realSleep } from '../../shared/clock.js';
import { createSilentLogger } from '../../shared/logger.js';
import { createRedactor } from '../../shared/redact.js';
import { createTableauSource } from '../../sources/tableau/tableau-source.js';
import type { SourceSession } from '../../contracts/ports.js';
import { startTableauSimulator, type TableauSimulator } from './tableau-simulator.js';

let sim: TableauSimulator;
let source: ReturnType<typeof createTableauSource>;
let session: SourceSession;
let token: string;
let ca: string;

beforeAll(async () => {
  nock.enableNetConnect('127.0.0.1');
  sim = await startTableauSimulator({ rowCount: 5 });
  ca = await readFile(sim.caFile, 'utf8');
  source = createTableauSource(
    {
      serverUrl: sim.url,
      site: 'sales',
      apiVersion: 'auto',
      auth: { type: 'pat', tokenName: 'export-bot', tokenSecret: 'pat-secret-0123456789' },
      caFile: sim.caFile,
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 1 },
    },
    { logger: createSilentLogger(), redactor: createRedactor(), clock: { now: () => new Date() }, sleep: realSleep },
  );
  session = await source.open({ logger: createSilentLogger(), signal: new AbortController().signal });
  token = sim.issuedTokens().at(-1) ?? '';
});
afterAll(async () => {
  await session.close();
  await sim.close();
});

/** A raw Metadata API call, as any GraphQL client would send it. */
function post(body: unknown, auth = token): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${sim.url}/api/metadata/graphql`,
      {
        method: 'POST',
        ca,
        headers: { 'Content-Type': 'application/json', ...(auth === '' ? {} : { 'X-Tableau-Auth': auth }) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            json: res.headers['content-type']?.includes('json') ? JSON.parse(text) : text,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const ctx = { logger: createSilentLogger(), signal: new AbortController().signal };

describe('the simulated Metadata API', () => {
  it("lists a dashboard's sheets in its order, the hidden one with an empty luid", async () => {
    const workbook = sim.workbooks.find((w) => w.name === 'Sales Pipeline');
    const { status, json } = await post({
      query:
        'query q($luid: String!) { workbooks(filter: { luid: $luid }) { name dashboards { name luid sheets { name luid } } } }',
      variables: { luid: workbook?.id },
    });
    expect(status).toBe(200);
    const sheets = (json as { data: { workbooks: { dashboards: { sheets: { name: string; luid: string }[] }[] }[] } })
      .data.workbooks[0]?.dashboards[0]?.sheets;
    expect(sheets?.map((s) => [s.name, s.luid === ''])).toEqual([
      ['Pipeline by Stage', false],
      ['Rep Performance', false],
      ['Stage Targets', true],
      ['Opportunities', false],
    ]);
  });

  it('answers GraphQL errors with HTTP 200 and errors[].extensions.code; refuses a request without a session', async () => {
    const invalid = await post({ query: '{ flows { name } }', variables: {} });
    expect(invalid.status).toBe(200);
    expect(invalid.json).toMatchObject({ data: null, errors: [{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
    expect((await post({ query: '{ workbooks { name } }' }, '')).status).toBe(401);
  });

  it('can be disabled, as on a Tableau Server where nobody enabled it; the client then falls back', async () => {
    sim.setMetadataApi(false);
    try {
      const { status, json } = await post({
        query: 'query q($luid: String!) { workbooks(filter: { luid: $luid }) { name } }',
        variables: { luid: 'x' },
      });
      expect(status).toBe(200);
      expect(json).toMatchObject({
        errors: [
          { message: expect.stringMatching(/^Metadata API is disabled/), extensions: { code: 'FEATURE_DISABLED' } },
        ],
      });
      const found = await session.listDashboardSheets?.({ workbook: 'Sales Pipeline', name: 'Pipeline Overview' }, ctx);
      expect(found?.via).toBe('workbook-views');
      expect(
        await session.readFreshness?.(
          { workbook: 'Sales Pipeline', view: 'Opportunities', filters: {}, parameters: {}, maxAgeMinutes: 1 },
          ctx,
        ),
      ).toMatchObject({
        kind: 'unknown',
        reason: expect.stringContaining('Metadata API is disabled'),
      });
    } finally {
      sim.setMetadataApi(true);
    }
  });

  it('reports the extract refresh time it was given, and live connections without one', async () => {
    sim.setExtractRefreshedAt(new Date('2026-11-30T03:00:00Z'));
    // A new run's session: a session keeps what it read of a workbook's data age (the disabled API's, above).
    await session.close();
    session = await source.open(ctx);
    const view = { filters: {}, parameters: {}, maxAgeMinutes: 1 };
    expect(await session.readFreshness?.({ ...view, workbook: 'Sales Pipeline', view: 'Opportunities' }, ctx)).toEqual({
      kind: 'extract',
      refreshedAt: '2026-11-30T03:00:00.000Z',
      datasource: 'Sales Pipeline (extract)',
    });
    expect(
      await session.readFreshness?.({ ...view, workbook: 'Marketing Funnel', view: 'Leads by Source' }, ctx),
    ).toEqual({
      kind: 'live',
      datasources: ['Marketing Leads (live)'],
    });
  });
});
