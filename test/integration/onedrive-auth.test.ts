import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  createGraphAuth,
  createGraphAuthRegistry,
  type GraphAuthOptions,
} from '../../src/destinations/onedrive/index.js';
import { createGraphApi } from '../../src/destinations/onedrive/graph-api.js';
import { createHttpsTransport } from '../../src/destinations/onedrive/https-transport.js';
import { createSilentLogger } from '../../src/shared/logger.js';
import { createRedactor } from '../../src/shared/redact.js';
import { startGraphSimulator, type GraphSimulator } from '../../src/simulators/graph/index.js';

const TENANT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';

interface TestCert {
  readonly cert: string;
  readonly privateKey: string;
  readonly sha256: string;
  readonly sha1: string;
}

async function makeCert(cn: string): Promise<TestCert> {
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
  });
  const x = new X509Certificate(pems.cert);
  return {
    cert: pems.cert,
    privateKey: pems.private,
    sha256: x.fingerprint256.replace(/:/g, ''),
    sha1: x.fingerprint.replace(/:/g, ''),
  };
}

describe('Graph sign-in (msal-node) against the simulator authority', () => {
  let sim: GraphSimulator;
  let dir: string;
  let appCert: TestCert;
  let otherCert: TestCert;
  const deps = () => ({ logger: createSilentLogger(), redactor: createRedactor() });
  const base = (): Omit<GraphAuthOptions, 'credential' | 'clientId'> => ({
    tenantId: TENANT,
    authorityHost: sim.authorityHost,
    graphBaseUrl: sim.graphBaseUrl,
    caFile: sim.caFile,
  });

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    dir = await mkdtemp(join(tmpdir(), 'onedrive-auth-'));
    [appCert, otherCert] = await Promise.all([makeCert('export-app'), makeCert('someone-else')]);
    sim = await startGraphSimulator({
      storageDir: dir,
      tenantId: TENANT,
      clients: [
        { clientId: 'secret-app', clientSecret: 'correct-horse-battery' },
        { clientId: 'cert-app', certificatePem: appCert.cert },
      ],
    });
  });
  afterAll(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
    nock.enableNetConnect();
  });

  it('gets a token with a client secret, then serves it from the cache until forced', async () => {
    const auth = createGraphAuth(
      { ...base(), clientId: 'secret-app', credential: { clientSecret: 'correct-horse-battery' } },
      deps(),
    );
    const issued = sim.stats.tokensIssued;
    const first = await auth.getAccessToken();
    expect(first.split('.')).toHaveLength(3);
    expect(await auth.getAccessToken()).toBe(first);
    expect(sim.stats.tokensIssued).toBe(issued + 1);
    const fresh = await auth.getAccessToken({ forceRefresh: true });
    expect(fresh).not.toBe(first);
    expect(sim.stats.tokensIssued).toBe(issued + 2);
  });

  it.each([
    ['SHA-256 thumbprint (PS256)', (c: TestCert) => ({ privateKey: c.privateKey, thumbprintSha256: c.sha256 })],
    ['SHA-1 thumbprint (RS256, deprecated)', (c: TestCert) => ({ privateKey: c.privateKey, thumbprint: c.sha1 })],
    [
      'SHA-256 thumbprint with x5c',
      (c: TestCert) => ({ privateKey: c.privateKey, thumbprintSha256: c.sha256, x5c: c.cert }),
    ],
  ])('gets a token with a certificate: %s', async (_label, credential) => {
    const auth = createGraphAuth(
      { ...base(), clientId: 'cert-app', credential: { certificate: credential(appCert) } },
      deps(),
    );
    expect((await auth.getAccessToken()).split('.')).toHaveLength(3);
  });

  it('refuses an assertion signed by a certificate the app does not have', async () => {
    const auth = createGraphAuth(
      {
        ...base(),
        clientId: 'cert-app',
        credential: { certificate: { privateKey: otherCert.privateKey, thumbprintSha256: appCert.sha256 } },
      },
      deps(),
    );
    await expect(auth.getAccessToken()).rejects.toMatchObject({
      code: 'ONEDRIVE_AUTH_FAILED',
      message: expect.stringContaining('AADSTS700027'),
    });
  });

  it('reports a wrong secret with the fix and without the secret', async () => {
    const error = await createGraphAuth(
      { ...base(), clientId: 'secret-app', credential: { clientSecret: 'wrong-horse-battery' } },
      deps(),
    )
      .getAccessToken()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ONEDRIVE_AUTH_FAILED', message: expect.stringContaining('AADSTS7000215') });
    const e = error as { userMessage: string };
    expect(e.userMessage).toContain('client secret');
    expect(e.userMessage).not.toContain('wrong-horse-battery');
  });

  it('reports an unknown client and an unknown tenant', async () => {
    await expect(
      createGraphAuth(
        { ...base(), clientId: 'nobody', credential: { clientSecret: 'x-y-z-w' } },
        deps(),
      ).getAccessToken(),
    ).rejects.toMatchObject({ code: 'ONEDRIVE_AUTH_FAILED', message: expect.stringContaining('AADSTS700016') });
    await expect(
      createGraphAuth(
        {
          ...base(),
          tenantId: 'other-tenant',
          clientId: 'secret-app',
          credential: { clientSecret: 'correct-horse-battery' },
        },
        deps(),
      ).getAccessToken(),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^ONEDRIVE_AUTH_/) });
  });

  it('does not trust the simulator without caFile (TLS), and says how to fix it', async () => {
    const { caFile: _omit, ...noCa } = base();
    const error = await createGraphAuth(
      { ...noCa, clientId: 'secret-app', credential: { clientSecret: 'correct-horse-battery' } },
      deps(),
    )
      .getAccessToken()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ONEDRIVE_AUTH_UNREACHABLE', hint: expect.stringContaining('caFile') });
  });

  it('fails clearly when caFile cannot be read', async () => {
    await expect(
      createGraphAuth(
        {
          ...base(),
          caFile: join(dir, 'missing.pem'),
          clientId: 'secret-app',
          credential: { clientSecret: 'correct-horse-battery' },
        },
        deps(),
      ).getAccessToken(),
    ).rejects.toMatchObject({ code: 'ONEDRIVE_CA_FILE', message: expect.stringContaining('missing.pem') });
  });

  it('a 429 from the token endpoint is a wait, not bad credentials: MSAL refuses for a while, the Graph call retries', async () => {
    const auth = createGraphAuth(
      { ...base(), clientId: 'secret-app', credential: { clientSecret: 'correct-horse-battery' } },
      deps(),
    );
    sim.faults.throttle({ ops: ['token'], status: 429, retryAfter: '60', times: 1 });
    const first = await auth.getAccessToken().catch((e: unknown) => e);
    expect(first).toMatchObject({
      code: 'ONEDRIVE_AUTH_THROTTLED',
      retryable: true,
      details: { retryAfterMs: 61_000 },
    });
    // MSAL now answers from its throttle cache (a ServerError with no code and no text) without asking the server:
    // still a wait, never "check your credentials".
    const refused = await auth.getAccessToken().catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'ONEDRIVE_AUTH_THROTTLED', retryable: true });
    expect((refused as Error).message).toMatch(/asked to wait/);

    // Through the Graph client: the retry waits out the 60 s MSAL refuses for (msal-node never sees a Retry-After,
    // as it looks the header up in the wrong case), then asks again and the call succeeds. The wait is played on a
    // fake Date (MSAL's throttle clock), in the same process as the simulator.
    vi.useFakeTimers({ toFake: ['Date'] });
    const throttled = createGraphAuth(
      { ...base(), clientId: 'secret-app', credential: { clientSecret: 'correct-horse-battery' } },
      deps(),
    );
    sim.faults.throttle({ ops: ['token'], status: 429, retryAfter: '60', times: 1 });
    const sleeps: number[] = [];
    const graph = createGraphApi({
      auth: throttled,
      transport: createHttpsTransport({ caFile: sim.caFile }),
      logger: createSilentLogger(),
      clock: { now: () => new Date() },
      sleep: (ms) => {
        sleeps.push(ms);
        vi.setSystemTime(Date.now() + ms);
        return Promise.resolve();
      },
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100, maxRetryAfterMs: 300_000, maxTotalMs: 300_000 },
    });
    const drive = await graph
      .call({
        operation: 'find the drive',
        method: 'GET',
        path: '/users/ops@contoso.com/drive',
        schema: z.object({ id: z.string() }),
      })
      .finally(() => vi.useRealTimers());
    expect(drive.id).toBeTruthy();
    expect(sleeps).toEqual([61_000]);
  });

  it('shares one token provider per app registration through the registry', () => {
    const registry = createGraphAuthRegistry(deps());
    const options = { ...base(), clientId: 'secret-app', credential: { clientSecret: 'correct-horse-battery' } };
    expect(registry.get(options)).toBe(registry.get({ ...options }));
    expect(registry.get({ ...options, clientId: 'cert-app' })).not.toBe(registry.get(options));
  });
});
