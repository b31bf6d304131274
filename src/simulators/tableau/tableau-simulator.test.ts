import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realSleep } from '../../shared/clock.js';
import { createSilentLogger } from '../../shared/logger.js';
import { createRedactor } from '../../shared/redact.js';
import { createTableauSource } from '../../sources/tableau/tableau-source.js';
import { startTableauSimulator, type TableauSimulator } from './tableau-simulator.js';

let sim: TableauSimulator;
beforeAll(async () => {
  nock.enableNetConnect('127.0.0.1');
  sim = await startTableauSimulator({ rowCount: 5 });
});
afterAll(() => sim.close());

const app = {
  type: 'connected-app' as const,
  clientId: 'sim-client-id',
  secretId: 'sim-secret-id',
  secretValue: 'sim-connected-app-secret-value',
  username: 'ops@example.com',
};

function open(auth: typeof app, skewMs = 0) {
  const source = createTableauSource(
    {
      serverUrl: sim.url,
      site: 'sales',
      apiVersion: 'auto',
      auth,
      caFile: sim.caFile,
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 1 },
    },
    {
      logger: createSilentLogger(),
      redactor: createRedactor(),
      clock: { now: () => new Date(Date.now() + skewMs) },
      sleep: realSleep,
    },
  );
  return source.open({ logger: createSilentLogger(), signal: new AbortController().signal });
}

describe('simulator connected-app checks', () => {
  it('accepts a valid JWT', async () => {
    await (await open(app)).close();
  });

  it.each([
    ['a wrong secret value', { ...app, secretValue: 'not-the-secret' }, 0, /invalid JWT signature/],
    ['an unknown secret id (kid)', { ...app, secretId: 'other' }, 0, /CONNECTED_APP_NOT_FOUND/],
    ['an unknown user', { ...app, username: 'nobody@example.com' }, 0, /unknown user/],
    ['an expired JWT (clock 20 min behind)', app, -20 * 60_000, /JWT expired/],
    ['an exp too far ahead (clock 10 min fast)', app, 10 * 60_000, /more than 10 minutes ahead/],
  ])('rejects %s with 401001', async (_name, auth, skew, detail) => {
    const err = await open(auth, skew).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TABLEAU_AUTH_FAILED' });
    expect((err as Error).message).toMatch(detail);
  });
});
