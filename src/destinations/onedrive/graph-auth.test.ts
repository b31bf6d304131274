import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../shared/logger.js';
import { createRedactor, type AddSecretOptions } from '../../shared/redact.js';
import { startGraphSimulator, type GraphSimulator } from '../../simulators/graph/index.js';
import { createGraphAuth } from './graph-auth.js';

const TENANT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';

describe('createGraphAuth and the redactor (loopback Graph simulator)', () => {
  let sim: GraphSimulator;
  let dir: string;
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    dir = await mkdtemp(join(tmpdir(), 'graph-auth-'));
    sim = await startGraphSimulator({
      storageDir: dir,
      tenantId: TENANT,
      clients: [{ clientId: 'secret-app', clientSecret: 'correct-horse-battery' }],
    });
  });
  afterAll(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
    nock.enableNetConnect();
  });

  it('keeps the client secret as a permanent secret and each access token as a transient one', async () => {
    const redactor = createRedactor();
    const added: [string | undefined, AddSecretOptions | undefined][] = [];
    const addSecret = redactor.addSecret;
    redactor.addSecret = (value, options) => {
      added.push([value, options]);
      addSecret(value, options);
    };
    const auth = createGraphAuth(
      {
        tenantId: TENANT,
        clientId: 'secret-app',
        credential: { clientSecret: 'correct-horse-battery' },
        authorityHost: sim.authorityHost,
        graphBaseUrl: sim.graphBaseUrl,
        caFile: sim.caFile,
      },
      { logger: createSilentLogger(), redactor },
    );
    const token = await auth.getAccessToken();
    expect(added).toEqual([
      ['correct-horse-battery', undefined],
      [token, { transient: true }],
    ]);
    expect(redactor.redact(`token ${token}`)).not.toContain(token);
  });
});
