import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryContext, FinishedFile } from '../../contracts/ports.js';
import { createSilentLogger } from '../../shared/logger.js';
import { createRedactor } from '../../shared/redact.js';
import type { GraphAuth } from './graph-auth.js';
import { createOneDriveDestination } from './onedrive-destination.js';

const GRAPH = 'https://graph.microsoft.com';
const auth: GraphAuth = {
  tenantId: 't',
  clientId: 'c',
  authorityHost: 'https://login.microsoftonline.com',
  graphBaseUrl: `${GRAPH}/v1.0`,
  getAccessToken: () => Promise.resolve('fake-access-token'),
};

describe('OneDrive destination: checking the committed item (Graph mocked with nock)', () => {
  let dir: string;
  let file: FinishedFile;
  beforeAll(async () => {
    nock.disableNetConnect();
    dir = await mkdtemp(join(tmpdir(), 'onedrive-dest-'));
    const path = join(dir, 'Sales.xlsx');
    await writeFile(path, Buffer.alloc(2_000, 1));
    file = { path, bytes: 2_000, suggestedName: 'Sales.xlsx' };
  });
  afterEach(() => nock.cleanAll());
  afterAll(async () => {
    nock.enableNetConnect();
    await rm(dir, { recursive: true, force: true });
  });

  const ctx = (): DeliveryContext => ({
    logger: createSilentLogger(),
    signal: new AbortController().signal,
    runStartedAt: new Date('2026-11-27T05:00:00Z'),
    timezone: 'Europe/Paris',
  });

  function destination(caFile?: string) {
    return createOneDriveDestination(
      {
        caFile,
        tenantId: 't',
        clientId: 'c',
        credential: { clientSecret: 'unused-secret' },
        authorityHost: auth.authorityHost,
        graphBaseUrl: auth.graphBaseUrl,
        drive: { driveId: 'b!x' },
        path: 'Reports/Sales.xlsx',
        retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 1_000 },
      },
      {
        logger: createSilentLogger(),
        redactor: createRedactor(),
        clock: { now: () => new Date() },
        sleep: () => Promise.resolve(),
        auth,
      },
    );
  }

  /** Drive and folder lookups, then the simple upload answering with `item`. */
  function graphAnswers(item: Record<string, unknown>): nock.Scope {
    return nock(GRAPH)
      .get('/v1.0/drives/b!x')
      .reply(200, { id: 'b!x' })
      .get('/v1.0/drives/b!x/root:/Reports:')
      .reply(200, { id: 'FOLDER', name: 'Reports', folder: {} })
      .put((uri) => uri.startsWith('/v1.0/drives/b!x/items/FOLDER:/Sales.xlsx:/content'))
      .reply(200, item);
  }

  it('reports a size changed by SharePoint (property promotion) as a warning, not as a failure after commit', async () => {
    const scope = graphAnswers({ id: 'ITEM', name: 'Sales.xlsx', size: 2_517, webUrl: 'https://contoso/x' });
    const result = await destination().deliver(file, ctx());
    expect(scope.isDone()).toBe(true);
    expect(result).toMatchObject({
      itemId: 'ITEM',
      location: 'drive b!x/Reports/Sales.xlsx',
      webUrl: 'https://contoso/x',
    });
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /'drive b!x\/Reports\/Sales\.xlsx' was replaced, but OneDrive reports 2517 bytes instead of 2000: .*property promotion/,
      ),
    ]);
  });

  it('accepts the same name in another casing without a warning', async () => {
    graphAnswers({ id: 'ITEM', name: 'sales.XLSX', size: 2_000 });
    const result = await destination().deliver(file, ctx());
    expect(result.warnings).toEqual([]);
  });

  it('fails when Graph answers with another item, saying the upload was committed (never that the previous file is intact)', async () => {
    graphAnswers({ id: 'OTHER', name: 'Sales (1).xlsx', size: 2_000 });
    const error = await destination()
      .deliver(file, ctx())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ONEDRIVE_VERIFY_FAILED', retryable: false, details: { itemId: 'OTHER' } });
    expect((error as Error).message).toContain(
      "was committed, but OneDrive answered with item 'Sales (1).xlsx' (id OTHER) instead of 'Sales.xlsx'",
    );
    expect((error as Error).message).not.toMatch(/unchanged|intact/);
  });

  it('fails before any request when onedrive.caFile is not a PEM certificate, naming the file', async () => {
    const caFile = join(dir, 'proxy.cer');
    await writeFile(caFile, 'not a certificate');
    const scope = graphAnswers({ id: 'ITEM', name: 'Sales.xlsx', size: 2_000 });
    await expect(destination(caFile).deliver(file, ctx())).rejects.toMatchObject({
      code: 'ONEDRIVE_CA_FILE',
      message: expect.stringContaining(`onedrive.caFile '${caFile}' is not a PEM certificate file`),
    });
    expect(scope.pendingMocks()).toHaveLength(3);
  });
});
